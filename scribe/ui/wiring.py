"""Connecting buttons and actions to slots, the one way this UI does it.

Qt's `clicked(bool checked)` and `triggered(bool checked)` pass `checked` to any slot that accepts an argument;
PySide6 fills the slot's first optional parameter with it. `approve(signer=None)` received `False` and skipped its
dialog (issue 14: "Approve & sign…" and "Addendum…" failed on every click; only the shortcut worked). Every button
and action is therefore wired through `on_click` / `on_trigger`, which drop Qt's arguments and call the slot with
exactly the arguments given here. A test scans scribe/ui for any other `clicked.connect` / `triggered.connect`.
"""
from __future__ import annotations

from typing import Any, Callable

__all__ = ["on_click", "on_trigger"]


def on_click(button, slot: Callable[..., Any], *args: Any) -> None:
    """`slot(*args)` on every click of `button` (QAbstractButton), never with Qt's `checked` flag."""
    button.clicked.connect(lambda *_qt_args: slot(*args))


def on_trigger(action, slot: Callable[..., Any], *args: Any) -> None:
    """`slot(*args)` whenever `action` (QAction) is triggered, never with Qt's `checked` flag."""
    action.triggered.connect(lambda *_qt_args: slot(*args))
