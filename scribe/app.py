"""The use cases: the one place that knows the whole pipeline (audio → transcript → note → store → export).

Both faces call this: `scribe/cli/*` and the desktop UI (`scribe/ui/ops.py`). Plain Python, no Qt; every method
may be called from a worker thread (store access is serialised inside the store).

    app = ScribeApp(settings)                    # settings: scribe.config.Settings (db_path, autolock, …)
    app.create_store(passphrase) | app.unlock(passphrase)
    enc = app.new_encounter("Jane Doe", "soap")
    tr = app.transcribe(Path("visit.wav"), on_segment=print, cancel=event)
    app.attach_transcript(enc.id, tr, audio_path=Path("visit.wav"))
    rec = app.generate_note(enc.id, "soap", on_token=print, cancel=event)      # NoteRecord, draft v1
    rec = app.save_edit(rec.id, "# edited markdown", base_version=rec.current_version)
    rec = app.approve(rec.id, "Dr Grey")         # read-only from now on; audio purged (retention)
    rec = app.addendum(rec.id, "Called the patient back.")
    app.export(rec.id, "pdf", Path("note.pdf"))  # md | pdf | fhir
    app.lock()

Errors are `scribe.errors` kinds with one-line, PHI-free messages. A locked app raises StoreError("the store is
locked") from every record method. Auto-lock: after `settings.autolock_minutes` without `touch()` (every use
case touches), the store is closed, the key dropped and `on_lock("idle")` is called on the timer thread.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .app_documents import DocumentUseCases
from .app_speakers import SpeakerUseCases
from .config import Settings, load_settings
from .errors import CancelledError, InputError, StoreError
from .store import IdleLock, Store, StoreOptions, records
from .store.backup import backup as _backup_store
from .store.backup import rekey as _rekey
from .store.backup import restore as _restore
from .store.records import Encounter, EncounterSummary, NoteRecord, NoteVersion, Subject
from .types import Note, Segment, Transcript

__all__ = ["ScribeApp", "EncounterDetail", "EXPORT_FORMATS"]

log = logging.getLogger("scribe.app")

EXPORT_FORMATS = ("md", "pdf", "fhir")


@dataclass
class EncounterDetail:
    """An encounter with everything the review screen shows."""

    encounter: Encounter
    subject: Subject | None
    transcript: Transcript
    notes: list[NoteRecord] = field(default_factory=list)
    audio_kept: bool = False

    @property
    def id(self) -> int:
        return self.encounter.id

    @property
    def note(self) -> NoteRecord | None:
        """The latest note of the encounter (there is usually one)."""
        return self.notes[-1] if self.notes else None

    def to_json(self) -> dict[str, Any]:
        e = self.encounter
        return {"encounter_id": e.id, "title": e.title, "template": e.template_id, "status": e.status,
                "created_at": e.created_at, "subject": self.subject.display_name if self.subject else None,
                "transcript": self.transcript.to_json(), "notes": [n.to_json() for n in self.notes],
                "audio_kept": self.audio_kept}


class ScribeApp(DocumentUseCases, SpeakerUseCases):
    """Use cases over one store file. Construct once per process (or window); thread-safe."""

    def __init__(self, settings: Settings | None = None, db_path: Path | None = None,
                 store_options: StoreOptions | None = None, on_lock: Callable[[str], None] | None = None,
                 actor: str | None = None):
        self.settings = settings or load_settings()
        self.db_path = Path(db_path) if db_path else self.settings.db_path
        self.store_options = store_options
        self.on_lock = on_lock
        self.actor = actor
        self._store: Store | None = None
        self._lock = threading.RLock()
        self._idle: IdleLock | None = None
        self._unhook_audit: Callable[[], None] | None = None

    # ---- store lifecycle ------------------------------------------------------------------------------------
    def store_exists(self) -> bool:
        return self.db_path.exists() and self.db_path.stat().st_size > 0

    def create_store(self, passphrase: str) -> None:
        """Create a new encrypted store at `db_path` and leave it unlocked."""
        with self._lock:
            self._drop_store("replaced")
            self._attach(Store.create(self.db_path, passphrase, options=self.store_options, actor=self.actor))
        log.info("store created")

    def unlock(self, passphrase: str, recover: bool = False) -> None:
        """Open the store. Wrong passphrase: PassphraseError (and a failed-unlock audit event at the next unlock).
        Lost commits: IntegrityError, file untouched; `recover=True` is the user's explicit decision to go on."""
        with self._lock:
            self._drop_store("replaced")
            self._attach(Store.open(self.db_path, passphrase, options=self.store_options, actor=self.actor,
                                    recover=recover))
            from .recovery import sweep
            if not self._store.db.read_only:   # crash leftovers: into the store, or securely deleted
                self._recovered = sweep(self, self._store)

    def open_journal(self, encounter_id: int):
        """An encrypted crash journal for a recording of this encounter (the recorder writes audio to it as it
        arrives; store/journal.py). Needs the unlocked store: its key encrypts the journal."""
        from .store.journal import Journal
        return Journal(self.settings.recordings_dir, int(encounter_id), self._require().db.journal_key)

    def interrupted_recordings(self) -> list:
        """Recordings a crash interrupted, found at unlock and already moved into the encrypted store."""
        return list(getattr(self, "_recovered", []))

    def recover_recording(self, r, on_segment=None, cancel=None) -> int:
        from .recovery import transcribe_recovered
        return transcribe_recovered(self, r, on_segment, cancel)

    def discard_recording(self, r) -> None:
        from .recovery import discard_recovered
        discard_recovered(self, r)

    def lock(self, reason: str = "user") -> None:
        """Close the store and drop the key. Idempotent."""
        with self._lock:
            was_open = self._store is not None
            self._drop_store(reason)
        if was_open and self.on_lock:
            try:
                self.on_lock(reason)
            except Exception:
                log.exception("on_lock callback failed")

    def is_locked(self) -> bool:
        with self._lock:
            return self._store is None or self._store.closed

    def touch(self) -> None:
        """Reset the idle auto-lock timer (the UI calls this on user input; every use case calls it too)."""
        if self._idle is not None:
            self._idle.touch()

    def change_passphrase(self, new_passphrase: str) -> None:
        _rekey(self._require(), new_passphrase)

    def backup(self, dest: Path, passphrase: str) -> Path:
        """Encrypted copy of the whole store (its own passphrase)."""
        return _backup_store(self._require(), Path(dest), passphrase)

    def restore(self, backup_path: Path, passphrase: str) -> Path | None:
        """Replace the store with a verified backup (the store is locked first). Returns where the old file went."""
        self.lock("restore")
        return _restore(Path(backup_path), self.db_path, passphrase, options=self.store_options)

    def integrity(self) -> dict[str, Any]:
        st = self._require()
        problems = st.integrity_problems()
        res = st.verify_audit()
        return {"pages_ok": not problems, "page_problems": problems[:5], "audit_ok": res.ok,
                "audit_events": res.events, "audit_problems": res.problems}

    @property
    def store(self) -> Store:
        """The unlocked store (for CLI/maintenance code); raises StoreError when locked."""
        return self._require()

    def _attach(self, st: Store) -> None:
        from . import privacy
        self._store = st
        self._unhook_audit = privacy.connect_audit(self._audit_network_attempt)
        if self.settings.autolock_minutes and self.settings.autolock_minutes > 0:
            self._idle = IdleLock(self.settings.autolock_minutes, lambda: self.lock("idle"))
            self._idle.start()

    def _drop_store(self, reason: str) -> None:
        if self._idle is not None:
            self._idle.stop()
            self._idle = None
        if self._unhook_audit:
            self._unhook_audit()
            self._unhook_audit = None
        if self._store is not None:
            self._store.close(reason)
            self._store = None

    def _audit_network_attempt(self, a) -> None:
        st = self._store
        if st is not None and not st.closed:
            st.audit("network-blocked", "network", None, {"kind": a.kind, "host": a.host, "port": a.port})

    def _touching(self, cb: Callable | None) -> Callable:
        """Long work is activity: a minute-long generation must not be auto-locked away before it can be saved."""
        def wrapped(x):
            self.touch()
            if cb is not None:
                cb(x)
        return wrapped

    def _require(self) -> Store:
        with self._lock:
            if self._store is None or self._store.closed:
                raise StoreError("the store is locked")
            self.touch()
            return self._store

    # ---- encounters -----------------------------------------------------------------------------------------
    def new_encounter(self, subject: str | None = None, template_id: str | None = None, domain: str | None = None,
                      title: str = "", identifier: str | None = None, birth_date: str | None = None,
                      sex: str | None = None) -> Encounter:
        """A new encounter; `subject` is the patient/client name (a subject row is created for it, with the
        optional MRN / matter number `identifier`, `birth_date` YYYY-MM-DD and `sex`)."""
        st = self._require()
        sid = None
        records.check_subject_fields(birth_date, sex)   # before anything is written
        if subject and subject.strip():
            sid = records.create_subject(st.db, subject.strip(), identifier or None, actor=st.actor).id
            if birth_date or sex:
                records.update_subject(st.db, sid, birth_date=birth_date, sex=sex, actor=st.actor)
        return records.create_encounter(st.db, sid, title or "", template_id, actor=st.actor)

    def get_encounter(self, encounter_id: int) -> EncounterDetail:
        st = self._require()
        enc = records.get_encounter(st.db, int(encounter_id))
        subj = records.get_subject(st.db, enc.subject_id) if enc.subject_id else None
        notes = records.notes_for_encounter(st.db, enc.id)
        audio = records.get_recording_audio(st.db, enc.id) is not None
        st.audit("read", "encounter", enc.id, {"notes": len(notes)})
        return EncounterDetail(enc, subj, records.get_transcript(st.db, enc.id), notes, audio)

    def list_encounters(self, search: str | None = None, status: str | None = None, template: str | None = None,
                        date_from: str | None = None, date_to: str | None = None,
                        limit: int = 500) -> list[EncounterSummary]:
        """Newest first; `search` matches title, subject and note text; dates are ISO (YYYY-MM-DD) UTC."""
        st = self._require()
        return records.list_encounters(st.db, search, status, template, date_from, date_to, limit)

    def delete_encounter(self, encounter_id: int) -> None:
        """Discard an encounter (audio, transcript, drafts). Refused once a note was approved."""
        st = self._require()
        records.delete_encounter(st.db, int(encounter_id), actor=st.actor)

    # ---- pipeline -------------------------------------------------------------------------------------------
    def transcribe(self, audio: Path, on_segment: Callable[[Segment], None] | None = None,
                   cancel: threading.Event | None = None) -> Transcript:
        """Speech → Transcript (needs no unlocked store). Segments stream to `on_segment` as they are final."""
        from .asr import transcribe_file
        self.touch()
        audio = Path(audio)
        if not audio.exists():
            raise InputError(f"no audio file at {audio}")
        t0 = time.perf_counter()
        tr = transcribe_file(audio, self.settings, on_segment=self._touching(on_segment), cancel=cancel,
                             enrolment=self.enrolment_for_asr())
        log.info("transcribed segments=%d audio_s=%.2f wall_s=%.2f", len(tr.segments), tr.audio_seconds,
                 time.perf_counter() - t0)
        return tr

    def attach_transcript(self, encounter_id: int, transcript: Transcript, audio_path: Path | None = None,
                          keep_audio: bool = True) -> int:
        """Store the transcript (replacing any earlier one) and, if given and keep_audio, the audio bytes inside
        the encrypted file (purged when the note is approved unless settings.keep_audio_after_approval)."""
        st = self._require()
        n = records.save_transcript(st.db, int(encounter_id), transcript, actor=st.actor)
        if audio_path is not None and keep_audio:
            p = Path(audio_path)
            data = p.read_bytes()
            sr, secs = None, transcript.audio_seconds or None
            try:
                import soundfile as sf
                info = sf.info(str(p))
                sr, secs = int(info.samplerate), float(info.duration)
            except Exception:
                pass
            records.add_recording(st.db, int(encounter_id), data, sr, secs, p.suffix.lstrip(".").lower() or "wav",
                                  actor=st.actor)
        return n

    def recording_audio(self, encounter_id: int) -> bytes | None:
        """The encounter's stored audio file bytes (None once purged by retention)."""
        st = self._require()
        return records.get_recording_audio(st.db, int(encounter_id))

    def generate_note(self, encounter_id: int, template_id: str | None = None,
                      on_token: Callable[[str], None] | None = None, cancel: threading.Event | None = None,
                      **gen_options: Any) -> NoteRecord:
        """Transcript of the encounter → a new draft note (version 1). Extra keyword options go to the generator."""
        from .notes import generate, get_template
        st = self._require()
        enc = records.get_encounter(st.db, int(encounter_id))
        tid = template_id or enc.template_id
        if not tid:
            raise InputError("template: choose a template for the note")
        template = get_template(tid, self.settings)
        transcript = records.get_transcript(st.db, enc.id)
        if not transcript.segments:
            raise InputError(f"encounter {enc.id} has no transcript yet")
        t0 = time.perf_counter()
        note = generate(transcript, template, self.settings, on_token=self._touching(on_token), cancel=cancel,
                        **gen_options)
        if cancel is not None and cancel.is_set():
            raise CancelledError("note generation cancelled; nothing was saved")
        rec = records.create_note(self._require().db, enc.id, note, actor=st.actor)
        log.info("note generated note=%d template=%s wall_s=%.2f", rec.id, tid, time.perf_counter() - t0)
        return rec

    def save_note(self, encounter_id: int, note: Note) -> NoteRecord:
        """Store an already generated Note as a new draft (used by `dictate` and imports)."""
        st = self._require()
        return records.create_note(st.db, int(encounter_id), note, actor=st.actor)

    def dictate(self, audio: Path, template_id: str, subject: str | None = None,
                on_segment: Callable[[Segment], None] | None = None, on_token: Callable[[str], None] | None = None,
                cancel: threading.Event | None = None, keep_audio: bool = True, **gen_options: Any) -> NoteRecord:
        """The whole path: transcribe → draft note → new encounter with transcript (+audio) and the note, stored in
        one transaction: interrupted or killed at any point, nothing of it is saved. Extra keyword options (e.g.
        max_new_tokens) go to the note generator."""
        from .notes import generate, get_template
        template = get_template(template_id, self.settings)   # a bad id fails before minutes of transcription
        self._require()
        tr = self.transcribe(Path(audio), on_segment=on_segment, cancel=cancel)
        if cancel is not None and cancel.is_set():
            raise CancelledError("dictation cancelled; nothing was saved")
        note = generate(tr, template, self.settings, on_token=self._touching(on_token), cancel=cancel, **gen_options)
        if cancel is not None and cancel.is_set():
            raise CancelledError("dictation cancelled; nothing was saved")
        st = self._require()
        with st.db.write():
            enc = self.new_encounter(subject, template_id, title=Path(audio).stem)
            self.attach_transcript(enc.id, tr, audio_path=Path(audio), keep_audio=keep_audio)
            return records.create_note(st.db, enc.id, note, actor=st.actor)

    # ---- notes ----------------------------------------------------------------------------------------------
    def get_note(self, note_id: int, audit_read: bool = True) -> NoteRecord:
        """The note at its current version. Opening a note for viewing is an audited read."""
        st = self._require()
        rec = records.get_note(st.db, int(note_id))
        if audit_read:
            st.audit("read", "note", rec.id, {"version": rec.current_version})
        return rec

    def save_edit(self, note_id: int, content: str | dict, base_version: int | None = None) -> NoteRecord:
        """Append an edit version. `content`: the full markdown, or a sections dict (markdown is re-rendered from
        the note's template). `base_version` rejects the save if someone saved in between."""
        st = self._require()
        rec = records.get_note(st.db, int(note_id))
        if isinstance(content, dict):
            from .notes import get_template
            from .notes.recheck import recheck
            note = rec.note
            before = rec.note
            note.sections = {**note.sections, **content}
            tpl = get_template(rec.template_id, self.settings)
            note.markdown = self._render(tpl, note.sections, rec.encounter_id)
            # evidence and flags follow the edited text (never point at sentences that are gone)
            note = recheck(note, records.get_transcript(st.db, rec.encounter_id),
                           [s.key for s in tpl.sections if s.fixed_text is not None], before=before)
            return records.save_edit(st.db, rec.id, note.markdown, note=note, base_version=base_version,
                                     actor=st.actor)
        return records.save_edit(st.db, rec.id, str(content), base_version=base_version, actor=st.actor)

    def approve(self, note_id: int, signer: str | None = None) -> NoteRecord:
        """Sign off the current version; read-only afterwards. Audio is purged unless keep_audio_after_approval."""
        st = self._require()
        return records.approve(st.db, int(note_id), actor=signer or st.actor,
                               keep_audio=bool(self.settings.keep_audio_after_approval))

    def addendum(self, note_id: int, text: str, author: str | None = None) -> NoteRecord:
        st = self._require()
        return records.add_addendum(st.db, int(note_id), text, actor=author or st.actor)

    def note_versions(self, note_id: int) -> list[NoteVersion]:
        st = self._require()
        return records.note_versions(st.db, int(note_id))

    def diff(self, note_id: int, from_version: int, to_version: int | None = None) -> list[str]:
        """Unified diff (lines) between two versions of a note; to_version defaults to the current one."""
        import difflib
        vs = {v.version: v for v in self.note_versions(note_id)}
        to_version = to_version or max(vs)
        if from_version not in vs or to_version not in vs:
            raise InputError(f"note {note_id} has versions 1..{max(vs)}")
        return list(difflib.unified_diff(vs[from_version].markdown.splitlines(), vs[to_version].markdown.splitlines(),
                                         f"v{from_version}", f"v{to_version}", lineterm=""))

    def export(self, note_id: int, fmt: str, path: Path | None = None) -> Path | str | bytes:
        """Render the note as md | pdf | fhir. With `path`, write the file (atomically) and return the path;
        without, return the text (md, fhir) or bytes (pdf). Every export is an audit event."""
        from .export import render
        if fmt not in EXPORT_FORMATS:
            raise InputError(f"format: {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
        st = self._require()
        rec = records.get_note(st.db, int(note_id))
        enc = records.get_encounter(st.db, rec.encounter_id)
        subj = records.get_subject(st.db, enc.subject_id) if enc.subject_id else None
        data = render(fmt, rec, enc, subj, self.settings)
        st.audit("export", "note", rec.id, {"format": fmt, "version": rec.current_version,
                                            "to_file": path is not None})
        if path is None:
            return data
        from .safefiles import write_atomic
        return write_atomic(Path(path), data if isinstance(data, bytes) else data.encode("utf-8"))

    # ---- audit and settings ---------------------------------------------------------------------------------
    def verify_audit(self):
        return self._require().verify_audit()

    def audit_events(self, entity: str | None = None, entity_id: Any = None, limit: int | None = None):
        return self._require().audit_events(entity, entity_id, limit)

    def update_settings(self, **changes: Any) -> Settings:
        """Change and save user settings (autolock_minutes, keep_audio_after_approval, provider, threads, …)."""
        from .config import save_settings
        for k, v in changes.items():
            if not hasattr(self.settings, k):
                raise InputError(f"settings: unknown setting {k!r}")
            setattr(self.settings, k, type(getattr(self.settings, k))(v))
        save_settings(self.settings)
        if "autolock_minutes" in changes and self._store is not None:
            if self._idle is not None:
                self._idle.stop()
                self._idle = None
            if self.settings.autolock_minutes > 0:
                self._idle = IdleLock(self.settings.autolock_minutes, lambda: self.lock("idle"))
                self._idle.start()
        if self._store is not None and not self._store.closed:
            self._store.audit("settings", "settings", None, {"changed": sorted(changes)})
        return self.settings
