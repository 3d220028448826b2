"""Error kinds. Raised where a problem happens; shown once per face (cli: one line + exit code; ui: one dialog)."""
from __future__ import annotations

__all__ = [
    "ScribeError", "AudioError", "ModelError", "StoreError", "PassphraseError", "IntegrityError",
    "TemplateError", "ConfigError", "NetworkBlockedError", "CancelledError", "InputError", "is_cancelled",
]


class ScribeError(Exception):
    """Base of every error the user may see. `str(e)` must be one line, free of PHI."""

    exit_code = 2
    kind = "error"

    def one_line(self) -> str:
        msg = " ".join(str(self).split())
        return f"{self.kind}: {msg}" if msg else self.kind


class InputError(ScribeError):
    kind = "input error"


class AudioError(ScribeError):
    kind = "audio error"


class ModelError(ScribeError):
    kind = "model error"


class StoreError(ScribeError):
    kind = "store error"


class PassphraseError(StoreError):
    kind = "wrong passphrase"


class IntegrityError(StoreError):
    kind = "integrity error"


class TemplateError(ScribeError):
    kind = "template error"


class ConfigError(ScribeError):
    kind = "config error"


class NetworkBlockedError(ScribeError, OSError):
    """Raised by the in-process network guard. Also an OSError so libraries treat it as a failed connect."""

    kind = "network blocked"


class CancelledError(ScribeError):
    kind = "cancelled"
    exit_code = 130


def is_cancelled(cancel) -> bool:
    """`cancel` may be None, a threading.Event (or anything with is_set), or a zero-argument callable."""
    if cancel is None:
        return False
    if hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())
