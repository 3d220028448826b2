"""On-device speech recognition: Moonshine base-en through ONNX Runtime, segmentation, streaming.

    from scribe.asr import AsrEngine, transcribe_file
    transcript = transcribe_file("visit.wav", settings, on_segment=print)
"""
from __future__ import annotations

from .bias import BiasOptions, PrefixBias
from .correct import CorrectOptions, NearMissCorrector
from .engine import AsrEngine, get_engine, transcribe_file
from .moonshine import DecodeStats, MoonshineModel
from .segment import SegmentOptions, Window
from .tokenizer import Tokenizer
from .vocab import RecognitionVocab

__all__ = ["AsrEngine", "transcribe_file", "get_engine", "MoonshineModel", "DecodeStats", "SegmentOptions",
           "Window", "Tokenizer", "RecognitionVocab", "BiasOptions", "PrefixBias", "CorrectOptions",
           "NearMissCorrector"]
