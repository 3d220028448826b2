"""Wheelhouse for a target platform: every runtime dependency as a binary wheel, resolved for the TARGET's markers.

    python packaging/wheelhouse.py --platform windows --override "onnxruntime-genai-directml>=0.12,<0.13" --out W APP.whl

Why not plain `pip download --platform`: pip evaluates environment markers (`sys_platform == 'win32'`) against the
machine it runs on, not the --platform target, so a Linux host would fetch Linux's `onnxruntime` for a Windows
bundle and skip `onnxruntime-directml`. This module walks the dependency graph itself, evaluating each
Requires-Dist marker for the target, and asks pip only for single wheels (`--no-deps`). It has no backtracking:
when two packages constrain one dependency it intersects the specifiers and refetches; an unsatisfiable graph
is an error naming the package. Results are cached per (target, requirements) so repeated builds need no network.
"""
from __future__ import annotations

import email.parser
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename

__all__ = ["Target", "TARGETS", "Locked", "resolve", "WheelhouseError", "wheel_requirements"]

RESOLVER_VERSION = 1


class WheelhouseError(Exception):
    """One-line resolution problem (exit 2)."""


@dataclass(frozen=True)
class Target:
    name: str
    pip_platforms: tuple[str, ...]    # pip expands manylinux/macosx tags to older compatible ones itself
    markers: dict = field(default_factory=dict, hash=False)


def _markers(sys_platform: str, system: str, os_name: str, machine: str, python: str) -> dict:
    env = default_environment()
    env.update(sys_platform=sys_platform, platform_system=system, os_name=os_name, platform_machine=machine,
               python_version=python, python_full_version=f"{python}.0", implementation_name="cpython",
               platform_python_implementation="CPython", platform_release="", platform_version="")
    return env


def _manylinux(glibc: str) -> tuple[str, ...]:
    # pip does not expand PEP 600 tags to older ones for --platform: list every compatible one, newest first
    minor = int(glibc.split(".")[1])
    return tuple(f"manylinux_2_{m}_x86_64" for m in range(minor, 16, -1)) + ("manylinux2014_x86_64",
                                                                            "manylinux2010_x86_64",
                                                                            "manylinux1_x86_64")


def TARGETS(python: str = "3.11", glibc: str = "2.34") -> dict[str, Target]:
    return {
        # glibc 2.34 (RHEL 9, Ubuntu 22.04+, Debian 12): the PySide6 6.10+ wheels need it; --glibc 2.28 for RHEL 8
        # (then pip picks PySide6 6.9, the newest built for 2.28)
        "linux": Target("linux", _manylinux(glibc), _markers("linux", "Linux", "posix", "x86_64", python)),
        "windows": Target("windows", ("win_amd64",), _markers("win32", "Windows", "nt", "AMD64", python)),
        "macos": Target("macos", ("macosx_11_0_arm64",), _markers("darwin", "Darwin", "posix", "arm64", python)),
    }


@dataclass
class Locked:
    name: str
    version: str
    file: str
    sha256: str


def wheel_requirements(whl: Path) -> tuple[str, str, list[str]]:
    """(name, version, Requires-Dist lines) from a wheel's METADATA."""
    with zipfile.ZipFile(whl) as z:
        meta = [n for n in z.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1]
        if not meta:
            raise WheelhouseError(f"{whl.name}: no METADATA")
        msg = email.parser.Parser().parsestr(z.read(meta[0]).decode("utf-8"))
    return msg["Name"], msg["Version"], msg.get_all("Requires-Dist") or []


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _applies(req: Requirement, target: Target, extras: set[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate(dict(target.markers, extra=e)) for e in (extras or {""}))


def _pip_download(specs: list[str], target: Target, python: str, dest: Path, log) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--implementation", "cp",
           "--python-version", python, "--abi", "cp" + python.replace(".", ""), "--progress-bar", "off",
           "--disable-pip-version-check", "-d", str(dest)]
    for plat in target.pip_platforms:
        cmd += ["--platform", plat]
    log(f"  pip download ({target.name}): {', '.join(specs)}")
    r = subprocess.run(cmd + specs, capture_output=True, text=True)
    if r.returncode != 0:
        err = [ln for ln in r.stderr.splitlines() if ln.startswith("ERROR")][:1] or r.stderr.strip().splitlines()[-1:]
        raise WheelhouseError(f"no {target.name} wheel for {', '.join(specs)}: {err[0] if err else 'pip failed'}")


def _best(dest: Path, name: str, spec: SpecifierSet) -> Path | None:
    best = None
    for w in dest.glob("*.whl"):
        try:
            n, v, _, _ = parse_wheel_filename(w.name)
        except ValueError:
            continue
        if n == name and spec.contains(v, prereleases=True) and (best is None or v > best[0]):
            best = (v, w)
    return best[1] if best else None


def resolve(app_wheel: Path, target: Target, python: str, cache: Path, out: Path,
            overrides: list[str] = (), log=print) -> list[Locked]:
    """Copy the app wheel's runtime dependency closure for `target` into `out`; return the lock (app excluded)."""
    app_name, _, app_reqs = wheel_requirements(app_wheel)
    override = {canonicalize_name(Requirement(o).name): Requirement(o) for o in overrides}
    key_src = json.dumps([RESOLVER_VERSION, target.name, target.pip_platforms, python, sorted(app_reqs),
                          sorted(overrides)])
    key = hashlib.sha256(key_src.encode()).hexdigest()[:16]
    dl = Path(cache) / f"wheels-{target.name}-py{python}"
    lock_path = Path(cache) / f"lock-{target.name}-py{python}-{key}.json"
    dl.mkdir(parents=True, exist_ok=True)
    lock = _cached_lock(lock_path, dl)
    if lock is None:
        lock = _walk(app_name, app_reqs, override, target, python, dl, log)
        lock_path.write_text(json.dumps([vars(x) for x in lock], indent=1))
    else:
        log(f"  wheelhouse for {target.name}: {len(lock)} wheels from cache {lock_path.name}")
    out.mkdir(parents=True, exist_ok=True)
    for x in lock:
        shutil.copyfile(dl / x.file, out / x.file)
    return lock


def _cached_lock(lock_path: Path, dl: Path) -> list[Locked] | None:
    if not lock_path.is_file():
        return None
    try:
        lock = [Locked(**x) for x in json.loads(lock_path.read_text())]
    except (ValueError, TypeError):
        return None
    for x in lock:   # a cached wheel is re-hashed: the cache is not trusted more than the index
        if not (dl / x.file).is_file() or _sha256(dl / x.file) != x.sha256:
            return None
    return lock


def _walk(app_name, app_reqs, override, target, python, dl, log) -> list[Locked]:
    want: dict[str, SpecifierSet] = {}
    extras: dict[str, set[str]] = {}
    why: dict[str, str] = {}
    have: dict[str, tuple[str, Path]] = {}
    done_meta: dict[str, tuple[str, frozenset]] = {}

    def add(reqs: list[str], parent: str, parent_extras: set[str]):
        for line in reqs:
            r = Requirement(line)
            n = canonicalize_name(r.name)
            if n in override:
                r = override[n]
            if not _applies(r, target, parent_extras):
                continue
            want[n] = want.get(n, SpecifierSet()) & r.specifier
            extras.setdefault(n, set()).update(r.extras)
            why.setdefault(n, parent)

    add(app_reqs, app_name, set())
    for _ in range(50):
        fetch = [n for n in want if n not in have or not want[n].contains(have[n][0], prereleases=True)]
        if fetch:
            _pip_download([f"{n}{want[n]}" for n in sorted(fetch)], target, python, dl, log)
            for n in fetch:
                w = _best(dl, n, want[n])
                if w is None:
                    raise WheelhouseError(f"{n}{want[n]} (needed by {why[n]}): no matching {target.name} wheel")
                have[n] = (str(parse_wheel_filename(w.name)[1]), w)
        todo = [n for n in want if done_meta.get(n) != (have[n][0], frozenset(extras[n]))]
        if not todo and not fetch:
            break
        for n in todo:
            _, _, reqs = wheel_requirements(have[n][1])
            done_meta[n] = (have[n][0], frozenset(extras[n]))
            add(reqs, n, extras[n])
    else:
        raise WheelhouseError("dependency walk did not settle after 50 rounds")
    return [Locked(n, v, w.name, _sha256(w)) for n, (v, w) in sorted(have.items())]


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="Resolve and fetch a target platform's runtime wheelhouse.")
    ap.add_argument("app_wheel", type=Path, help="the app wheel whose Requires-Dist to follow")
    ap.add_argument("--platform", default="linux", choices=["linux", "windows", "macos"], help="target platform")
    ap.add_argument("--python", default="3.11", help="target Python version")
    ap.add_argument("--glibc", default="2.34", help="oldest glibc the Linux wheels may need (default 2.34)")
    ap.add_argument("--override", action="append", default=[], help="replace a requirement by name (repeatable)")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "scribe-packaging", help="cache folder")
    ap.add_argument("--out", type=Path, required=True, help="folder to copy the wheels into")
    a = ap.parse_args()
    try:
        for x in resolve(a.app_wheel, TARGETS(a.python, a.glibc)[a.platform], a.python, a.cache, a.out, a.override,
                         log=lambda m: print(m, file=sys.stderr)):
            print(f"{x.name}=={x.version}  {x.file}")
    except WheelhouseError as e:
        print(f"wheelhouse.py: error: {e}", file=sys.stderr)
        sys.exit(2)
