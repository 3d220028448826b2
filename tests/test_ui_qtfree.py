"""The core stays free of Qt: every module under scribe/ except scribe/ui imports with PySide6 blocked.

Runs in a subprocess so the block cannot leak into other tests; a meta-path finder records (and refuses) every
attempt to import PySide6 or shiboken6, so even an import wrapped in try/except is caught.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import importlib, importlib.abc, json, pkgutil, sys, traceback
attempts = []
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in ("PySide6", "shiboken6", "PyQt5", "PyQt6", "PySide2"):
            frames = [f"{fs.filename}:{fs.lineno}" for fs in traceback.extract_stack()[:-1]
                      if "/scribe/" in fs.filename]
            attempts.append({"module": current[0], "name": name, "where": frames[-1:] })
            raise ImportError(f"Qt is blocked in the core: {name}")
        return None
sys.meta_path.insert(0, Block())
current = [""]
import scribe
names = []
for m in pkgutil.walk_packages(scribe.__path__, "scribe."):
    if m.name.startswith("scribe.ui") or m.name == "scribe.__main__":
        continue
    names.append(m.name)
failures = {}
for n in sorted(names):
    current[0] = n
    try:
        importlib.import_module(n)
    except Exception as e:
        failures[n] = f"{type(e).__name__}: {e}"
print(json.dumps({"imported": names, "attempts": attempts, "failures": failures}))
"""


def test_core_imports_without_qt():
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert "scribe.config" in res["imported"] and "scribe.cli.launch" in res["imported"]
    assert res["attempts"] == [], f"core modules reached for Qt: {res['attempts']}"
    qt_failures = {k: v for k, v in res["failures"].items() if "Qt is blocked" in v}
    assert qt_failures == {}, qt_failures


def test_ui_is_the_only_qt_importer():
    """Inside scribe/ui, only qt.py names the binding; everything else goes through the shim."""
    offenders = []
    for p in (ROOT / "scribe").rglob("*.py"):
        rel = p.relative_to(ROOT).as_posix()
        if rel == "scribe/ui/qt.py":
            continue
        src = p.read_text(encoding="utf-8")
        for line in src.splitlines():
            s = line.strip()
            if s.startswith(("import PySide6", "from PySide6", "import shiboken6", "from shiboken6")):
                offenders.append(rel)
    assert offenders == [], offenders


def test_ui_never_calls_set_extra_selections():
    """PySide6 6.12 leaks a None reference per setExtraSelections call (aborts CPython 3.11 after enough clicks)."""
    hits = [p.name for p in (ROOT / "scribe" / "ui").glob("*.py")
            if any(".setExtraSelections(" in ln and not ln.strip().startswith("#") for ln in p.read_text().splitlines())]
    assert hits == []
