"""User actions as small op objects. `work(ctx)` is pure: it calls the use cases in scribe/app.py, reports
progress through `ctx.progress`, honours `ctx.cancel_event`, and returns plain data. No widget is touched here,
so every op also runs (and is tested) without a window.

Progress payloads are tuples `(kind, value)`: ("stage", str), ("segment", Segment), ("level", float),
("elapsed", float), ("token", str), ("tokens", int).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AudioError, CancelledError, InputError
from ..types import Note, Transcript

__all__ = ["Op", "CreateStore", "Unlock", "Lock", "ListEncounters", "NewEncounter", "LoadEncounter",
           "TranscribeFile", "Record", "Generate", "SaveEdit", "Approve", "Addendum", "Export", "NoteHistory",
           "PlaySpan", "SaveSettings", "passphrase_strength", "NoteView",
           "sections_from_text", "section_text", "unified_diff", "EncounterView", "Templates",
           "FindInterrupted", "Recover", "DiscardRecording", "SelfCheck", "WarmNoteModel"]

log = logging.getLogger("scribe.ui.ops")


class Op:
    """Base: a label for the status bar and a pure `work(ctx)`."""

    label = "working"

    def work(self, ctx) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


def passphrase_strength(p: str) -> tuple[int, str]:
    """A 0–4 score and a one-line hint. Length dominates: a long passphrase of words beats a short mix of symbols."""
    if not p:
        return 0, "Use at least 12 characters; a few unrelated words work well."
    classes = sum(bool(any(f(c) for c in p)) for f in (str.islower, str.isupper, str.isdigit,
                                                        lambda c: not c.isalnum()))
    words = len([w for w in p.replace("-", " ").split() if w])
    score = 0
    if len(p) >= 8:
        score += 1
    if len(p) >= 12:
        score += 1
    if len(p) >= 16 or words >= 4:
        score += 1
    if classes >= 3 or words >= 3:
        score += 1
    if len(set(p)) <= 3:
        score = 0
    hints = {0: "Very weak: use at least 12 characters.", 1: "Weak: make it longer (12+ characters).",
             2: "Fair: longer, or add a few unrelated words.", 3: "Good.", 4: "Strong."}
    return score, hints[min(score, 4)]


@dataclass
class CreateStore(Op):
    app: Any
    passphrase: str
    label = "creating the encrypted store"

    def work(self, ctx):
        self.app.create_store(self.passphrase)
        return True


@dataclass
class Unlock(Op):
    app: Any
    passphrase: str
    label = "unlocking"

    def work(self, ctx):
        self.app.unlock(self.passphrase)   # the app audits a failed attempt before raising PassphraseError
        return True


@dataclass
class Lock(Op):
    app: Any
    reason: str = "user"
    label = "locking"

    def work(self, ctx):
        self.app.lock(self.reason)
        return self.reason


@dataclass
class ListEncounters(Op):
    app: Any
    label = "loading encounters"

    search: str = ""

    def work(self, ctx):
        rows = []
        for r in self.app.list_encounters(search=self.search.strip() or None):
            e = getattr(r, "encounter", r)
            rows.append({"id": e.id, "subject": getattr(r, "subject_name", None) or e.title or f"Encounter {e.id}",
                         "template_id": e.template_id or "", "created_at": e.created_at,
                         "status": getattr(r, "note_status", None) or e.status})
        return rows


@dataclass
class NewEncounter(Op):
    app: Any
    subject: str
    template_id: str
    domain: str
    label = "creating the encounter"

    def work(self, ctx):
        if not self.subject.strip():
            raise InputError("subject: enter a patient or client name or identifier")
        enc = self.app.new_encounter(self.subject.strip(), self.template_id, self.domain)
        return getattr(enc, "id", enc)


@dataclass
class LoadEncounter(Op):
    app: Any
    encounter_id: Any
    label = "opening the encounter"

    def work(self, ctx):
        return encounter_view(self.app, self.encounter_id)


@dataclass
class TranscribeFile(Op):
    """Import an audio file: transcribe (segments stream back as progress) and attach to the encounter."""

    app: Any
    encounter_id: Any
    path: Path
    label = "transcribing"

    def work(self, ctx):
        ctx.progress(("stage", "loading the speech model"))
        tr = self.app.transcribe(Path(self.path), on_segment=lambda s: ctx.progress(("segment", s)),
                                 cancel=ctx.cancel_event)
        ctx.check()
        self.app.attach_transcript(self.encounter_id, tr, audio_path=Path(self.path))
        return tr


@dataclass
class Record(Op):
    """Live dictation: an audio source (microphone, or a WAV played at real time in tests) feeds the streaming
    recogniser; the audio is journalled to disk as it arrives so a crash loses at most the last chunk.

    Control from the GUI thread through the thread-safe events: `pause_event` (set = paused) and the task's
    cancel event used as *stop* (a stop is not a cancellation: the transcript so far is kept).
    """

    app: Any
    encounter_id: Any
    source: Any                      # an iterable of float32 mono 16 kHz chunks with .close() (see app.open_source)
    pause_event: Any = None
    label = "recording"

    def work(self, ctx):
        import tempfile

        import numpy as np

        from .recording import Journal
        stop, pause = ctx.cancel_event, self.pause_event
        journal = Journal(self.app.settings.recordings_dir, int(self.encounter_id))
        with tempfile.TemporaryDirectory(prefix="scribe-rec-") as tmp:
            stream = make_streamer(self.app, Path(tmp), lambda s: ctx.progress(("segment", s)))
            last_level = 0.0
            try:
                for chunk in self.source:
                    if stop.is_set():
                        break
                    if pause is not None and pause.is_set():
                        continue          # paused: audio is neither kept nor transcribed
                    if not len(chunk):
                        continue
                    journal.write(chunk)
                    stream.feed(chunk)
                    now = time.monotonic()
                    if now - last_level >= 0.05:   # ~20 Hz is plenty for a meter
                        last_level = now
                        ctx.progress(("level", float(np.sqrt(np.mean(np.square(chunk)))) if len(chunk) else 0.0))
            finally:
                close = getattr(self.source, "close", None)
                if close:
                    close()
            live = stream.finish()
            wav = journal.to_wav(Path(tmp) / "recording.wav")
            # The stored transcript is the offline pass over the whole recording: streaming finals are cut per
            # utterance for low lag and measured WER 17 % against 3.7 % offline (bench/asr.py). ~0.03 × duration.
            ctx.progress(("stage", "finalising the transcript"))
            try:
                tr = self.app.transcribe(wav) if live.segments else live
            except Exception:
                tr = live   # never lose a dictation over the second pass; the live text is still a transcript
            self.app.attach_transcript(self.encounter_id, tr, audio_path=wav)
        journal.remove()   # the audio now lives in the encrypted store
        log.info("recording done encounter=%s seconds=%.1f segments=%d", self.encounter_id,
                 journal.samples / 16000, len(tr.segments))
        return tr


def make_streamer(app, tmpdir: Path, on_segment):
    """The streaming recogniser: app.py's when it offers one, else a pause-cutting stand-in (see recording.py)."""
    fn = getattr(app, "stream_transcriber", None)
    if fn is not None:
        return fn(on_segment=on_segment)
    try:   # stand-in until app.py offers it (requested): the ASR package's streaming transcriber, Qt-free
        from ..asr import get_engine
        return get_engine(app.settings).stream(on_segment=on_segment)
    except ImportError:
        from .recording import UtteranceStreamer
        return UtteranceStreamer(app, tmpdir, on_segment, None)


def open_source(app, device):
    """The microphone (app.py or scribe.audio.capture); AudioError when there is none."""
    fn = getattr(app, "open_source", None)
    if fn is not None:
        return fn(device)
    from .recording import MicSource
    return MicSource(device)


def input_devices(app) -> list:
    fn = getattr(app, "input_devices", None)
    if fn is not None:
        return list(fn())
    from ..audio import capture
    return [{"id": d.index, "name": d.name + (" (default)" if d.is_default else "")}
            for d in capture.list_input_devices()]


@dataclass
class Generate(Op):
    app: Any
    encounter_id: Any
    template_id: str
    max_new_tokens: int | None = None
    isolate: bool = True       # run the model in the generation process (keeps the GUI live; see genproc.py)
    label = "writing the note"

    def work(self, ctx):
        ctx.progress(("stage", "loading the note model"))
        n = [0]

        def on_token(t: str) -> None:
            if n[0] == 0:
                ctx.progress(("stage", "writing"))
            n[0] += 1
            ctx.progress(("token", t))

        if not self.isolate:
            kw = {"max_new_tokens": self.max_new_tokens} if self.max_new_tokens else {}
            rec = self.app.generate_note(self.encounter_id, self.template_id, on_token=on_token,
                                         cancel=ctx.cancel_event, **kw)
            return note_view_for(self.app, rec)
        # the model runs in a child process (see genproc.py for why); the result is stored by the app as usual
        from .genproc import get_process
        detail = self.app.get_encounter(self.encounter_id)
        template_id = self.template_id or detail.encounter.template_id
        if not template_id:
            raise InputError("template: choose a template for the note")
        if not detail.transcript.segments:
            raise InputError(f"encounter {self.encounter_id} has no transcript yet")
        note = get_process(self.app.settings).generate(detail.transcript, template_id, on_token=on_token,
                                                       cancel=ctx.cancel_event, max_new_tokens=self.max_new_tokens)
        ctx.check()
        rec = self.app.save_note(self.encounter_id, note)
        return note_view_for(self.app, rec)


@dataclass
class SaveEdit(Op):
    app: Any
    note_id: Any
    sections: dict
    base_version: int | None = None
    label = "saving the edit"

    def work(self, ctx):
        return note_view_for(self.app, self.app.save_edit(self.note_id, self.sections,
                                                          base_version=self.base_version))


@dataclass
class Approve(Op):
    app: Any
    note_id: Any
    signer: str
    label = "approving and signing"

    def work(self, ctx):
        if not self.signer.strip():
            raise InputError("signer: enter the name of the person approving the note")
        return note_view_for(self.app, self.app.approve(self.note_id, self.signer.strip()))


@dataclass
class Addendum(Op):
    app: Any
    note_id: Any
    text: str
    label = "adding the addendum"

    def work(self, ctx):
        if not self.text.strip():
            raise InputError("addendum: the text is empty")
        return note_view_for(self.app, self.app.addendum(self.note_id, self.text.strip()))


@dataclass
class Export(Op):
    app: Any
    note_id: Any
    fmt: str            # "pdf" | "md" | "fhir"
    path: Path | None   # None: return the text (clipboard)
    label = "exporting"

    def work(self, ctx):
        return self.app.export(self.note_id, self.fmt, self.path)


@dataclass
class NoteHistory(Op):
    app: Any
    note_id: Any
    label = "loading the history"

    def work(self, ctx):
        return [{"version": v.version, "kind": v.kind, "author": v.author, "created": v.created_at[:16].replace("T", " "),
                 "markdown": v.markdown} for v in self.app.note_versions(self.note_id)]


@dataclass
class PlaySpan(Op):
    app: Any
    encounter_id: Any
    start: float
    end: float
    label = "playing"

    def work(self, ctx):
        fn = getattr(self.app, "play_audio", None)
        if fn is not None:
            return fn(self.encounter_id, self.start, self.end, cancel=ctx.cancel_event)
        return play_span(self.app.recording_audio(self.encounter_id), self.start, self.end, ctx.cancel_event)


@dataclass
class SaveSettings(Op):
    app: Any
    changes: dict = field(default_factory=dict)
    label = "saving settings"

    def work(self, ctx):
        return self.app.update_settings(**self.changes)


# ---- normalised views of what the app returns (the UI reads these, never store rows) -------------------------
@dataclass
class NoteView:
    note_id: Any
    encounter_id: Any
    template_id: str
    status: str                      # "draft" | "approved"
    version: int
    note: Note
    transcript: Transcript | None = None
    audio_kept: bool = False
    section_titles: dict = field(default_factory=dict)   # key -> title, in template order
    addenda: list = field(default_factory=list)


def sections_from_text(note: Note, texts: dict[str, str]) -> dict:
    """Editor text back to the note's section types: list sections are one item per line ("- " optional)."""
    out: dict = {}
    for k, old in note.sections.items():
        t = texts.get(k, "")
        if isinstance(old, list):
            out[k] = [ln.strip().lstrip("-•* ").strip() for ln in t.splitlines() if ln.strip().lstrip("-•* ").strip()]
        else:
            out[k] = t.strip()
    return out


def section_text(value) -> str:
    if isinstance(value, list):
        return "\n".join(f"- {v}" for v in value)
    return str(value or "")


def unified_diff(old: str, new: str, old_name: str = "before", new_name: str = "after") -> list[str]:
    import difflib
    return list(difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm=""))


@dataclass
class EncounterView:
    id: Any
    subject: str
    template_id: str
    domain: str
    status: str
    transcript: Transcript | None = None
    notes: list = field(default_factory=list)        # NoteView, newest last
    audio_kept: bool = False

    @property
    def latest(self):
        return self.notes[-1] if self.notes else None


@dataclass
class Templates(Op):
    app: Any
    label = "loading templates"

    def work(self, ctx):
        return list_templates(self.app)


@dataclass
class FindInterrupted(Op):
    app: Any
    label = "checking for interrupted recordings"

    def work(self, ctx):
        fn = getattr(self.app, "interrupted_recordings", None)
        if fn is not None:
            return list(fn())
        from .recording import find_interrupted
        found = find_interrupted(self.app.settings.recordings_dir)
        for r in found:   # name the subject so the user knows which dictation it was
            try:
                r.subject = encounter_view(self.app, r.encounter_id).subject
            except Exception:
                r.subject = f"Encounter {r.encounter_id}"
        return found


@dataclass
class Recover(Op):
    app: Any
    recording: Any
    label = "recovering the interrupted recording"

    def work(self, ctx):
        fn = getattr(self.app, "recover_recording", None)
        if fn is not None:
            return fn(self.recording, on_segment=lambda s: ctx.progress(("segment", s)), cancel=ctx.cancel_event)
        import tempfile

        from .recording import pcm_to_wav
        r = self.recording
        with tempfile.TemporaryDirectory(prefix="scribe-recover-") as tmp:
            wav = pcm_to_wav(r.pcm, Path(tmp) / "recovered.wav")
            tr = self.app.transcribe(wav, on_segment=lambda s: ctx.progress(("segment", s)), cancel=ctx.cancel_event)
            ctx.check()
            self.app.attach_transcript(r.encounter_id, tr, audio_path=wav)
        for p in (r.pcm, r.meta):
            p.unlink(missing_ok=True)
        log.info("recovered recording encounter=%s seconds=%.1f segments=%d", r.encounter_id, r.seconds,
                 len(tr.segments))
        return r.encounter_id


@dataclass
class DiscardRecording(Op):
    app: Any
    recording: Any
    label = "discarding the interrupted recording"

    def work(self, ctx):
        fn = getattr(self.app, "discard_recording", None)
        if fn is not None:
            return fn(self.recording)
        for p in (self.recording.pcm, self.recording.meta):
            p.unlink(missing_ok=True)
        return None


@dataclass
class WarmNoteModel(Op):
    """Start the generation process and load the note model in the background after unlock."""

    app: Any
    label = "loading the note model"

    def work(self, ctx):
        from .genproc import get_process
        get_process(self.app.settings).warm(self.app.settings.domain)
        return True


@dataclass
class SelfCheck(Op):
    """The lockdown self-check behind the status bar's "Offline" (really tries a connect and a DNS lookup)."""

    app: Any
    label = "checking the network lockdown"

    def work(self, ctx):
        return status_info(self.app)


# ---- adapters over app.py's return types (and stand-ins for what app.py does not offer yet) -----------------
def list_templates(app) -> list[tuple[str, str, str]]:
    fn = getattr(app, "templates", None)
    if fn is not None:
        ts = fn()
    else:  # stand-in until app.py lists templates (requested): the notes package is Qt-free and store-free
        from ..notes.templates import load_templates
        ts = load_templates(app.settings).values()
    out = []
    for t in ts:
        out.append((t.id, t.title, t.domain) if hasattr(t, "id") else tuple(t))
    return sorted(out, key=lambda t: (t[2], t[0] != "soap", t[1]))


def _template_titles(app, template_id: str) -> dict:
    try:
        fn = getattr(app, "template", None)
        if fn is not None:
            t = fn(template_id)
        else:
            from ..notes.templates import get_template
            t = get_template(template_id, app.settings)
        return {s.key: s.title for s in t.sections if s.fixed_text is None}
    except Exception:
        return {}


def note_view_for(app, rec, detail=None) -> NoteView:
    """NoteRecord (+ its encounter detail for the transcript) → NoteView."""
    if detail is None:
        detail = app.get_encounter(rec.encounter_id)
    body = rec.current.body if getattr(rec, "current", None) else {}
    note = rec.note
    return NoteView(rec.id, rec.encounter_id, rec.template_id, rec.status, rec.current_version, note,
                    detail.transcript, bool(detail.audio_kept), _template_titles(app, rec.template_id),
                    [{"created": str(a.get("at", ""))[:16].replace("T", " "), "by": a.get("by", ""),
                      "text": a.get("text", "")} for a in (body.get("addenda") or [])])


def encounter_view(app, encounter_id) -> EncounterView:
    d = app.get_encounter(encounter_id)
    e = d.encounter
    subject = d.subject.display_name if d.subject else (e.title or f"Encounter {e.id}")
    notes = [note_view_for(app, n, d) for n in d.notes]
    domain = "clinical"
    status = notes[-1].status if notes else e.status
    return EncounterView(e.id, subject, e.template_id or "", domain, status, d.transcript, notes, bool(d.audio_kept))


def status_info(app) -> dict:
    """Status-bar facts: the lockdown self-check (a real connect and DNS attempt, refused in-process), the
    provider the note model runs on and the model name."""
    fn = getattr(app, "status_info", None) or getattr(app, "selfcheck", None)
    if fn is not None:
        info = dict(fn())
    else:
        from ..privacy import probe_network
        info = probe_network(timeout=1.0)
    info.setdefault("note_model", app.settings.note_model)
    if "note_models" not in info:   # what settings can offer: runnable note models (kind "llm") in models/
        try:
            from ..modelstore import list_models, load_manifest
            names = []
            for n in list_models(app.settings.models_dir):
                try:
                    if getattr(load_manifest(app.settings.models_dir, n), "kind", "") == "llm":
                        names.append(n)
                except Exception:
                    continue
            info["note_models"] = sorted(set(names) | {app.settings.note_model})
        except Exception:
            info["note_models"] = [app.settings.note_model]
    if "cores" not in info:
        from ..config import physical_cores
        info["cores"] = physical_cores()
    if "provider_in_use" not in info:
        try:
            from ..providers import preferred_providers
            choice = preferred_providers(app.settings.provider)
            info["provider_in_use"] = choice.providers[0].replace("ExecutionProvider", "")
            from ..providers import available_providers
            info["available_providers"] = available_providers()
        except Exception:
            info["provider_in_use"] = app.settings.provider
    return info


def play_span(audio: bytes | None, start: float, end: float, cancel) -> float:
    """Play [start, end] of the stored recording on the default output device; returns seconds played."""
    from ..errors import AudioError
    if not audio:
        raise AudioError("no audio kept for this encounter (deleted by the retention setting)")
    import io
    import soundfile as sf
    try:
        data, sr = sf.read(io.BytesIO(audio), dtype="float32", always_2d=False)
    except Exception as e:
        raise AudioError(f"stored audio cannot be decoded ({type(e).__name__})") from None
    a, b = max(0, int((start - 0.2) * sr)), min(len(data), int((end + 0.2) * sr))
    clip = data[a:b]
    try:
        import sounddevice as sd
        sd.play(clip, sr)
        t0 = time.monotonic()
        while time.monotonic() - t0 < len(clip) / sr + 0.2:
            if cancel.is_set():
                sd.stop()
                break
            time.sleep(0.05)
    except Exception as e:
        raise AudioError(f"no audio output device ({type(e).__name__})") from None
    return len(clip) / sr
