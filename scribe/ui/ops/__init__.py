"""User actions as small op objects, one module per concern. `work(ctx)` is pure: it calls the use cases in
scribe/app.py, reports progress through `ctx.progress`, honours `ctx.cancel_event`, and returns plain data. No
widget is touched here, so every op also runs (and is tested) without a window.

Progress payloads are tuples `(kind, value)`: ("stage", str), ("segment", Segment), ("level", float),
("elapsed", float), ("token", str), ("tokens", int).

    base.py    Op, passphrase_strength
    views.py   NoteView / EncounterView and the adapters over app.py's return types
    store.py   create, unlock, lock, encounters, patient fields, settings, self-check
    audio.py   transcribe a file, dictation, playback, interrupted recordings
    notes.py   generate, edit, drafts, sign, addendum, history, export
    speakers.py  fix speaker labels, the clinician's voice enrolment
"""
from __future__ import annotations

from ...errors import AudioError, CancelledError, InputError, PassphraseError  # noqa: F401  (re-exported for the widgets)
from .audio import *  # noqa: F401,F403
from .audio import __all__ as _audio
from .base import *  # noqa: F401,F403
from .base import __all__ as _base
from .notes import *  # noqa: F401,F403
from .notes import __all__ as _notes
from .speakers import *  # noqa: F401,F403
from .speakers import __all__ as _speakers
from .store import *  # noqa: F401,F403
from .store import __all__ as _store
from .views import *  # noqa: F401,F403
from .views import __all__ as _views

__all__ = [*_base, *_views, *_store, *_audio, *_notes, *_speakers, "InputError", "AudioError", "CancelledError",
           "PassphraseError"]
