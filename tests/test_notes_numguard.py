"""The number guard on the real shipped note model: a note only contains numbers the transcript contains.

Greedy output must be unchanged where every number was said; a number the allowed set lacks is held back,
rewound and the sentence written without it (numbers=frozenset() makes every number "not said", so the real model
shows the mechanism on an ordinary dictation); digits glued to letters (A1c) are words and pass.
"""
from __future__ import annotations

import re
import time

import pytest

from scribe.config import Settings
from scribe.notes import generate, get_template
from scribe.notes.engine import SectionWriter
from scribe.notes.generate import _max_budget, finish_note, guard_numbers, prefill_ids
from scribe.notes.numguard import allowed_numbers, number_vocab
from scribe.notes.runtime import load_model
from scribe.spoken import number_values
from scribe.types import Transcript

CAP = 90
DICTATION = ("[doctor] What brings you in today?\n[patient] My sugars have been high and I have had a cough for three "
             "days.\n[doctor] Your hemoglobin a1c was seven point two. Your temperature is thirty eight point five.\n"
             "[doctor] Keep taking metformin five hundred milligrams twice a day and start lisinopril twenty "
             "milligrams daily. Come back in two weeks.")
LIST_NUMBER = re.compile(r"(?<![\w.])\d{1,2}[.)](?=\s)")
NUMBER = re.compile(r"(?<![A-Za-z\d.])\d+(?:[.,]\d+)*")


@pytest.fixture(scope="module")
def settings(models_dir, tmp_path_factory) -> Settings:
    s = Settings(home=tmp_path_factory.mktemp("home"))
    s.models_dir, s.threads, s.provider = models_dir, 2, "cpu"
    if not (models_dir / s.note_model / "manifest.json").exists():
        pytest.fail(f"no note model {s.note_model} in models/: run ./setup.sh")
    return s


def test_token_classes_come_from_the_real_tokenizer(settings):
    lm = load_model(settings.note_model, settings)
    v = number_vocab(str(lm.path / "tokenizer.json"))
    assert sorted(v.digits.values()) == list("0123456789")
    for i, d in v.digits.items():
        assert lm.tokenizer.decode([i]) == d
    ids = [int(x) for x in lm.tokenizer.encode("A1c 58")]
    assert v.alpha_end[ids[0]] and ids[1] in v.digits          # 'A' then '1': glued, a word
    space = [int(x) for x in lm.tokenizer.encode(" 5")][0]
    assert space in v.spaces and space in set(v.masked.tolist())
    fifty = [int(x) for x in lm.tokenizer.encode(" fifty")]
    assert len(fifty) == 1 and fifty[0] in set(v.masked.tolist())


def test_allowed_numbers_read_spoken_forms():
    assert {"7.2", "38.5", "500", "20", "2"} <= allowed_numbers(DICTATION)
    assert "120" in allowed_numbers("BP one twenty over eighty") and "80" in allowed_numbers("BP 120/80")


def test_guard_changes_nothing_when_every_number_was_said(settings):
    tpl = get_template("soap", settings)
    free = generate(DICTATION, tpl, Settings(**{**settings.__dict__, "note_numbers": "free"}), max_new_tokens=CAP)
    said = generate(DICTATION, tpl, settings, max_new_tokens=CAP)
    assert NUMBER.search(free.markdown), "precondition: the model copies the dictation's numbers"
    assert said.markdown == free.markdown
    assert said.timings["numbers_withheld"] == [] and not [f for f in said.flags if f.kind == "withheld"]
    prose = LIST_NUMBER.sub(" ", said.markdown)
    assert {canon for canon in number_values(prose) if "/" not in canon} <= number_values(DICTATION)


def test_numbers_not_allowed_are_withheld_and_glued_digits_pass(settings):
    lm = load_model(settings.note_model, settings)
    tpl = get_template("soap", settings)
    tr = Transcript.from_text(DICTATION)
    texts = {}
    withheld = {}
    for label, numbers in (("free", None), ("none", frozenset())):
        with lm.lock:
            w = SectionWriter(lm, _max_budget(lm, [tpl]), 4096)
            w.append(prefill_ids(lm, tpl.domain, tr, w.room, {}))
            res = w.write(tpl, max_new=CAP, numbers=numbers)
        texts[label] = "\n".join(str(r.value) for r in res)
        note = finish_note(tpl, tr, lm.name, {r.key: r.value for r in res}, res, {}, time.perf_counter())
        flags = [f for f in note.flags if f.kind == "withheld"]
        assert len(flags) == sum(len(r.withheld) for r in res)
        assert all(f.section in {x.key for x in tpl.sections} and "left out" in f.reason for f in flags)
        withheld[label] = [x for r in res for x in r.withheld]
    free_numbers = NUMBER.findall(texts["free"])
    assert free_numbers, "precondition: unguarded, the model writes the dictation's numbers"
    assert NUMBER.findall(LIST_NUMBER.sub(" ", texts["none"])) == []
    assert withheld["free"] == [] and withheld["none"]
    assert all(re.fullmatch(r"\d+(\.\d+)?", v) for v, _ in withheld["none"])
    # each one says where: the words written just before it, found in the section
    assert all(before and before in texts["none"] for _, before in withheld["none"])
    if "A1c" in texts["free"]:
        assert "A1c" in texts["none"]


def test_bad_setting_is_one_clear_error(settings):
    from scribe.errors import InputError
    with pytest.raises(InputError, match="note_numbers"):
        guard_numbers(Transcript.from_text(DICTATION), Settings(**{**settings.__dict__, "note_numbers": "maybe"}))
