#!/usr/bin/env python3
"""Scribe offline installer: verify a signed bundle, then install it with no network.

    python3 install.py BUNDLE_DIR --verify-only            # check signature + every file, touch nothing
    python3 install.py BUNDLE_DIR [--prefix DIR]           # verify, then install (fresh virtualenv, models, launcher)
    python3 install.py --uninstall [--prefix DIR]          # remove an installation (user data is kept)
    python3 install.py --fingerprint                       # print the pinned release key's fingerprint

Tiny CPU configuration: the installed app's selfcheck runs with SCRIBE_THREADS=1.

Standard library only: this runs before anything is installed, so it trusts no code from the bundle. Trust chain
(details in packaging/README.md): the Ed25519 public key pinned below is the root; compare its fingerprint with
the one published for the release (or use an install.py from an earlier verified release). The signature covers
bundle.json, which lists every file's size and sha256; nothing is written anywhere until all of them check out,
and files are hashed again while being copied into the prefix so a file swapped after verification is caught.
Any problem: one line on stderr naming the file, exit 2, nothing installed.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Stamped by packaging/build.py with the signing key's raw public key (64 hex digits). Empty in the source tree:
# then --pubkey is required.
PINNED_PUBLIC_KEY = ""

FORMAT = "scribe-bundle/1"
MANIFEST = "bundle.json"
SIGNATURE = "bundle.json.sig"
RECORD = "install-record.json"
INCOMPLETE = ".scribe-install-incomplete"
_IGNORABLE = {".DS_Store", "Thumbs.db", "desktop.ini"}   # OS litter a file manager may drop into a copied folder


class BundleError(Exception):
    """One-line, user-facing refusal (exit 2)."""


# ---- Ed25519 verification (RFC 8032 section 5.1.7; math after its section 6 reference code) -----------------
# Pure Python so the installer needs nothing but the standard library; verification only (no secret data, so
# constant time does not matter). Checked against `cryptography` and the RFC test vectors in the test suite.
_P = 2 ** 255 - 19
_L = 2 ** 252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _pt_add(a, b):
    A = (a[1] - a[0]) * (b[1] - b[0]) % _P
    B = (a[1] + a[0]) * (b[1] + b[0]) % _P
    C = 2 * a[3] * b[3] * _D % _P
    D = 2 * a[2] * b[2] % _P
    E, F, G, H = B - A, D - C, D + C, B + A
    return (E * F % _P, G * H % _P, F * G % _P, E * H % _P)


def _pt_mul(s: int, pt):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _pt_add(q, pt)
        pt = _pt_add(pt, pt)
        s >>= 1
    return q


def _pt_equal(a, b) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


def _recover_x(y: int, sign: int):
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    return _P - x if (x & 1) != sign else x


def _decompress(s: bytes):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % _P)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    if len(public) != 32 or len(signature) != 64:
        return False
    a, r = _decompress(public), _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:   # reject malleable (non-canonical) signatures
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _L
    return _pt_equal(_pt_mul(s, _G), _pt_add(r, _pt_mul(h, a)))


def fingerprint(public: bytes) -> str:
    h = hashlib.sha256(public).hexdigest()[:32]
    return ":".join(h[i:i + 4] for i in range(0, 32, 4))


# ---- verification (read-only) -------------------------------------------------------------------------------
def _load_key(spec: str | None) -> bytes:
    text = spec if spec is not None else PINNED_PUBLIC_KEY
    if spec is not None and os.path.isfile(spec):
        text = "".join(ln.split("#")[0] for ln in Path(spec).read_text().splitlines())
    text = "".join(text.split())
    if not text:
        raise BundleError("no public key pinned in this install.py (a source-tree copy): pass --pubkey HEX|FILE")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    pt = _decompress(key) if len(key) == 32 else None
    # a small-order point (8A = identity) would let anyone forge signatures: never accept one as the root
    if pt is None or _pt_equal(_pt_mul(8, pt), (0, 1, 1, 0)):
        raise BundleError(f"public key {'--pubkey' if spec else 'pinned in install.py'} is not a valid Ed25519 key")
    return key


def _safe_rel(rel: object) -> str:
    """A manifest path must stay inside the bundle: relative, forward slashes, no '..', no drive."""
    if not isinstance(rel, str) or not rel or rel.startswith(("/", "\\")) or "\\" in rel or ":" in rel:
        raise BundleError(f"{MANIFEST}: unsafe path {rel!r}")
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise BundleError(f"{MANIFEST}: unsafe path {rel!r}")
    return rel


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def verify_bundle(bundle: Path, key: bytes, log=print) -> dict:
    """Check the signature, then every listed file; refuse unlisted files. Returns the manifest. Writes nothing."""
    bundle = Path(bundle)
    if not bundle.is_dir():
        raise BundleError(f"{bundle}: not a bundle folder")
    mpath, spath = bundle / MANIFEST, bundle / SIGNATURE
    for p in (mpath, spath):
        if not p.is_file() or p.is_symlink():
            raise BundleError(f"{p}: missing")
    raw = mpath.read_bytes()
    try:
        sig = base64.b64decode(spath.read_text().strip(), validate=True)
    except (ValueError, UnicodeDecodeError):
        sig = b""
    if not ed25519_verify(key, raw, sig):
        raise BundleError(f"{mpath} does not match its signature {spath} under key {fingerprint(key)}: "
                          f"tampered, or signed by another key")
    try:
        man = json.loads(raw)
        files = man["files"]
        assert man["format"] == FORMAT and isinstance(files, list)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise BundleError(f"{mpath}: not a {FORMAT} manifest") from None
    listed: dict[str, dict] = {}
    for fe in files:
        rel = _safe_rel(fe.get("path") if isinstance(fe, dict) else None)
        if (not isinstance(fe.get("size"), int) or fe["size"] < 0 or not isinstance(fe.get("sha256"), str)
                or len(fe["sha256"]) != 64 or rel in listed):
            raise BundleError(f"{mpath}: bad or duplicate entry for {rel!r}")
        listed[rel] = fe
    app = man.get("app")
    if not (isinstance(app, dict) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", str(app.get("name", "")))
            and re.fullmatch(r"[0-9][A-Za-z0-9.+!-]*", str(app.get("version", "")))):
        raise BundleError(f"{mpath}: missing or invalid app name/version")
    total = sum(int(fe["size"]) for fe in files)
    log(f"signature ok (key {fingerprint(key)}); checking {len(listed)} files, {total / 1e6:.0f} MB")
    t0 = time.monotonic()
    for rel, fe in listed.items():
        p = bundle / rel
        if p.is_symlink() or not p.is_file():
            raise BundleError(f"{p}: missing" + (" (symlink refused)" if p.is_symlink() else ""))
        if p.stat().st_size != int(fe["size"]) or _hash_file(p) != str(fe["sha256"]).lower():
            raise BundleError(f"{p}: sha256 mismatch with the signed manifest: tampered or corrupt")
    for dirpath, dirnames, filenames in os.walk(bundle):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            rel = os.path.relpath(os.path.join(dirpath, name), bundle).replace(os.sep, "/")
            # __pycache__/*.pyc appears if something imported install.py; nothing from it is ever used or copied
            litter = name in _IGNORABLE or (rel.startswith("__pycache__/") and name.endswith(".pyc"))
            if rel not in listed and rel not in (MANIFEST, SIGNATURE) and not litter:
                raise BundleError(f"{bundle / rel}: not listed in the signed manifest")
    log(f"all files match the signed manifest ({time.monotonic() - t0:.1f} s)")
    if man.get("channel") != "release":
        log(f"NOTE: a {man.get('channel', 'unmarked')!r}-channel bundle, signed with a non-release key: "
            f"not for production use")
    return man


def _check_target(man: dict, python: str) -> None:
    plat = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    if man.get("platform") != plat:
        raise BundleError(f"{MANIFEST}: bundle is for {man.get('platform')}, this machine is {plat}")
    try:
        r = subprocess.run([python, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        have = r.stdout.strip()
    except OSError:
        have = "not runnable"
    if have != man.get("python"):
        raise BundleError(f"{python}: Python {have}, but the bundle's wheels are for Python {man.get('python')}: "
                          f"pass --python PATH_TO_PYTHON{man.get('python')}")


# ---- install ----------------------------------------------------------------------------------------------
def _copy_verified(bundle: Path, rel: str, fe: dict, dest: Path) -> None:
    """Copy while hashing, so what lands in the prefix is exactly what was verified."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    with open(bundle / rel, "rb") as src, open(dest, "wb") as out:
        while chunk := src.read(1 << 20):
            h.update(chunk)
            out.write(chunk)
    if h.hexdigest() != str(fe["sha256"]).lower():
        raise BundleError(f"{bundle / rel}: changed after verification (sha256 mismatch while copying)")


def _clean_env(**extra: str) -> dict:
    """No PIP_* or PYTHON* variables and no pip config files: only the bundle's wheels may be installed."""
    # SCRIBE_* too: the installer's selfcheck must not pick up the operator's store, passphrase or model choice
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "SCRIBE_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1",
               PYTHONNOUSERSITE="1", **extra)
    return env


def _run(cmd: list, what: str, env: dict, log) -> str:
    t0 = time.monotonic()
    r = subprocess.run([str(c) for c in cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        tail = [ln for ln in r.stdout.strip().splitlines() if ln.strip()][-1:] or ["(no output)"]
        raise BundleError(f"{what} failed (exit {r.returncode}): {tail[0].strip()}")
    log(f"{what}: ok ({time.monotonic() - t0:.1f} s)")
    return r.stdout


def _venv_python(prefix: Path) -> Path:
    return prefix / "venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _write_launchers(prefix: Path, base_python: str) -> list[str]:
    bind = prefix / "bin"
    bind.mkdir(parents=True, exist_ok=True)
    if os.name == "nt":
        (bind / "scribe.cmd").write_text(
            '@echo off\r\nset "SCRIBE_MODELS=%~dp0..\\models"\r\nset "SCRIBE_TEMPLATES=%~dp0..\\templates"\r\n'
            '"%~dp0..\\venv\\Scripts\\python.exe" -I -m scribe %*\r\n')
        (bind / "scribe-uninstall.cmd").write_text(
            f'@echo off\r\n"{base_python}" "%~dp0..\\lib\\install.py" --uninstall --prefix "%~dp0.."\r\n')
        return ["bin/scribe.cmd", "bin/scribe-uninstall.cmd"]
    # -I: ignore PYTHON* variables, user site-packages and the current folder, so nothing shadows the app
    (bind / "scribe").write_text(
        '#!/bin/sh\nhere=$(cd "$(dirname "$0")/.." && pwd)\n'
        'export SCRIBE_MODELS="$here/models" SCRIBE_TEMPLATES="$here/templates"\n'
        'exec "$here/venv/bin/python" -I -m scribe "$@"\n')
    (bind / "scribe-uninstall").write_text(
        f'#!/bin/sh\nhere=$(cd "$(dirname "$0")/.." && pwd)\nexec "{base_python}" "$here/lib/install.py" '
        '--uninstall --prefix "$here"\n')
    for n in ("scribe", "scribe-uninstall"):
        os.chmod(bind / n, 0o755)
    apps = prefix / "share" / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    (apps / "scribe.desktop").write_text(
        f"[Desktop Entry]\nType=Application\nName=Scribe\nComment=Offline clinical and legal scribe\n"
        f"Exec={bind / 'scribe'}\nTerminal=false\nCategories=Office;MedicalSoftware;\n")
    return ["bin/scribe", "bin/scribe-uninstall", "share/applications/scribe.desktop"]


def _selfcheck(prefix: Path, env: dict, log) -> str:
    py = _venv_python(prefix)
    probe = ("import importlib.util,sys\ntry:\n ok = importlib.util.find_spec('scribe.cli.selfcheck')\n"
             "except ImportError:\n ok = None\nsys.exit(0 if ok else 3)")
    if subprocess.run([str(py), "-I", "-c", probe], env=env, stderr=subprocess.DEVNULL).returncode == 3:
        log("selfcheck: skipped: the installed app has no selfcheck command")
        return "absent"
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="scribe-selfcheck-") as home:   # never the user's store
        r = subprocess.run([str(py), "-I", "-m", "scribe", "selfcheck", "--json"], env=dict(env, SCRIBE_HOME=home),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        res = json.loads(r.stdout)
    except ValueError:
        res = None
    if r.returncode != 0 or not isinstance(res, dict) or not res.get("ok"):
        if isinstance(res, dict):
            bad = [k for k, v in res.items() if v is False and k != "ok"]
            bad += [f"model {k}: {v}" for k, v in (res.get("models") or {}).items() if v != "verified"]
            why = "; ".join(bad) or "not ok"
        else:
            why = ([ln for ln in (r.stderr + r.stdout).splitlines() if ln.strip()] or ["no output"])[-1]
        raise BundleError(f"selfcheck of the installed copy failed (exit {r.returncode}): {why}")
    log(f"selfcheck (installed copy): ok ({time.monotonic() - t0:.1f} s)")
    return "passed"


def install(bundle: Path, prefix: Path, key: bytes, python: str, log=print, selfcheck: bool = True) -> dict:
    man = verify_bundle(bundle, key, log)
    _check_target(man, python)
    prefix = prefix.resolve()
    previous = None
    if prefix.exists() and any(prefix.iterdir()):
        if (prefix / INCOMPLETE).is_file() and not (prefix / RECORD).is_file():
            raise BundleError(f"{prefix}: holds an interrupted installation: remove it first with --uninstall")
        if not (prefix / RECORD).is_file():
            raise BundleError(f"{prefix}: exists, is not empty and is not a Scribe installation: choose another "
                              f"--prefix")
        previous = prefix.with_name(f"{prefix.name}.previous-{os.getpid()}")
        log(f"replacing the existing installation at {prefix}")
        os.replace(prefix, previous)
    created = not prefix.exists()
    try:
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / INCOMPLETE).write_text("installation in progress or failed; remove with --uninstall\n")
        files = {fe["path"]: fe for fe in man["files"]}
        stage = prefix / ".staging"
        for rel, fe in files.items():
            top = rel.split("/")[0]
            if top == "wheels":
                _copy_verified(bundle, rel, fe, stage / rel)
            elif top in ("models", "templates"):
                _copy_verified(bundle, rel, fe, prefix / rel)
        (prefix / "templates").mkdir(exist_ok=True)
        # the uninstaller is this very script (the code the operator trusted), not the bundle's copy of it
        (prefix / "lib").mkdir(exist_ok=True)
        shutil.copyfile(Path(__file__).resolve(), prefix / "lib" / "install.py")
        log(f"copied {len(files)} verified files into {prefix}")
        env = _clean_env(SCRIBE_MODELS=str(prefix / "models"), SCRIBE_TEMPLATES=str(prefix / "templates"),
                         SCRIBE_THREADS="1")
        _run([python, "-m", "venv", prefix / "venv"], "virtualenv", env, log)
        app = man["app"]
        _run([_venv_python(prefix), "-I", "-m", "pip", "install", "--no-index", "--find-links", stage / "wheels",
              "--only-binary=:all:", "--no-cache-dir", "--no-warn-script-location", f"{app['name']}=={app['version']}"],
             f"pip install {app['name']}=={app['version']} (offline, bundle wheels only)", env, log)
        _run([_venv_python(prefix), "-I", "-m", "pip", "check"], "pip check", env, log)
        shutil.rmtree(stage)
        launchers = _write_launchers(prefix, python)
        check = _selfcheck(prefix, env, log) if selfcheck else "not run (--no-selfcheck)"
        record = {"format": "scribe-install/1", "app": app, "platform": man["platform"], "prefix": str(prefix),
                  "key_fingerprint": fingerprint(key), "bundle_created": man.get("created"),
                  "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "selfcheck": check,
                  "launchers": launchers, "base_python": python,
                  "entries": sorted(p.name for p in prefix.iterdir() if p.name != INCOMPLETE) + [RECORD]}
        (prefix / RECORD).write_text(json.dumps(record, indent=2) + "\n")
        (prefix / INCOMPLETE).unlink()
    except BaseException:
        if created:
            shutil.rmtree(prefix, ignore_errors=True)
        else:   # an empty folder the operator made for us: empty it again, keep it
            for p in prefix.iterdir():
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() and not p.is_symlink() else p.unlink()
        if previous is not None:
            os.replace(previous, prefix)
        raise
    if previous is not None:
        _carry_over(previous, prefix, log)
        shutil.rmtree(previous, ignore_errors=True)
    return record


def _carry_over(previous: Path, prefix: Path, log) -> None:
    """Files the operator put into the old installation's folder move into the new one (never silently lost)."""
    try:
        ours = set(json.loads((previous / RECORD).read_text()).get("entries", []))
    except (OSError, ValueError):
        ours = set()
    ours |= {"venv", "models", "templates", "bin", "lib", "share", ".staging", RECORD, INCOMPLETE}
    for p in previous.iterdir():
        if p.name not in ours and not (prefix / p.name).exists():
            os.replace(p, prefix / p.name)
            log(f"kept {p.name} from the previous installation")


def uninstall(prefix: Path, log=print) -> None:
    prefix = prefix.resolve()
    rec = prefix / RECORD
    if not rec.is_file() and not (prefix / INCOMPLETE).is_file():
        raise BundleError(f"{prefix}: not a Scribe installation ({RECORD} missing): nothing removed")
    try:
        entries = json.loads(rec.read_text())["entries"] if rec.is_file() else []
    except (ValueError, KeyError, OSError):
        raise BundleError(f"{rec}: unreadable install record: nothing removed") from None
    known = set(entries) | {"venv", "models", "templates", "bin", "lib", "share", ".staging", RECORD, INCOMPLETE}
    for name in sorted(known):
        if "/" in name or "\\" in name or name in ("", ".", ".."):
            continue
        p = prefix / name
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        elif p.exists() or p.is_symlink():
            p.unlink()
    left = sorted(p.name for p in prefix.iterdir())
    if left:
        log(f"removed Scribe from {prefix}; kept files not installed by it: {', '.join(left)}")
    else:
        prefix.rmdir()
        log(f"removed Scribe from {prefix}")
    log("user data (SCRIBE_HOME, default ~/.scribe: notes store, logs, settings) is kept")


def default_prefix() -> Path:
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "Scribe"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Scribe"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "scribe"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="install.py", description="Verify and install a signed Scribe bundle offline.")
    ap.add_argument("bundle", nargs="?", type=Path, help="bundle folder (holds bundle.json and bundle.json.sig)")
    ap.add_argument("--prefix", type=Path, default=None, help=f"install folder (default: {default_prefix()})")
    ap.add_argument("--verify-only", action="store_true", help="verify signature and every file; install nothing")
    ap.add_argument("--uninstall", action="store_true", help="remove the installation at --prefix (keeps user data)")
    ap.add_argument("--pubkey", help="verify with this Ed25519 public key (64 hex digits, or a .pub file) instead "
                                     "of the pinned one; use a key obtained through a separate channel")
    ap.add_argument("--python", default=sys.executable,
                    help="Python 3.11 interpreter for the virtualenv (default: the one running this script)")
    ap.add_argument("--no-selfcheck", action="store_true",
                    help="do not run `scribe selfcheck` after installing (recorded in install-record.json)")
    ap.add_argument("--fingerprint", action="store_true", help="print the pinned key's fingerprint and exit")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only errors and the final line")
    args = ap.parse_args(argv)
    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    prefix = args.prefix or default_prefix()
    try:
        if args.fingerprint:
            print(fingerprint(_load_key(args.pubkey)))
            return 0
        if args.uninstall:
            uninstall(prefix, log)
            return 0
        if args.bundle is None:
            raise BundleError("BUNDLE is required (or --uninstall / --fingerprint)")
        key = _load_key(args.pubkey)
        if args.verify_only:
            man = verify_bundle(args.bundle, key, log)
            print(f"verified: {man['app']['name']} {man['app']['version']} for {man.get('platform')}, "
                  f"{len(man['files'])} files, key {fingerprint(key)}")
            return 0
        rec = install(args.bundle, prefix, key, args.python, log, selfcheck=not args.no_selfcheck)
        print(f"installed {rec['app']['name']} {rec['app']['version']} into {rec['prefix']}; "
              f"run {Path(rec['prefix']) / rec['launchers'][0]}")
        return 0
    except BundleError as e:
        print(f"install.py: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"install.py: error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("install.py: interrupted; nothing installed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
