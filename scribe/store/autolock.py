"""Idle auto-lock: after N idle minutes the store is closed and its key dropped; the UI then asks again.

A single daemon timer thread is re-armed by `touch()`; `on_expire` runs on that thread, so UI code must marshal
it to its own thread (a Qt signal does). minutes <= 0 disables the lock.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

__all__ = ["IdleLock"]


class IdleLock:
    def __init__(self, minutes: float, on_expire: Callable[[], None], clock: Callable[[], float] = time.monotonic):
        self.seconds = max(0.0, float(minutes) * 60.0)
        self._on_expire = on_expire
        self._clock = clock
        self._last = clock()
        self._cv = threading.Condition()
        self._stopped = True
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.seconds <= 0:
            return
        with self._cv:
            self._last = self._clock()
            if not self._stopped:
                return
            self._stopped = False
            self._thread = threading.Thread(target=self._run, name="scribe-autolock", daemon=True)
            self._thread.start()

    def touch(self) -> None:
        with self._cv:
            self._last = self._clock()

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=2.0)
        self._thread = None

    def remaining(self) -> float:
        with self._cv:
            return max(0.0, self.seconds - (self._clock() - self._last))

    def _run(self) -> None:
        while True:
            with self._cv:
                if self._stopped:
                    return
                left = self.seconds - (self._clock() - self._last)
                if left > 0:
                    self._cv.wait(timeout=min(left, 5.0))
                    continue
                self._stopped = True
            try:
                self._on_expire()
            finally:
                return
