"""Crash leftovers, handled at every unlock: nothing of a dictation stays on disk outside the encrypted store.

A recording journal (`<recordings>/<uid>.pcm` + `.json`, written by the recorder as it records) that a crash left
behind is moved into the encrypted store as that encounter's audio (WAV) and its files securely deleted; the user
is then offered to transcribe it (`recover`) or drop it (`discard`), which now works from the stored copy.
Scratch folders (the recorder's WAV while finalising, recovery and demo scratch) are securely deleted. Nothing here
can lose audio even if another window were still recording: a scratch WAV is only ever a copy of its journal, and a
journal imported while still being written keeps being written (to the unlinked file) and is stored whole when
that recording ends; the store then holds the early part twice, never less.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, StoreError
from .safefiles import secure_delete, sweep_temp
from .store import records
from .store.journal import SUFFIX, read_journal, wav_bytes

__all__ = ["Interrupted", "sweep", "transcribe_recovered", "discard_recovered", "wav_bytes"]

log = logging.getLogger("scribe.app")

_MAX_JOURNAL_BYTES = 2 * 16_000 * 3600 * 12     # 12 h of 16 kHz 16-bit mono: anything larger is not ours


@dataclass
class Interrupted:
    """A recording a crash interrupted, already inside the encrypted store (pcm/meta: kept for the UI; gone)."""

    uid: str
    encounter_id: int
    started: str
    seconds: float
    pcm: Path
    meta: Path
    subject: str = ""


def sweep(app, st) -> list[Interrupted]:
    """Import every journal into the store, securely delete it and every scratch leftover. Never raises for a
    bad leftover: a damaged journal is deleted (it cannot be attached to anything) and logged without PHI."""
    out: list[Interrupted] = []
    folder = app.settings.recordings_dir
    wiped = sweep_temp(app.settings.home)
    metas = sorted(folder.glob("*.json")) if folder.is_dir() else []
    for meta in metas:
        pcm = meta.with_suffix(".pcm")
        try:
            m = json.loads(meta.read_text()[:4096])
            eid, sr = int(m["encounter_id"]), int(m.get("sample_rate", 16_000))
            if not (8_000 <= sr <= 192_000) or not pcm.is_file() or pcm.is_symlink():
                raise ValueError("not a journal")
            if pcm.stat().st_size > _MAX_JOURNAL_BYTES:
                raise ValueError("too large")
            data = pcm.read_bytes()
            records.get_encounter(st.db, eid)        # the encounter must exist (InputError otherwise)
            secs = len(data) / 2 / sr
            if data:
                records.add_recording(st.db, eid, wav_bytes(data, sr), sr, secs, "wav", actor=st.actor)
                out.append(Interrupted(meta.stem, eid, str(m.get("started", ""))[:32], secs, pcm, meta))
        except (OSError, ValueError, KeyError, TypeError, InputError) as e:
            log.warning("discarding an unusable recording journal (%s)", type(e).__name__)
        secure_delete(pcm)
        secure_delete(meta)
    out += _sweep_encrypted(folder, st)
    for r in out:
        try:
            enc = records.get_encounter(st.db, r.encounter_id)
            r.subject = records.get_subject(st.db, enc.subject_id).display_name if enc.subject_id else enc.title
        except Exception:
            r.subject = f"Encounter {r.encounter_id}"
    if out or wiped:
        log.info("crash leftovers: journals_stored=%d scratch_files_wiped=%d", len(out), wiped)
    return out


def _sweep_encrypted(folder: Path, st) -> list[Interrupted]:
    """Encrypted journals (store/journal.py): readable only with this store's key. One that is not (another store's
    recording in the same SCRIBE_HOME) stays, encrypted, for that store's next unlock."""
    out: list[Interrupted] = []
    for path in sorted(folder.glob("*" + SUFFIX)) if folder.is_dir() else []:
        try:
            j = read_journal(path, st.db.journal_key)
            records.get_encounter(st.db, j.encounter_id)
        except (StoreError, InputError):
            log.warning("an encrypted recording journal belongs to another store or is damaged; kept")
            continue
        if j.pcm:
            secs = len(j.pcm) / 2 / j.sample_rate
            records.add_recording(st.db, j.encounter_id, wav_bytes(j.pcm, j.sample_rate), j.sample_rate, secs, "wav",
                                  actor=st.actor)
            out.append(Interrupted(path.stem, j.encounter_id, j.started[:32], secs, path, path))
        for suffix in ("", "-wal", "-shm"):
            secure_delete(Path(str(path) + suffix))
    return out


def transcribe_recovered(app, r: Interrupted, on_segment=None, cancel=None) -> int:
    """Transcribe the stored audio of a recovered recording and attach the transcript (audio already stored)."""
    import tempfile
    audio = app.recording_audio(r.encounter_id)
    if audio is None:
        raise InputError(f"encounter {r.encounter_id} has no stored audio to recover")
    with tempfile.TemporaryDirectory(prefix="scribe-recover-") as tmp:   # inside SCRIBE_HOME (safefiles)
        wav = Path(tmp) / "recovered.wav"
        wav.write_bytes(audio)
        try:
            tr = app.transcribe(wav, on_segment=on_segment, cancel=cancel)
        finally:
            secure_delete(wav)
    app.attach_transcript(r.encounter_id, tr, keep_audio=False)
    _settled(app, r)
    return r.encounter_id


def _settled(app, r: Interrupted) -> None:
    """Offered once: recovered or discarded, it leaves the list the recovery dialog asks for."""
    pending = getattr(app, "_recovered", [])
    if r in pending:
        pending.remove(r)


def discard_recovered(app, r: Interrupted) -> None:
    st = app.store
    records.purge_encounter_audio(st.db, r.encounter_id, "recovered recording discarded", actor=st.actor)
    _settled(app, r)
