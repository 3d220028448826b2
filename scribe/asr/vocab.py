"""Recognition vocabulary: which words the decoder is nudged toward and which near misses are corrected.

    rv = RecognitionVocab.build(engine.model.tokenizer, user_words=load_vocab("practice.txt").words)
    rv.install(engine)          # engine.transcribe() now applies it to every window

The default method is chosen by measurement (bench/asr_meds.py; docs/decisions.md): see DEFAULT_METHOD.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .bias import BiasOptions, PrefixBias
from .correct import CorrectOptions, NearMissCorrector
from .tokenizer import Tokenizer

__all__ = ["RecognitionVocab", "DEFAULT_METHOD", "METHODS"]

METHODS = ("greedy", "bias", "correct", "bias+correct")
DEFAULT_METHOD = "bias+correct"


@dataclass
class RecognitionVocab:
    method: str = "greedy"
    words: list[str] = field(default_factory=list)
    bias: PrefixBias | None = None
    corrector: NearMissCorrector | None = None

    @classmethod
    def for_method(cls, method: str, tokenizer: Tokenizer, words: Iterable[str],
                   bias_options: BiasOptions | None = None,
                   correct_options: CorrectOptions | None = None) -> "RecognitionVocab":
        if method not in METHODS:
            raise ValueError(f"unknown vocabulary method {method!r}")
        from ..lexicon import unii_words
        words = sorted({w.lower() for w in words if w})
        return cls(method, words,
                   PrefixBias(tokenizer, words, bias_options) if "bias" in method else None,
                   NearMissCorrector(tokenizer, words, correct_options, keep=unii_words())
                   if "correct" in method else None)

    @classmethod
    def build(cls, tokenizer: Tokenizer, user_words: Iterable[str] = (), method: str = DEFAULT_METHOD,
              drugs: bool = True) -> "RecognitionVocab":
        """The shipped common drug names (unless drugs=False) plus a user's words."""
        from ..lexicon import COMMON_DRUGS
        return cls.for_method(method, tokenizer, list(COMMON_DRUGS if drugs else ()) + list(user_words))

    @classmethod
    def from_settings(cls, settings, tokenizer: Tokenizer) -> "RecognitionVocab":
        """settings.vocab_method (default DEFAULT_METHOD) over the drug names and settings.vocab_file's words."""
        from ..errors import ConfigError
        from ..lexicon import load_vocab
        method = getattr(settings, "vocab_method", "") or DEFAULT_METHOD
        if method not in METHODS:
            raise ConfigError(f"unknown vocabulary method {method!r} (choose from {', '.join(METHODS)})")
        path = getattr(settings, "vocab_file", "")
        return cls.build(tokenizer, load_vocab(path).words if path else (), method)

    def install(self, engine) -> None:
        engine.model.bias = self.bias
        engine.corrector = self.corrector
