"""Where PHI may touch the disk: only inside SCRIBE_HOME, owner-only, and gone for good when no longer needed.

`lockdown(home)` runs once per process before anything is written: umask 077 (every file Scribe or a library
creates is 0600, every folder 0700: store, logs, exports, journals), SCRIBE_HOME itself 0700, and Python's temporary
folder moved to `<home>/tmp` (0700), so code that asks `tempfile` for scratch space (the recorder's WAV while a
dictation is finalised, the demo, recovery) never writes audio to a shared /tmp.

`secure_delete` overwrites before unlinking. On SSDs and copy-on-write file systems an overwrite is not guaranteed
to reach the old blocks; the real protection is that the audio never leaves the owner-only folder, and the encrypted
store is where it lives once saved.
"""
from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path

__all__ = ["lockdown", "private_tmp", "secure_delete", "sweep_temp", "write_atomic", "TEMP_PREFIXES"]

log = logging.getLogger("scribe")

# scratch folders the app and UI make through tempfile; anything left of them after a crash is PHI
TEMP_PREFIXES = ("scribe-rec-", "scribe-recover-", "scribe-demo-", "scribe-audio-")


def private_tmp(home: Path) -> Path:
    return Path(home) / "tmp"


def lockdown(home: Path) -> None:
    """Owner-only files and folders from here on; temporary files inside SCRIBE_HOME. Idempotent."""
    os.umask(0o077)
    home = Path(home)
    tmp = private_tmp(home)
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        for d in (home, tmp):
            if not d.is_symlink() and stat.S_IMODE(d.stat().st_mode) & 0o077:
                os.chmod(d, 0o700)
    except OSError as e:
        # a read-only home still lets a store be read; temporary files then fail where they are made
        log.warning("cannot prepare %s (%s)", tmp.name, e.strerror or type(e).__name__)
        return
    tempfile.tempdir = str(tmp)


def secure_delete(path: Path) -> bool:
    """Overwrite a regular file with zeros, fsync, unlink. Links are unlinked, never followed."""
    p = Path(path)
    try:
        if p.is_symlink() or not p.is_file():
            p.unlink(missing_ok=True)
            return True
        size = p.stat().st_size
        fd = os.open(str(p), os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            block = b"\0" * 65536
            left = size
            while left > 0:
                left -= os.write(fd, block[:min(left, len(block))])
            os.fsync(fd)
        finally:
            os.close(fd)
        p.unlink()
        return True
    except OSError as e:
        log.warning("could not securely delete a leftover file (%s)", e.strerror or type(e).__name__)
        return False


def _wipe_tree(root: Path) -> int:
    n = 0
    for dirpath, _dirs, files in os.walk(root, topdown=False, followlinks=False):
        for f in files:
            n += secure_delete(Path(dirpath) / f)
    shutil.rmtree(root, ignore_errors=True)
    return n


def _drop_dead_model_copy(d: Path) -> None:
    """Verified model copies (scribe-model-<pid>-…: weights, not PHI) of processes that are gone."""
    try:
        pid = int(d.name.split("-")[2])
        os.kill(pid, 0)
        return                      # still running
    except ProcessLookupError:
        pass
    except (ValueError, IndexError, PermissionError, OSError):
        return
    if d.is_dir() and not d.is_symlink() and d.lstat().st_uid == os.getuid():
        shutil.rmtree(d, ignore_errors=True)


def sweep_temp(home: Path) -> int:
    """Securely delete crash leftovers of Scribe's scratch folders: in `<home>/tmp`, and (from versions that
    used it) in the system temporary folder, there only folders this user owns. Returns files wiped."""
    n = 0
    roots = {private_tmp(home)}
    sys_tmp = Path(os.environ.get("TMPDIR") or "/tmp")
    if sys_tmp.is_dir():
        roots.add(sys_tmp)
    for root in roots:
        try:
            entries = list(root.iterdir())
        except OSError:
            continue
        for d in entries:
            if d.name.startswith("scribe-model-"):
                _drop_dead_model_copy(d)
                continue
            try:
                st = d.lstat()
            except OSError:
                continue
            if d.name.startswith(TEMP_PREFIXES) and stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid():
                n += _wipe_tree(d)
    return n


def write_atomic(path: Path, data: bytes) -> Path:
    """Write via a temporary name, fsync, rename: a reader never sees half a file. 0600 (it may be PHI)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    fd = os.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path
