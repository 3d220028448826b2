"""Audio in: files (load, resample, mono), microphone capture, voice-activity detection."""
from __future__ import annotations

from .io import AudioData, SUPPORTED_FORMATS, TARGET_RATE, load_audio, resample, to_mono
from .vad import EnergyVad, VadOptions, speech_regions

__all__ = ["AudioData", "load_audio", "resample", "to_mono", "SUPPORTED_FORMATS", "TARGET_RATE", "EnergyVad",
           "VadOptions", "speech_regions"]
