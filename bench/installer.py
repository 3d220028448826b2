"""What verification costs: the signed offline installer against a plain unverified offline pip install.

    .venv/bin/python bench/installer.py [--models moonshine-base-en] [--keep DIR]

Tiny configuration: `--models none` (wheels only). Builds a Linux bundle with a throwaway key (wheelhouse cached),
then times, each in a network namespace with no network (`unshare -n`, root):
  verify    install.py --verify-only (pure-Python Ed25519 + sha256 of every file)  vs  `sha256sum -c` (coreutils)
  signature pure-Python Ed25519 verify of bundle.json                               vs  OpenSSL (cryptography)
  install   install.py (verify, copy with re-hash, venv, pip, pip check; no selfcheck)
            vs  `python -m venv` + `pip install --no-index --find-links wheels scribe` (no verification at all)
Prints a table and a final JSON line; writes bench/results/installer.json.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "packaging"
PY = getattr(sys, "_base_executable", sys.executable)


def timed(cmd, **kw) -> float:
    t = time.perf_counter()
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"bench: {cmd[0]} failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="moonshine-base-en", help="models to bundle (comma list or 'none')")
    ap.add_argument("--keep", type=Path, help="keep the work folder here instead of a temporary one")
    args = ap.parse_args()
    print(f"config: models={args.models} python={PY} cores={os.cpu_count()}")
    work = Path(args.keep or tempfile.mkdtemp(prefix="scribe-bench-pkg-"))
    work.mkdir(parents=True, exist_ok=True)
    res: dict = {}
    try:
        timed([sys.executable, PKG / "keys.py", "generate", "--out", work / "k"])
        b = work / "bundle"
        res["build_s"] = timed([sys.executable, PKG / "build.py", "--out", b, "--key", work / "k/scribe-release.key",
                                "--test-key", "--models", args.models])
        man = json.loads((b / "bundle.json").read_bytes())
        res["bundle_mb"] = round(sum(f["size"] for f in man["files"]) / 1e6, 1)
        res["files"] = len(man["files"])
        res["verify_s"] = timed(["unshare", "-n", PY, b / "install.py", b, "--verify-only"])
        (work / "SUMS").write_text("".join(f"{f['sha256']}  {f['path']}\n" for f in man["files"]))
        res["sha256sum_s"] = timed(["sha256sum", "--quiet", "-c", work / "SUMS"], cwd=b)

        spec = importlib.util.spec_from_file_location("_bench_install", b / "install.py")
        inst = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(inst)
        import base64
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        raw, sig = (b / "bundle.json").read_bytes(), base64.b64decode((b / "bundle.json.sig").read_text())
        pub = bytes.fromhex(inst.PINNED_PUBLIC_KEY)
        n = 20
        t = time.perf_counter()
        for _ in range(n):
            assert inst.ed25519_verify(pub, raw, sig)
        res["ed25519_pure_ms"] = round((time.perf_counter() - t) / n * 1e3, 2)
        k = Ed25519PublicKey.from_public_bytes(pub)
        t = time.perf_counter()
        for _ in range(n):
            k.verify(sig, raw)
        res["ed25519_openssl_ms"] = round((time.perf_counter() - t) / n * 1e3, 3)

        res["install_s"] = timed(["unshare", "-n", PY, b / "install.py", b, "--prefix", work / "ours",
                                  "--no-selfcheck", "-q"])
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
        t = time.perf_counter()
        timed(["unshare", "-n", PY, "-m", "venv", work / "peer"])
        timed(["unshare", "-n", work / "peer/bin/python", "-m", "pip", "install", "-q", "--no-index",
               "--disable-pip-version-check", "--find-links", b / "wheels", "scribe"], env=env)
        res["peer_install_s"] = time.perf_counter() - t
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    res = {k: round(v, 2) if isinstance(v, float) else v for k, v in res.items()}
    rows = [("verify bundle (sig + every sha256)", res["verify_s"], "sha256sum -c", res["sha256sum_s"], "s"),
            ("Ed25519 verify of bundle.json", res["ed25519_pure_ms"], "OpenSSL", res["ed25519_openssl_ms"], "ms"),
            ("offline install (verified)", res["install_s"], "venv + pip, unverified", res["peer_install_s"], "s")]
    print(f"\nbundle: {res['files']} files, {res['bundle_mb']} MB, built in {res['build_s']} s")
    print(f"{'ours':38} {'value':>9}   {'peer':24} {'value':>9}   ratio")
    for name, ours, peer, pv, unit in rows:
        print(f"{name:38} {ours:>7} {unit:2}  {peer:24} {pv:>7} {unit:2}  {ours / pv if pv else float('nan'):.2f}x")
    res["ratio_install"] = round(res["install_s"] / res["peer_install_s"], 2)
    res["ratio_verify"] = round(res["verify_s"] / res["sha256sum_s"], 2)
    out = ROOT / "bench" / "results" / "installer.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
