"""Model manifests and sha256 verification. The only module that opens model files to check them.

A model lives in `models/<name>/` with `manifest.json`:
    {"name", "kind", "description", "source": {"package", "version", ...}, "license",
     "files": [{"path", "sha256", "size"}], ...extra keys per kind}
Nothing loads unless every listed file exists with the listed size and sha256.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import ModelError

__all__ = ["FileEntry", "Manifest", "sha256_file", "load_manifest", "verify_model", "list_models",
           "write_manifest", "model_dir", "read_verified", "verified_snapshot", "seal_derived", "derived_sealed"]

MANIFEST = "manifest.json"
# (path, device, inode, size, mtime_ns, ctime_ns) -> sha256, per process. ctime cannot be set back by a user
# (utime restores mtime only) and a swapped-in file has another inode, so a same-size edit with the mtime
# restored misses the cache and is hashed again.
_VERIFIED: dict[tuple, str] = {}


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            if progress:
                progress(len(chunk))
    return h.hexdigest()


@dataclass
class FileEntry:
    path: str
    sha256: str
    size: int


@dataclass
class Manifest:
    name: str
    kind: str
    files: list[FileEntry]
    root: Path
    data: dict[str, Any] = field(default_factory=dict)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


def model_dir(models_dir: Path, name: str) -> Path:
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ModelError(f"invalid model name {name!r}")
    return Path(models_dir) / name


def load_manifest(models_dir: Path, name: str) -> Manifest:
    root = model_dir(models_dir, name)
    mp = root / MANIFEST
    if not mp.exists():
        raise ModelError(f"model {name!r} not found: {mp} is missing (run ./setup.sh)")
    try:
        data = json.loads(mp.read_text())
        files = [FileEntry(f["path"], f["sha256"].lower(), int(f["size"])) for f in data["files"]]
        return Manifest(data["name"], data["kind"], files, root, data)
    except (ValueError, KeyError, TypeError) as e:
        raise ModelError(f"{mp}: invalid manifest ({e.__class__.__name__}: {e})") from None


def verify_model(models_dir: Path, name: str, progress: Callable[[int, int], None] | None = None) -> Manifest:
    """Check every file of a model; raise ModelError naming the first bad file. Cached per process by stat."""
    m = load_manifest(models_dir, name)
    total = sum(f.size for f in m.files)
    done = 0
    for fe in m.files:
        p = m.root / fe.path
        try:
            st = p.stat()
        except OSError:
            raise ModelError(f"model {name!r}: file missing: {p}") from None
        if st.st_size != fe.size:
            raise ModelError(f"model {name!r}: size mismatch for {p} ({st.st_size} != {fe.size}): tampered or incomplete")
        key = (str(p), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        digest = _VERIFIED.get(key)
        if digest is None:
            base = done
            digest = sha256_file(p, (lambda n, b=[base]: (b.__setitem__(0, b[0] + n), progress(b[0], total)))
                                 if progress else None)
            _VERIFIED[key] = digest
        if digest != fe.sha256:
            _VERIFIED.pop(key, None)
            raise ModelError(f"model {name!r}: sha256 mismatch for {p}: tampered or corrupt")
        done += fe.size
        if progress:
            progress(done, total)
    return m


def list_models(models_dir: Path) -> list[str]:
    d = Path(models_dir)
    if not d.is_dir():
        return []
    return sorted(p.name for p in d.iterdir() if (p / MANIFEST).exists())


def write_manifest(root: Path, name: str, kind: str, files: list[str], **extra: Any) -> Path:
    """Hash `files` (relative to root) and write root/manifest.json atomically."""
    root = Path(root)
    entries = []
    for rel in sorted(files):
        p = root / rel
        entries.append({"path": rel, "sha256": sha256_file(p), "size": p.stat().st_size})
    data = {"name": name, "kind": kind, **extra, "files": entries}
    tmp = root / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, root / MANIFEST)
    return root / MANIFEST


# ---- loading exactly what was verified ---------------------------------------------------------------------------
def _entry(m: Manifest, rel: str) -> FileEntry:
    for fe in m.files:
        if fe.path == rel:
            return fe
    raise ModelError(f"model {m.name!r}: {rel} is not in its manifest")


def read_verified(m: Manifest, rel: str) -> bytes:
    """The file's bytes, read once and hashed in memory: what the caller loads is exactly what was checked, even
    if the file is swapped a moment later."""
    fe = _entry(m, rel)
    try:
        with open(m.root / rel, "rb") as f:
            data = f.read(fe.size + 1)
    except OSError as e:
        raise ModelError(f"model {m.name!r}: cannot read {rel} ({e.strerror})") from None
    if len(data) != fe.size or hashlib.sha256(data).hexdigest() != fe.sha256:
        raise ModelError(f"model {m.name!r}: sha256 mismatch for {m.root / rel}: tampered or corrupt")
    return data


def verified_snapshot(m: Manifest, dest: Path) -> Path:
    """Copy every manifest file into `dest` (a private folder), hashing the bytes as they are copied; a runtime
    that can only open folders (onnxruntime-genai with external weights) then loads the copy it was shown."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for fe in m.files:
        out = dest / fe.path
        out.parent.mkdir(parents=True, exist_ok=True)
        h, n = hashlib.sha256(), 0
        try:
            with open(m.root / fe.path, "rb") as src, open(out, "wb") as dst:
                while chunk := src.read(1 << 20):
                    h.update(chunk)
                    dst.write(chunk)
                    n += len(chunk)
        except OSError as e:
            raise ModelError(f"model {m.name!r}: cannot copy {fe.path} ({e.strerror})") from None
        if n != fe.size or h.hexdigest() != fe.sha256:
            raise ModelError(f"model {m.name!r}: sha256 mismatch for {m.root / fe.path}: tampered or corrupt")
    return dest


# ---- derived files: authenticated with a per-install key -----------------------------------------------------------
# The app writes the derived graphs' manifest itself, so their hash list proves nothing on its own. Each install
# (SCRIBE_HOME) keeps a secret key and, per derived folder, an HMAC of the manifest it derived or first accepted;
# a later rewrite of graphs + manifest no longer matches. Kept in SCRIBE_HOME (owner-only), not beside the models,
# so nothing is written into a shared or read-only model folder and nobody who can only write there can re-seal.
def _install_key(home: Path) -> bytes:
    kp = Path(home) / "keys" / "models.key"
    try:
        data = kp.read_bytes()
        if len(data) == 32:
            return data
    except OSError:
        pass
    kp.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = kp.with_name(f"{kp.name}.{os.getpid()}.tmp")
    fd = os.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(os.urandom(32))
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, kp)           # first writer wins; a racing process then reads the winner's key
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return kp.read_bytes()


def _seals_path(home: Path) -> Path:
    return Path(home) / "keys" / "derived-seals.json"


def _mac(m: Manifest, key: bytes) -> str:
    body = json.dumps(m.data, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, str(m.root.resolve()).encode() + b"\0" + body, hashlib.sha256).hexdigest()


def _seals(home: Path) -> dict[str, str]:
    try:
        d = json.loads(_seals_path(home).read_text())
        return d if isinstance(d, dict) else {}
    except (OSError, ValueError):
        return {}


def seal_derived(m: Manifest, home: Path) -> None:
    """Record that this install derived (or accepted) exactly these derived files."""
    key = _install_key(home)
    seals = _seals(home)
    seals[str(m.root.resolve())] = _mac(m, key)
    sp = _seals_path(home)
    tmp = sp.with_name(f"{sp.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(seals, indent=1))
    os.replace(tmp, sp)


def derived_sealed(m: Manifest, home: Path) -> bool | None:
    """True: sealed by this install and unchanged. False: sealed, but the files or manifest changed since.
    None: never seen by this install (the caller seals it after verifying it against its sources' hashes)."""
    seal = _seals(home).get(str(m.root.resolve()))
    if seal is None:
        return None
    return hmac.compare_digest(seal, _mac(m, _install_key(home)))
