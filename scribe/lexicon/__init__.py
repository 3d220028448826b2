"""Vocabulary for recognition and fact checks: common drug names, FDA UNII names, a user's own word list.

    from scribe.lexicon import is_drug, load_vocab, COMMON_DRUGS
"""
from __future__ import annotations

from .drugs import COMMON_DRUGS, is_drug, unii_words
from .vocab import MAX_ENTRIES, Vocab, load_vocab

__all__ = ["COMMON_DRUGS", "is_drug", "unii_words", "Vocab", "load_vocab", "MAX_ENTRIES"]
