"""Spoken clinical language as written text: numbers, doses, frequencies, dates (shared by ASR display and facts).

    from scribe.spoken import normalize_transcript, normalize_numbers
    normalize_transcript("ibuprofen four hundred milligrams b i d")   # 'ibuprofen 400 mg BID'
"""
from __future__ import annotations

from .clinical import fix_homophones, frequency_values, normalize_transcript, spoken_dates
from .numbers import canon_number, normalize_numbers, number_values

__all__ = ["normalize_numbers", "number_values", "canon_number", "normalize_transcript", "fix_homophones",
           "frequency_values", "spoken_dates"]
