"""Moonshine's `tokenizer.bin`: a flat list of `[1-byte length][bytes]` records whose index is the token id.

Ids 0-2 are <unk>/<s>/</s>; ids 3-258 stand for raw bytes (`<0xNN>` byte fallback); `▁` (U+2581) marks a space.
A record of length 0 is an unused id. Decoding joins the bytes and then decodes UTF-8 once, so multi-byte
characters split over byte tokens come out whole.
"""
from __future__ import annotations

from pathlib import Path
import re
from typing import Iterable

from ..errors import ModelError

__all__ = ["Tokenizer", "encode", "UNK_ID", "BOS_ID", "EOS_ID"]

UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
_BYTE_BASE = 3          # ids 3..258 are the bytes 0x00..0xFF
_SPACE = "\u2581".encode("utf-8")


class Tokenizer:
    def __init__(self, pieces: list[bytes]):
        self.pieces = pieces
        # Precompute each id's decoded bytes so decode() is a join, not per-token branching.
        table: list[bytes] = []
        for i, p in enumerate(pieces):
            if i < _BYTE_BASE:
                table.append(b"")
            elif i < _BYTE_BASE + 256:
                table.append(bytes([i - _BYTE_BASE]))
            else:
                table.append(p.replace(_SPACE, b" "))
        self._bytes = table

    @classmethod
    def load(cls, path: Path) -> "Tokenizer":
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise ModelError(f"cannot read tokenizer {path}: {e.strerror}") from None
        return cls.from_bytes(data, str(path))

    @classmethod
    def from_bytes(cls, data: bytes, path: str = "tokenizer.bin") -> "Tokenizer":
        pieces: list[bytes] = []
        i, n = 0, len(data)
        while i < n:
            ln = data[i]
            if i + 1 + ln > n:
                raise ModelError(f"tokenizer {path} is truncated at byte {i}")
            pieces.append(data[i + 1:i + 1 + ln])
            i += 1 + ln
        if len(pieces) < _BYTE_BASE + 256:
            raise ModelError(f"tokenizer {path} has only {len(pieces)} tokens")
        return cls(pieces)

    def __len__(self) -> int:
        return len(self.pieces)

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        t = self._bytes
        return b"".join(t[i] for i in ids if 0 <= i < len(t))

    def decode(self, ids: Iterable[int]) -> str:
        # Leading space comes from the first word's ▁; strip it, keep inner spacing as the model wrote it.
        # errors="ignore": a character cut off by the token limit must not show up as U+FFFD
        return self.decode_bytes(ids).decode("utf-8", errors="ignore").strip()


def _bpe_index(pieces: list[bytes]) -> dict[bytes, int]:
    return {p: i for i, p in enumerate(pieces) if i >= _BYTE_BASE + 256 and p}


def encode(tok: Tokenizer, text: str) -> list[int]:
    """Text → ids as SentencePiece BPE would split it (training targets for adapting the decoder).

    tokenizer.bin keeps no merge table, but a SentencePiece BPE vocabulary is numbered in merge order, so merging
    the adjacent pair whose joined piece has the lowest id reproduces the model's own segmentation (checked against
    the decoder's outputs in tests/test_asr_adapt.py). Characters with no piece fall back to byte tokens."""
    index = getattr(tok, "_index", None)
    if index is None:
        index = tok._index = _bpe_index(tok.pieces)
    ids: list[int] = []
    for word in re.split(r"(?= )", " ".join(text.split())):
        if not word:
            continue
        parts = [c.encode("utf-8") for c in ("\u2581" + word.lstrip(" "))]
        while len(parts) > 1:
            best, at = None, -1
            for j in range(len(parts) - 1):
                k = index.get(parts[j] + parts[j + 1])
                if k is not None and (best is None or k < best):
                    best, at = k, j
            if best is None:
                break
            parts[at:at + 2] = [parts[at] + parts[at + 1]]
        for p in parts:
            k = index.get(p)
            ids.extend([k] if k is not None else [_BYTE_BASE + b for b in p])
    return ids
