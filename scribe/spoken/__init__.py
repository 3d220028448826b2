"""Spoken clinical language as written text: numbers, doses, frequencies, dates (shared by ASR display and facts).

    from scribe.spoken import normalize_transcript, normalize_numbers
    normalize_transcript("ibuprofen four hundred milligrams b i d")   # 'ibuprofen 400 mg BID'
"""
from __future__ import annotations

from .numbers import canon_number, normalize_numbers, number_values

__all__ = ["normalize_numbers", "number_values", "canon_number"]
