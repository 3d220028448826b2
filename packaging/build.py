#!/usr/bin/env python3
"""Build a signed, offline Scribe bundle.

    python packaging/build.py --out DIR --key ~/.config/scribe-signing/scribe-release.key [--platform linux]

Tiny configuration (what the tests do): `keys.py generate --out /tmp/k`, then
`build.py --out /tmp/b --key /tmp/k/scribe-release.key --test-key --models moonshine-base-en`.

The bundle (a folder; zip or copy it as a whole):
    bundle.json          format, app, target, resolved packages, models, every file's size + sha256
    bundle.json.sig      detached Ed25519 signature of bundle.json's exact bytes (base64)
    install.py           the standard-library installer with the signing public key pinned into it
    wheels/              the app wheel + every runtime dependency for the target platform and Python
    models/<name>/       verified models with their manifests;   templates/   built-in templates
Signing key: --key, else $SCRIBE_SIGNING_KEY. Its public half must equal the committed packaging/release-key.pub
unless --test-key (throwaway keys: the bundle is marked channel "test").
"""
from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))   # scribe.modelstore verifies models; only read from the repo being packaged


def _sibling(name: str):
    # load packaging/<name>.py by path: packaging/ is scripts, never an importable package
    spec = importlib.util.spec_from_file_location(f"_scribe_packaging_{name}", HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


keys = _sibling("keys")
wheelhouse = _sibling("wheelhouse")
installer = _sibling("install")

FORMAT = installer.FORMAT
PIN_LINE = 'PINNED_PUBLIC_KEY = ""'
SOURCE_FILES = ("pyproject.toml", "README.md")   # plus the scribe/ package; finetune/ is not runtime code


class BuildError(Exception):
    """One-line build problem (exit 2)."""


def _log(msg: str) -> None:
    print(f"[build] {msg}", flush=True)


def signing_key(path: Path | None, test_key: bool):
    path = path or (Path(os.environ["SCRIBE_SIGNING_KEY"]) if os.environ.get("SCRIBE_SIGNING_KEY") else None)
    if path is None:
        raise BuildError("no signing key: pass --key FILE or set SCRIBE_SIGNING_KEY (make one with "
                         "`python packaging/keys.py generate`)")
    key = keys.load_private(path)
    pub = keys.public_raw(key)
    if not test_key:
        if not keys.RELEASE_PUB.is_file():
            raise BuildError(f"{keys.RELEASE_PUB}: no committed release key; pin one with `keys.py pin KEY`, "
                             f"or pass --test-key for a throwaway build")
        if keys.read_public(keys.RELEASE_PUB) != pub:
            raise BuildError(f"{path}: not the release key pinned in {keys.RELEASE_PUB.name} "
                             f"({keys.fingerprint(keys.read_public(keys.RELEASE_PUB))}); --test-key for a test build")
    return key, pub


def _git(*args: str) -> str:
    r = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


def build_app_wheel(work: Path, source: str) -> Path:
    """Build from a clean copy (worktree: committed or not; git: exactly HEAD) so no build/ lands in the repo."""
    src = work / "src"
    if source == "git":
        src.mkdir()
        arch = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD", "pyproject.toml", "scribe"],
                              capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=arch, check=True)
    else:
        shutil.copytree(ROOT / "scribe", src / "scribe", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for f in SOURCE_FILES:
            if (ROOT / f).is_file():
                shutil.copy2(ROOT / f, src / f)
    if not (src / "README.md").exists():
        (src / "README.md").write_text("Scribe: offline, privacy-first scribe.\n")
    out = work / "appwheel"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "--disable-pip-version-check", "-w", str(out), str(src)], capture_output=True, text=True)
    if r.returncode != 0:
        raise BuildError(f"pip wheel failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
    wheels = list(out.glob("scribe-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one scribe wheel, got {[w.name for w in wheels]}")
    return wheels[0]


def default_models(models_dir: Path, asr: str) -> list[str]:
    """The ASR model, the speaker encoder and the desktop's note model(s): the default and its `-legal` twin when one is built. The
    web companion's json-v1 SmolLM2 models and the un-tuned `-base` builds are left out: the desktop refuses the
    former, and a clinician should not be able to pick the latter in Settings."""
    from scribe.config import DEFAULT_NOTE_MODEL
    found = sorted(n for n in (DEFAULT_NOTE_MODEL, f"{DEFAULT_NOTE_MODEL}-legal")
                   if (models_dir / n / "manifest.json").is_file()) if models_dir.is_dir() else []
    if DEFAULT_NOTE_MODEL not in found:
        _log(f"WARNING: the default note model {DEFAULT_NOTE_MODEL} is not built (models/{DEFAULT_NOTE_MODEL}); "
             f"the installed app's selfcheck will report it missing")
    # the speaker encoder (speaker labels), when set-up exported it: without it the app transcribes unlabelled
    speakers = ["speaker-encoder"] if (models_dir / "speaker-encoder" / "manifest.json").is_file() else []
    return [asr] + found + speakers


def derived_models(m) -> list:
    """Graphs the app derives from a model on first use (the ASR fast graphs) are built here, once, and shipped:
    then they are covered by the bundle signature, and the installed app needs neither the `onnx` package nor a
    writable model folder. They go where the app looks first: <model>/.cache/<derived name>/."""
    if m.kind != "asr":
        return []
    try:
        from scribe.asr.convert import derive
    except ImportError:
        return []   # an app without derived ASR graphs
    from scribe.errors import ScribeError
    try:
        return [derive(m, m.root / ".cache")]
    except ScribeError as e:
        raise BuildError(f"model {m.name}: cannot build its derived graphs: {e.one_line()}") from None


def copy_models(models_dir: Path, names: list[str], dest: Path) -> list[dict]:
    from scribe.errors import ScribeError
    from scribe.modelstore import verify_model
    out = []
    for name in names:
        t0 = time.monotonic()
        try:
            m = verify_model(models_dir, name)
        except ScribeError as e:
            raise BuildError(f"model {name}: {e.one_line()} (refusing to bundle an unverified model)") from None
        d = dest / name
        d.mkdir(parents=True)
        shutil.copyfile(m.root / "manifest.json", d / "manifest.json")
        for fe in m.files:
            (d / fe.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(m.root / fe.path, d / fe.path)
        # re-verify the copies: the bundle must hold what the model store vouched for
        verify_model(dest, name)
        size = sum(fe.size for fe in m.files)
        for dm in derived_models(m):
            dd = d / ".cache" / dm.name
            dd.mkdir(parents=True)
            for rel in ["manifest.json"] + [fe.path for fe in dm.files]:
                shutil.copyfile(dm.root / rel, dd / rel)
            verify_model(d / ".cache", dm.name)
            size += sum(fe.size for fe in dm.files)
            _log(f"model {name}: + derived {dm.name} ({sum(fe.size for fe in dm.files) / 1e6:.0f} MB)")
        _log(f"model {name}: {len(m.files)} files (+ derived), {size / 1e6:.0f} MB verified ({time.monotonic() - t0:.1f} s)")
        out.append({"name": name, "kind": m.kind, "license": m.get("license"), "size": size})
    return out


def stamp_installer(pub: bytes, dest: Path) -> None:
    text = (HERE / "install.py").read_text()
    if text.count(PIN_LINE) != 1:
        raise BuildError(f"{HERE / 'install.py'}: expected exactly one line {PIN_LINE!r} to pin the key")
    dest.write_text(text.replace(PIN_LINE, f'PINNED_PUBLIC_KEY = "{pub.hex()}"'))


def manifest_files(bundle: Path) -> list[dict]:
    entries = []
    for p in sorted(bundle.rglob("*")):
        if p.is_file() and p.name not in (installer.MANIFEST, installer.SIGNATURE):
            # the installer's own routine: the hash written here is the hash it will check
            entries.append({"path": p.relative_to(bundle).as_posix(), "sha256": installer._hash_file(p),
                            "size": p.stat().st_size})
    return entries


def build(args) -> dict:
    t_all = time.monotonic()
    key, pub = signing_key(args.key, args.test_key)
    _log(f"signing key {keys.fingerprint(pub)} ({'test' if args.test_key else 'release'})")
    out = args.out.resolve()
    if out.exists() and any(out.iterdir()):
        raise BuildError(f"{out}: exists and is not empty")
    from scribe.config import DEFAULT_ASR_MODEL
    target = wheelhouse.TARGETS(args.python, args.glibc)[args.platform]
    models_dir = args.models_dir.resolve()
    names = ([] if args.models == "none" else args.models.split(",") if args.models
             else default_models(models_dir, DEFAULT_ASR_MODEL))
    stage = out.with_name(f".{out.name}.building-{os.getpid()}")
    timings = {}
    try:
        stage.mkdir(parents=True)
        with tempfile.TemporaryDirectory(prefix="scribe-build-") as work:
            t = time.monotonic()
            app = build_app_wheel(Path(work), args.source)
            (stage / "wheels").mkdir()
            shutil.copyfile(app, stage / "wheels" / app.name)
            timings["app_wheel_s"] = round(time.monotonic() - t, 1)
            _log(f"app wheel {app.name} ({app.stat().st_size / 1e3:.0f} kB, {timings['app_wheel_s']} s)")
            t = time.monotonic()
            lock = wheelhouse.resolve(app, target, args.python, args.cache, stage / "wheels", args.override,
                                      log=_log)
            app_name, app_version, _ = wheelhouse.wheel_requirements(app)
        timings["wheelhouse_s"] = round(time.monotonic() - t, 1)
        _log(f"wheelhouse: {len(lock)} wheels for {target.name} py{args.python} ({timings['wheelhouse_s']} s)")
        t = time.monotonic()
        models = copy_models(models_dir, names, stage / "models")
        timings["models_s"] = round(time.monotonic() - t, 1)
        tdir = stage / "templates"
        if args.templates_dir.is_dir():
            shutil.copytree(args.templates_dir, tdir, ignore=shutil.ignore_patterns("__pycache__", ".*"))
        else:
            tdir.mkdir()
        stamp_installer(pub, stage / "install.py")
        t = time.monotonic()
        files = manifest_files(stage)
        man = {
            "format": FORMAT, "channel": "test" if args.test_key else "release",
            "app": {"name": app_name, "version": app_version, "wheel": f"wheels/{app.name}"},
            "platform": target.name, "python": args.python, "pip_platforms": list(target.pip_platforms),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "source": {"from": args.source, "commit": _git("rev-parse", "HEAD"),
                       "dirty": args.source == "worktree" and bool(
                           _git("status", "--porcelain", "--", "scribe", "pyproject.toml"))},
            "key_fingerprint": keys.fingerprint(pub), "overrides": list(args.override),
            "packages": [vars(x) for x in lock], "models": models, "files": files,
        }
        raw = (json.dumps(man, indent=1) + "\n").encode()
        (stage / installer.MANIFEST).write_bytes(raw)
        sig = keys.sign(key, raw)
        (stage / installer.SIGNATURE).write_text(base64.b64encode(sig).decode() + "\n")
        if not installer.ed25519_verify(pub, raw, sig):   # the installer's own verifier must agree
            raise BuildError("signature self-check failed")
        timings["hash_sign_s"] = round(time.monotonic() - t, 1)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.rmdir()
        os.replace(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    size = sum(f["size"] for f in files)
    wsize = sum(f["size"] for f in files if f["path"].startswith("wheels/"))
    timings["total_s"] = round(time.monotonic() - t_all, 1)
    summary = {"bundle": str(out), "platform": target.name, "files": len(files), "size_mb": round(size / 1e6, 1),
               "wheels_mb": round(wsize / 1e6, 1), "models": [m["name"] for m in models],
               "key_fingerprint": keys.fingerprint(pub), **timings}
    _log(f"bundle {out}: {len(files)} files, {size / 1e6:.0f} MB (wheels {wsize / 1e6:.0f} MB), "
         f"signed by {keys.fingerprint(pub)}, {timings['total_s']} s")
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python packaging/build.py", description="Build a signed offline Scribe bundle.")
    ap.add_argument("--out", type=Path, required=True, help="bundle folder to create (must be empty or absent)")
    ap.add_argument("--platform", choices=["linux", "windows", "macos"],
                    default={"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux"),
                    help="target platform (default: this one)")
    ap.add_argument("--python", default="3.11", help="target Python version (default 3.11)")
    ap.add_argument("--glibc", default="2.34", help="Linux: oldest glibc the wheels may need (default 2.34; "
                                                    "2.28 for RHEL 8 gets older PySide6)")
    ap.add_argument("--key", type=Path, help="Ed25519 private key (PEM); default $SCRIBE_SIGNING_KEY")
    ap.add_argument("--test-key", action="store_true",
                    help="allow a key other than packaging/release-key.pub (bundle marked channel 'test')")
    ap.add_argument("--models", help="comma-separated model names, or 'none' (default: the app's ASR model, "
                                     "the default note model and its -legal twin where built, not the eval-only -base)")
    ap.add_argument("--models-dir", type=Path, default=ROOT / "models", help="where the models live")
    ap.add_argument("--templates-dir", type=Path, default=ROOT / "templates", help="built-in templates to ship")
    ap.add_argument("--source", choices=["worktree", "git"], default="worktree",
                    help="build the app wheel from the working tree or exactly from git HEAD (release builds)")
    ap.add_argument("--override", action="append", default=[],
                    help="replace a dependency requirement by name for this target, e.g. "
                         "'onnxruntime-genai-directml>=0.12,<0.13' (recorded in the manifest; repeatable)")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("SCRIBE_PACKAGING_CACHE") or
                                                       Path.home() / ".cache" / "scribe-packaging"),
                    help="wheel cache, keyed by target and requirements (default ~/.cache/scribe-packaging)")
    ap.add_argument("--json", action="store_true", help="print the summary as one JSON line at the end")
    args = ap.parse_args(argv)
    _log("config: " + json.dumps({k: str(v) for k, v in vars(args).items() if k != "key"}))
    try:
        summary = build(args)
    except (BuildError, keys.KeyError_, wheelhouse.WheelhouseError) as e:
        print(f"build.py: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"build.py: error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
