"""Idle watcher: user input anywhere in the app counts as activity; after N idle minutes it asks to lock.

Running work (a dictation, a generation) also counts as activity: a clinician dictating hands-free for fifteen
minutes must not be locked out mid-sentence.
"""
from __future__ import annotations

import time
from typing import Callable

from .qt import QEvent, QObject, QTimer, Signal

__all__ = ["IdleWatcher"]

_INPUT = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel, QEvent.Type.MouseMove,
          QEvent.Type.TouchBegin, QEvent.Type.Shortcut}


class IdleWatcher(QObject):
    idle_timeout = Signal()

    def __init__(self, minutes: float, busy: Callable[[], bool], on_activity: Callable[[], None] | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.minutes = float(minutes)
        self.busy = busy
        self.on_activity = on_activity
        self.last = time.monotonic()
        self._last_touch = 0.0
        self.armed = False
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._check)

    def set_minutes(self, minutes: float) -> None:
        self.minutes = float(minutes)
        self._interval()

    def _interval(self) -> None:
        self.timer.setInterval(int(max(50, min(1000, self.minutes * 60_000 / 4))))

    def arm(self) -> None:
        self.armed = True
        self.last = time.monotonic()
        self._interval()
        self.timer.start()

    def disarm(self) -> None:
        self.armed = False
        self.timer.stop()

    def activity(self) -> None:
        now = time.monotonic()
        self.last = now
        if self.on_activity and now - self._last_touch > 5.0:
            self._last_touch = now
            self.on_activity()

    def eventFilter(self, obj, ev) -> bool:
        if self.armed and ev.type() in _INPUT:
            self.activity()
        return False

    def idle_seconds(self) -> float:
        return time.monotonic() - self.last

    def _check(self) -> None:
        if not self.armed:
            return
        if self.busy():
            self.activity()   # running work keeps the app's own idle lock from firing too
            return
        if self.idle_seconds() >= self.minutes * 60:
            self.disarm()
            self.idle_timeout.emit()
