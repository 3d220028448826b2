"""A user vocabulary file: extra words (clinician and practice names, local drugs) for recognition.

    words = load_vocab("practice.txt")     # -> Vocab(words=['drkowalski', ...], skipped=2)

One term per line, UTF-8; blank lines and `#` comments are ignored; a multi-word term adds each word. Junk lines
(control characters, no letters, longer than 40 characters) are skipped and counted rather than failing the whole
file: a clinician's list pasted from a spreadsheet should still work. Up to MAX_ENTRIES terms are read; a larger
file, a missing or unreadable one, or one that is not text is an InputError (one line at the CLI).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

__all__ = ["Vocab", "load_vocab", "MAX_ENTRIES"]

log = logging.getLogger("scribe.lexicon.vocab")

MAX_ENTRIES = 200_000          # 100k terms build in well under a second; beyond this is not a vocabulary
_MAX_BYTES = 16 * 1024 * 1024
_TERM = re.compile(r"[^\W\d_](?:[\w'-]*\w)?")


@dataclass
class Vocab:
    words: list[str] = field(default_factory=list)    # lower case, unique, in file order
    skipped: int = 0                                   # junk lines ignored


def load_vocab(path: str | Path) -> Vocab:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > _MAX_BYTES:
            raise InputError(f"vocabulary {p}: {size // (1024 * 1024)} MiB is too large (at most "
                             f"{_MAX_BYTES // (1024 * 1024)} MiB, {MAX_ENTRIES} terms)")
        data = p.read_bytes()
    except IsADirectoryError:
        raise InputError(f"vocabulary {p} is a directory, not a text file") from None
    except OSError as e:
        raise InputError(f"cannot read vocabulary {p}: {e.strerror or e}") from None
    if b"\0" in data:
        raise InputError(f"vocabulary {p} is not a text file (one term per line, UTF-8)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"vocabulary {p} is not UTF-8 text (bad byte at offset {e.start})") from None
    seen: dict[str, None] = {}
    vocab = Vocab()
    entries = 0
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        entries += 1
        if entries > MAX_ENTRIES:
            raise InputError(f"vocabulary {p} has more than {MAX_ENTRIES} terms")
        terms = _TERM.findall(line)
        if len(line) > 40 or not terms or any(ord(c) < 32 for c in line):
            vocab.skipped += 1
            continue
        for t in terms:
            seen.setdefault(t.lower(), None)
    vocab.words = list(seen)
    if vocab.skipped:
        log.warning("vocabulary %s: %d junk lines skipped", p, vocab.skipped)
    return vocab
