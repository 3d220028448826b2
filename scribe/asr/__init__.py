"""On-device speech recognition: Moonshine base-en through ONNX Runtime, segmentation, streaming."""
from __future__ import annotations

from .moonshine import DecodeStats, MoonshineModel
from .tokenizer import Tokenizer

__all__ = ["MoonshineModel", "DecodeStats", "Tokenizer"]
