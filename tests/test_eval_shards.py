"""bench/eval_notes.py across machines: shards written by separate processes on the real shipped note model, scored
back from their files, and --merge laying a later set over an earlier record without losing the other sets' rows."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow
MODEL = "scribe-note-qwen05"


def _bench(root, *args, env=None):
    return subprocess.run([sys.executable, "bench/eval_notes.py", "--model", MODEL, "--threads", "2", *args],
                          cwd=root, capture_output=True, text=True, timeout=900)


def test_shards_score_back_and_merge_into_an_earlier_record(root, tmp_path):
    shards, rec, notes = tmp_path / "shards", tmp_path / "rec.json", tmp_path / "notes.json"
    for k in (0, 1):
        r = _bench(root, "--sets", "mts", "--limit", "2", "--shard", f"{k}/2", "--notes-dir", str(shards))
        assert r.returncode == 0, r.stderr[-2000:]
    files = sorted(shards.glob("*.json"))
    ids = [sorted(next(iter(json.loads(f.read_text())["sets"].values()))) for f in files]
    assert len(files) == 2 and [len(x) for x in ids] == [1, 1] and not set(ids[0]) & set(ids[1])

    r = _bench(root, "--sets", "mts", "--limit", "2", "--from-notes", str(shards), "--out", str(rec),
               "--keep-notes", str(notes))
    assert r.returncode == 0, r.stderr[-2000:]
    first = json.loads(rec.read_text())
    (row,) = first["rows"]
    assert row["set"] == "mts-dialog-valid" and row["n"] == 2
    assert sorted(json.loads(notes.read_text())["sets"]["mts-dialog-valid"]["notes"]) == sorted(ids[0] + ids[1])

    # an earlier record with another set's row (the same run's row under another set's name stands in for it)
    other = dict(row, set="aci-bench-valid")
    rec.write_text(json.dumps(dict(first, rows=[other, dict(row, rouge1=-1.0)])))
    kept = json.loads(notes.read_text())
    notes.write_text(json.dumps(dict(kept, sets=kept["sets"] | {"aci-bench-valid": {"notes": {"x": {}}}})))
    r = _bench(root, "--sets", "mts", "--limit", "2", "--from-notes", str(shards), "--out", str(rec),
               "--keep-notes", str(notes), "--merge")
    assert r.returncode == 0, r.stderr[-2000:]
    merged = json.loads(rec.read_text())
    assert [x["set"] for x in merged["rows"]] == ["aci-bench-valid", "mts-dialog-valid"]
    assert merged["rows"][0] == other and merged["rows"][1]["rouge1"] == row["rouge1"]    # the stale row replaced
    assert merged["merged"] == [["mts-dialog-valid"]]
    assert set(json.loads(notes.read_text())["sets"]) == {"aci-bench-valid", "mts-dialog-valid"}

    # a record of another model is refused in one line, and left as it was
    before = json.dumps(dict(merged, model="someone-else"))
    rec.write_text(before)
    r = _bench(root, "--sets", "mts", "--limit", "2", "--from-notes", str(shards), "--out", str(rec),
               "--keep-notes", str(notes), "--merge")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "--merge" in r.stderr
    assert rec.read_text() == before


def test_redo_regenerates_only_the_named_items_and_rescores_the_whole_set(root, tmp_path):
    rec, notes = tmp_path / "rec.json", tmp_path / "notes.json"
    r = _bench(root, "--sets", "mts", "--limit", "2", "--out", str(rec), "--keep-notes", str(notes))
    assert r.returncode == 0, r.stderr[-2000:]
    before = json.loads(notes.read_text())["sets"]["mts-dialog-valid"]
    first, second = sorted(before["notes"])
    # a stand-in for a stale note: the kept text of the first item is replaced, so a redo must bring the model's back
    stale = json.loads(notes.read_text())
    stale["sets"]["mts-dialog-valid"]["notes"][first] = {k: "stale" for k in before["notes"][first]}
    notes.write_text(json.dumps(stale))
    r = _bench(root, "--sets", "mts", "--limit", "2", "--redo", first, "--out", str(rec), "--keep-notes", str(notes))
    assert r.returncode == 2 and "--redo" in r.stderr           # without --merge: refused, nothing written
    assert json.loads(notes.read_text()) == stale
    r = _bench(root, "--sets", "mts", "--limit", "2", "--redo", first, "--merge", "--out", str(rec),
               "--keep-notes", str(notes))
    assert r.returncode == 0, r.stderr[-2000:]
    after = json.loads(notes.read_text())["sets"]["mts-dialog-valid"]
    assert after["notes"][first] == before["notes"][first]       # regenerated: greedy gives the same note again
    assert after["notes"][second] == before["notes"][second]     # carried over as kept
    (row,) = json.loads(rec.read_text())["rows"]
    assert row["n"] == 2 and row["redone"] == [first]
