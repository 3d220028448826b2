"""python -m finetune: bad flags and bad --base give one clear line and exit 2 (no traceback)."""
from __future__ import annotations

import subprocess
import sys

import pytest


def _run(root, *args):
    return subprocess.run([sys.executable, "-m", "finetune", *args], cwd=root, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("args, needle", [
    (["--pairs", "-1"], "--pairs"),
    (["train", "--out", "/tmp/x", "--synthetic-only", "--pairs", "0"], "no training pairs"),
    (["--bogus"], "unrecognized"),
    (["train"], "--out"),
    (["--base", "/nonexistent/model.gguf"], "/nonexistent/model.gguf"),
    (["train", "--out", "/tmp/x", "--base", "/etc/hostname"], ".gguf"),
    (["--quant", "int3"], "--quant"),
    (["eval", "--model", "no-such-model", "--sets", "synthetic", "--limit", "1"], "no-such-model"),
    (["export", "--name", "x", "--adapter", "/nonexistent"], "--adapter"),
])
def test_bad_input_one_line_exit_2(root, args, needle):
    r = _run(root, *args)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert needle in lines[0]
    assert "Traceback" not in r.stderr


def test_bad_gguf_magic(root, tmp_path):
    f = tmp_path / "fake.gguf"
    f.write_bytes(b"NOTGGUF" * 10)
    r = _run(root, "train", "--out", str(tmp_path / "o"), "--base", str(f))
    assert r.returncode == 2 and "not a GGUF" in r.stderr


def test_synth_subcommand_prints_pairs(root):
    r = _run(root, "synth", "--n", "3", "--seed", "2", "--domain", "legal")
    assert r.returncode == 0, r.stderr
    import json
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(rows) == 3 and all(x["domain"] == "legal" for x in rows)
