"""Model manifests and sha256 verification. The only module that opens model files to check them.

A model lives in `models/<name>/` with `manifest.json`:
    {"name", "kind", "description", "source": {"package", "version", ...}, "license",
     "files": [{"path", "sha256", "size"}], ...extra keys per kind}
Nothing loads unless every listed file exists with the listed size and sha256.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import ModelError

__all__ = ["FileEntry", "Manifest", "sha256_file", "load_manifest", "verify_model", "list_models",
           "write_manifest", "model_dir"]

MANIFEST = "manifest.json"
_VERIFIED: dict[tuple[str, int, int], str] = {}   # (path, size, mtime_ns) -> sha256, per process


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
        key = (str(p), st.st_size, st.st_mtime_ns)
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
