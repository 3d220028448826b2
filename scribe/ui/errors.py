"""The one place errors reach the desktop user: a single modal dialog with the error's one line.

Work functions raise `scribe.errors` kinds; tasks deliver them here. Cancellation is not an error and never shows a
dialog. Tests replace `present` with a recorder via `set_presenter` so nothing blocks in offscreen runs.
"""
from __future__ import annotations

import logging
from typing import Callable

from ..errors import CancelledError, ScribeError, StoreError
from .qt import QMessageBox, QWidget

__all__ = ["show_error", "set_presenter", "reset_presenter", "set_lock_probe"]

log = logging.getLogger("scribe.ui.errors")


def _dialog(parent: QWidget | None, title: str, text: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setAccessibleName("Error")
    box.exec()


_present: Callable[[QWidget | None, str, str], None] = _dialog


def set_presenter(fn: Callable[[QWidget | None, str, str], None]) -> None:
    global _present
    _present = fn


def reset_presenter() -> None:
    set_presenter(_dialog)


_is_locked: Callable[[], bool] = lambda: False


def set_lock_probe(fn: Callable[[], bool]) -> None:
    """The main window says whether the app is locked: work still in flight when the user (or the idle clock)
    locks fails with "the store is locked"; that is the lock doing its job, not an error to show."""
    global _is_locked
    _is_locked = fn


def show_error(parent: QWidget | None, err: BaseException, context: str = "") -> None:
    if isinstance(err, CancelledError):
        return
    if isinstance(err, StoreError) and "store is locked" in str(err) and _is_locked():
        log.info("error dropped after lock context=%s", context or "-")
        return
    if isinstance(err, ScribeError):
        line = err.one_line()
    else:  # a non-Scribe exception reached the UI: say so in one line, never its message (may hold PHI)
        line = f"unexpected error: {type(err).__name__}"
    log.info("error shown kind=%s context=%s", getattr(err, "kind", type(err).__name__), context or "-")
    title = context[:1].upper() + context[1:] if context else "Scribe"   # Qt appends "— Scribe" itself
    _present(parent, title, line[:1].upper() + line[1:])
