"""Note generation in a child process, so the GUI thread keeps its GIL.

Measured here (bench/ui.py, /tmp probe): onnxruntime-genai's Python binding holds the GIL while it loads a model
(~1.1 s) and during prefill/decode steps (worst gap 2.2 s on a warm 135M model), so a worker *thread* cannot keep
the window live during generation; ONNX Runtime's ASR sessions do release it (≤ 32 ms gaps), so ASR stays in
threads. The child is started once (spawn), installs the same network guard first, keeps the model loaded, and
streams tokens back over a pipe; cancellation is a shared Event that the generator polls. Qt-free.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import threading
import time
from typing import Any, Callable

from .. import errors as _errors
from ..errors import CancelledError, ModelError, ScribeError
from ..types import Note, Transcript

__all__ = ["GenerationProcess", "get_process", "shutdown_all"]

log = logging.getLogger("scribe.ui.genproc")


def _child_main(conn, settings, cancel) -> None:   # runs in the child process
    from ..privacy import install_guard
    install_guard()
    from ..notes import generate
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] == "quit":
            return
        try:
            if msg[0] == "warm":
                from ..notes.runtime import load_model, resolve_model_name
                load_model(resolve_model_name(msg[1], settings), settings)
                conn.send(("done", None))
                continue
            if msg[0] == "prefill":
                from ..notes.generate import prefill
                conn.send(("done", prefill(Transcript.from_json(msg[1]), msg[2], settings)))
                continue
            _, tr_json, template_id, max_new = msg
            cancel.clear()
            note = generate(Transcript.from_json(tr_json), template_id, settings,
                            on_token=lambda t: conn.send(("token", t)), cancel=cancel,
                            max_new_tokens=max_new)
            conn.send(("done", note.to_json()))
        except ScribeError as e:
            conn.send(("error", type(e).__name__, str(e)))
        except Exception as e:   # the message may carry PHI: only the type crosses the pipe
            conn.send(("error", "ModelError", f"note generation failed ({type(e).__name__})"))


class GenerationProcess:
    def __init__(self, settings):
        self.settings = settings
        self._ctx = mp.get_context("spawn")
        self._cancel = self._ctx.Event()
        self._lock = threading.Lock()
        self._proc = None
        self._conn = None

    def _ensure(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_child_main, args=(child, self.settings, self._cancel),
                                       name="scribe-notes", daemon=True)
        t0 = time.perf_counter()
        self._proc.start()
        child.close()
        self._conn = parent
        log.info("generation process started pid=%s in %.2fs", self._proc.pid, time.perf_counter() - t0)

    def _wait(self, on_token: Callable[[str], None] | None, cancel) -> Any:
        while True:
            if cancel is not None and cancel.is_set():
                self._cancel.set()
            if not self._conn.poll(0.05):
                if not self._proc.is_alive():
                    self._proc = None
                    raise ModelError("the note engine stopped unexpectedly; try again")
                continue
            msg = self._conn.recv()
            if msg[0] == "token":
                if on_token:
                    on_token(msg[1])
            elif msg[0] == "done":
                return msg[1]
            else:
                cls = getattr(_errors, msg[1], ModelError)
                raise (cls if isinstance(cls, type) and issubclass(cls, ScribeError) else ModelError)(msg[2])

    def warm(self, domain: str = "clinical") -> None:
        """Start the child and load the note model now (e.g. right after unlock), not at the first Generate."""
        with self._lock:
            self._ensure()
            self._conn.send(("warm", domain))
            self._wait(None, None)

    def prefill(self, transcript: Transcript, domain: str) -> dict:
        """Prefill the transcript in the child now (the model kept loaded): a later Generate of any template of the
        domain on the same transcript then only writes sections. Returns the child's timings."""
        with self._lock:
            self._ensure()
            self._conn.send(("prefill", transcript.to_json(), domain))
            try:
                return self._wait(None, None) or {}
            except (EOFError, OSError):
                self._proc = None
                raise ModelError("the note engine stopped unexpectedly; try again") from None

    def generate(self, transcript: Transcript, template_id: str, on_token=None, cancel=None,
                 max_new_tokens: int | None = None) -> Note:
        with self._lock:
            self._ensure()
            self._cancel.clear()
            self._conn.send(("gen", transcript.to_json(), template_id, max_new_tokens))
            try:
                data = self._wait(on_token, cancel)
            except (EOFError, OSError):
                self._proc = None
                raise ModelError("the note engine stopped unexpectedly; try again") from None
            return Note.from_json(data)

    def close(self) -> None:
        with self._lock:
            if self._proc is None:
                return
            try:
                self._conn.send(("quit",))
            except (OSError, ValueError):
                pass
            self._proc.join(3)
            if self._proc.is_alive():
                self._proc.terminate()
            self._proc = None


_PROCS: dict[tuple, GenerationProcess] = {}
_PLOCK = threading.Lock()


def _key(settings) -> tuple:
    return (str(settings.models_dir), str(settings.templates_dir), str(settings.user_templates_dir),
            settings.note_model, int(settings.threads), str(settings.provider))


def get_process(settings) -> GenerationProcess:
    """One child per model configuration; a settings change starts a fresh one (and stops the old)."""
    import copy
    k = _key(settings)
    with _PLOCK:
        for other in [o for o in _PROCS if o != k]:
            _PROCS.pop(other).close()
        p = _PROCS.get(k)
        if p is None:
            p = _PROCS[k] = GenerationProcess(copy.deepcopy(settings))
        return p


def shutdown_all() -> None:
    with _PLOCK:
        for p in _PROCS.values():
            p.close()
        _PROCS.clear()
