"""Passphrase → 256-bit key, derived here rather than by SQLCipher, so that the same key also authenticates files
that live outside the database (the commit anchor) and so that no passphrase is ever interpreted by SQLCipher.

SQLCipher reads a passphrase shaped like `x'<64 hex>'` as a raw key; deriving ourselves removes that trap, since
SQLCipher is only ever given `x'<key>'` (or `x'<key><salt>'` when creating). The derivation is SQLCipher 4's own
(PBKDF2-HMAC-SHA512, the file's 16-byte salt, 32 bytes), so stores made before this change open unchanged.
Passphrases are NFC-normalised: the same passphrase typed on two keyboards (precomposed é vs e + U+0301) gives
the same key.
"""
from __future__ import annotations

import hashlib
import hmac
import unicodedata

from ..errors import PassphraseError, StoreError

__all__ = ["normalise", "derive", "candidates", "key_sql", "subkey"]


def normalise(passphrase: str | None) -> str:
    """The passphrase as it is keyed: NFC. Empty, all-whitespace and NUL-containing passphrases are refused."""
    p = unicodedata.normalize("NFC", passphrase or "")
    if not p or not p.strip():
        raise PassphraseError("an empty or all-space passphrase is not allowed")
    if "\x00" in p:
        raise PassphraseError("the passphrase contains a NUL character")
    return p


def derive(passphrase: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", passphrase.encode("utf-8"), salt, int(iterations), 32)


def candidates(passphrase: str | None, salt: bytes, iterations: int) -> list[bytes]:
    """Keys to try for an existing store: the NFC form first, then (for stores keyed before normalisation) the
    passphrase exactly as typed, if it differs. A new store is only ever keyed with the NFC form."""
    nfc = normalise(passphrase)
    keys = [derive(nfc, salt, iterations)]
    raw = passphrase or ""
    if raw != nfc and "\x00" not in raw:
        keys.append(derive(raw, salt, iterations))
    return keys


def key_sql(key: bytes, salt: bytes | None = None) -> str:
    """The PRAGMA key/rekey argument for a raw key (with the salt only when creating a file)."""
    if len(key) != 32 or (salt is not None and len(salt) != 16):
        raise StoreError("raw key must be 32 bytes (salt 16)")
    return f"\"x'{key.hex()}{salt.hex() if salt else ''}'\""


def subkey(key: bytes, label: str) -> bytes:
    """An independent key for one purpose (HMAC-SHA256 of a label): knowing it reveals nothing of the store key."""
    return hmac.new(key, ("scribe/" + label).encode(), hashlib.sha256).digest()
