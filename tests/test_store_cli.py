"""The store-backed commands as a user runs them: `store init|check|rekey|backup|restore`, `notes list|show|
history|edit|approve|addendum`, each in a real process on a real encrypted file."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from cli_support import run_scribe

from scribe.store import Store, records
from scribe.types import Note, Transcript

PASS = "cli test passphrase"


cli = partial(run_scribe, passphrase=PASS)


@pytest.fixture()
def home(tmp_path) -> Path:
    h = tmp_path / "home"
    r = cli("store", "init", home=h)
    assert r.returncode == 0, r.stderr
    st = Store.open(h / "scribe.db", PASS, actor="dr.cli")
    for i, tpl in enumerate(["soap", "referral_letter"]):
        enc = records.create_encounter(st.db, records.create_subject(st.db, f"Patient {i}").id, f"visit {i}", tpl)
        records.save_transcript(st.db, enc.id, Transcript.from_text("some words"))
        records.create_note(st.db, enc.id, Note(tpl, {}, markdown=f"# Note {i}\nfinding{i} discussed"))
    st.close()
    return h


def test_notes_list_filters(home):
    r = cli("notes", "list", "--json", home=home)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [x["template"] for x in rows] == ["referral_letter", "soap"]   # newest first
    r = cli("notes", "list", "--json", "--search", "finding0", home=home)
    assert [x["note_id"] for x in json.loads(r.stdout)] == [1]
    r = cli("notes", "list", "--json", "--template", "referral_letter", home=home)
    assert [x["note_id"] for x in json.loads(r.stdout)] == [2]
    r = cli("notes", "list", "--json", "--from", "2000-01-01", "--to", "2000-12-31", home=home)
    assert json.loads(r.stdout) == []
    r = cli("notes", "list", home=home)
    assert "Patient 0" in r.stdout and "draft" in r.stdout


def test_notes_show_edit_approve_addendum_history(home, tmp_path):
    r = cli("notes", "show", "1", home=home)
    assert r.returncode == 0 and "finding0 discussed" in r.stdout
    edited = tmp_path / "e.md"
    edited.write_text("# Note 0\nfinding0 discussed; reviewed by clinician\n")
    r = cli("notes", "edit", "1", str(edited), home=home)
    assert r.returncode == 0 and "v2" in r.stdout, r.stderr
    r = cli("notes", "show", "1", "--diff", "1", "2", home=home)
    assert "+finding0 discussed; reviewed by clinician" in r.stdout
    r = cli("notes", "approve", "1", "--signer", "Dr Grey", home=home)
    assert r.returncode == 0 and "approved at v2 by Dr Grey" in r.stdout
    r = cli("notes", "edit", "1", str(edited), home=home)
    assert r.returncode == 2 and r.stderr.strip().startswith("store error: note 1 is approved and read-only")
    r = cli("notes", "approve", "1", home=home)
    assert r.returncode == 2 and "already approved" in r.stderr
    r = cli("notes", "addendum", "1", "Results normal.", home=home)
    assert r.returncode == 0 and "v3" in r.stdout
    r = cli("notes", "history", "1", "--json", home=home)
    assert [v["kind"] for v in json.loads(r.stdout)] == ["generated", "edit", "addendum"]
    r = cli("notes", "show", "1", "--version", "1", home=home)
    assert r.stdout.strip() == "# Note 0\nfinding0 discussed"
    r = cli("notes", "show", "1", "--json", home=home)
    assert json.loads(r.stdout)["status"] == "approved"
    r = cli("notes", "show", "42", home=home)
    assert r.returncode == 2 and r.stderr.strip() == "input error: no note 42"
    r = cli("audit", "verify", home=home)
    assert r.returncode == 0 and r.stdout.startswith("audit chain ok")
    r = cli("audit", "log", "--json", "--limit", "200", home=home)
    acts = [json.loads(x)["action"] for x in r.stdout.splitlines()]
    assert {"read", "edit", "approve", "addendum"} <= set(acts)


def test_store_check_rekey_backup_restore(home, tmp_path):
    r = cli("store", "check", "--json", home=home)
    assert r.returncode == 0 and json.loads(r.stdout)["pages_ok"] is True
    r = cli("store", "rekey", home=home, SCRIBE_NEW_PASSPHRASE="second passphrase")
    assert r.returncode == 0, r.stderr
    r = cli("notes", "list", home=home)
    assert r.returncode == 2 and r.stderr.startswith("wrong passphrase")
    bak = tmp_path / "bk" / "s.bak"
    r = cli("store", "backup", str(bak), home=home, SCRIBE_PASSPHRASE="second passphrase")
    assert r.returncode == 0 and bak.exists(), r.stderr
    r = cli("store", "backup", str(bak), home=home, SCRIBE_PASSPHRASE="second passphrase")
    assert r.returncode == 2 and "already exists" in r.stderr
    r = cli("store", "restore", str(bak), home=home, SCRIBE_PASSPHRASE="second passphrase")
    assert r.returncode == 0 and "previous file kept" in r.stdout, r.stderr
    r = cli("notes", "list", "--json", home=home, SCRIBE_PASSPHRASE="second passphrase")
    assert len(json.loads(r.stdout)) == 2


def test_missing_passphrase_and_store_are_one_line_errors(home, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRIBE_")}
    env["SCRIBE_HOME"] = str(home)
    r = subprocess.run([sys.executable, "-m", "scribe", "notes", "list"], env=env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=60)
    assert r.returncode == 2 and r.stderr.strip() == "input error: passphrase: set SCRIBE_PASSPHRASE or run in a " \
                                                    "terminal to be asked"
    r = cli("notes", "list", "--db", str(tmp_path / "nope.db"), home=home)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "no store at" in r.stderr
    r = cli("store", "init", home=home)
    assert r.returncode == 2 and "already exists" in r.stderr


def test_notes_list_names_each_document_of_an_encounter(home):
    st = Store.open(home / "scribe.db", PASS, actor="dr.cli")
    enc = records.create_encounter(st.db, records.create_subject(st.db, "Patient Two").id, "visit 2", "soap")
    records.save_transcript(st.db, enc.id, Transcript.from_text("some words"))
    soap = records.create_note(st.db, enc.id, Note("soap", {}, markdown="# SOAP\nlisinopril started"))
    records.approve(st.db, soap.id, actor="Dr Two", keep_audio=False)
    ref = records.create_note(st.db, enc.id, Note("referral_letter", {}, markdown="# Referral\nplease see"))
    st.close()
    r = cli("notes", "list", "--search", "lisinopril", home=home)
    assert r.returncode == 0, r.stderr
    lines = [ln.split() for ln in r.stdout.splitlines()[1:]]
    assert [(int(ln[0]), ln[4], ln[5]) for ln in lines] == [(soap.id, "soap", "approved"),
                                                            (ref.id, "referral_letter", "draft")]
    r = cli("notes", "list", "--json", "--status", "approved", home=home)
    [row] = json.loads(r.stdout)
    assert row["note_template"] == "referral_letter" and row["encounter_id"] == enc.id
    assert [(d["template"], d["status"]) for d in row["documents"]] == [("soap", "approved"),
                                                                       ("referral_letter", "draft")]
