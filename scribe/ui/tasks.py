"""Worker pool: heavy work (ASR, generation, key derivation, export) off the GUI thread.

A work function receives a `TaskContext` (progress callback + cancel flag) and returns a result; it never touches
a widget. Results, progress and errors come back to the GUI thread as Qt signals of a `Task` object that lives on
the GUI thread (cross-thread emits are queued by Qt, so slots always run on the GUI thread).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from ..errors import CancelledError, ScribeError
from .qt import QObject, QRunnable, QThreadPool, Signal

__all__ = ["TaskContext", "Task", "TaskRunner", "UnexpectedError"]

log = logging.getLogger("scribe.ui.tasks")


class UnexpectedError(ScribeError):
    """A bug or library failure surfaced to the user as one line; details go to the log (type only, no PHI)."""

    kind = "unexpected error"


class TaskContext:
    """What a work function may use: report progress, and notice cancellation."""

    def __init__(self, task: "Task"):
        self._task = task
        self.cancel_event = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check(self) -> None:
        if self.cancel_event.is_set():
            raise CancelledError("cancelled by the user")

    def progress(self, payload: Any) -> None:
        self._task.progress.emit(payload)


class Task(QObject):
    """Handle of one submitted job. Signals fire on the GUI thread; exactly one of done/failed/cancelled."""

    progress = Signal(object)
    done = Signal(object)
    failed = Signal(object)      # a ScribeError
    cancelled = Signal()
    finished = Signal()          # always, after the above

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self.ctx = TaskContext(self)
        self.started_at = 0.0
        self.seconds = 0.0
        self.running = False

    def cancel(self) -> None:
        self.ctx.cancel_event.set()


class _Runnable(QRunnable):
    def __init__(self, task: Task, fn: Callable[[TaskContext], Any]):
        super().__init__()
        self.setAutoDelete(True)
        self.task, self.fn = task, fn

    def run(self) -> None:  # worker thread
        t = self.task
        t.started_at = time.perf_counter()
        try:
            result = self.fn(t.ctx)
        except CancelledError:
            t.seconds = time.perf_counter() - t.started_at
            log.info("task=%s cancelled after %.2fs", t.name, t.seconds)
            t.cancelled.emit()
        except ScribeError as e:
            t.seconds = time.perf_counter() - t.started_at
            log.info("task=%s failed kind=%s after %.2fs", t.name, e.kind, t.seconds)
            t.failed.emit(e)
        except Exception as e:  # never let a worker die silently; the message may hold PHI, so log the type only
            t.seconds = time.perf_counter() - t.started_at
            log.error("task=%s crashed with %s", t.name, type(e).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
            t.failed.emit(UnexpectedError(f"{t.name} failed ({type(e).__name__}); see the log"))
        else:
            t.seconds = time.perf_counter() - t.started_at
            log.info("task=%s done in %.2fs", t.name, t.seconds)
            t.done.emit(result)
        t.finished.emit()


class TaskRunner(QObject):
    """A small pool (2 threads by default: one long job such as generation, one short one such as a save)."""

    busy_changed = Signal(int)   # number of running tasks

    def __init__(self, max_threads: int = 2, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max(1, max_threads))
        self._live: set[Task] = set()

    def submit(self, name: str, fn: Callable[[TaskContext], Any], *, on_done=None, on_error=None,
               on_progress=None, on_cancel=None) -> Task:
        task = Task(name, self)
        if on_progress:
            task.progress.connect(on_progress)
        if on_done:
            task.done.connect(on_done)
        if on_error:
            task.failed.connect(on_error)
        if on_cancel:
            task.cancelled.connect(on_cancel)
        task.finished.connect(lambda t=task: self._finish(t))
        self._live.add(task)  # keep the QObject alive until its signals have been delivered
        task.running = True
        self.busy_changed.emit(len(self._live))
        self.pool.start(_Runnable(task, fn))
        return task

    def _finish(self, task: Task) -> None:
        task.running = False
        self._live.discard(task)
        self.busy_changed.emit(len(self._live))
        task.deleteLater()

    @property
    def active(self) -> int:
        return len(self._live)

    def cancel_all(self) -> None:
        for t in list(self._live):
            t.cancel()

    def wait(self, msecs: int = -1) -> bool:
        return self.pool.waitForDone(msecs)
