"""Recognition vocabulary on the real Moonshine model and espeak-ng speech: drug names come out right, words that
were right stay right, and a user vocabulary file is read (or refused) as a user would give it."""
from __future__ import annotations

import time

import pytest

from asr_support import asr_settings  # noqa: F401  (session fixture)
from cli_support import run_scribe
from speech import speak
from scribe.asr.vocab import RecognitionVocab
from scribe.errors import InputError
from scribe.lexicon import COMMON_DRUGS, MAX_ENTRIES, is_drug, load_vocab

@pytest.fixture(scope="module")
def engine(asr_settings):  # noqa: F811
    """The text-side methods (prefix bias, near-miss correction) on the base decoder they were designed and measured
    on: the default model's adapter already hears most of these names, which would leave the methods untested.
    tests/test_asr_adapt.py covers the default model."""
    from dataclasses import replace
    from scribe.asr import AsrEngine
    return AsrEngine(replace(asr_settings, asr_model="moonshine-base-en"))


# sentences whose drug names plain greedy decoding gets wrong on at least one voice (see bench/asr_meds.py)
DRUG_SENTENCES = [
    ("She takes lisinopril ten milligrams and atorvastatin forty milligrams every night.", "en-gb+f3"),
    ("Penicillin gives me a rash, so we used azithromycin instead of amoxicillin.", "en-us"),
    ("Let me write you a prescription for Cipro and Flagyl.", "en-us"),
]
PLAIN_SENTENCES = [
    ("How can our little man be doing today?", "en-us"),
    ("I ask that you call me immediately if you notice any blood in your stool.", "en-gb+f3"),
    ("The cough started five days ago and she has felt tired since the weekend.", "en-us"),
    ("We will check your blood pressure again at the next visit in three weeks.", "en-gb+f3"),
]


def _run(engine, method, text, voice):
    from scribe.audio.io import load_audio
    RecognitionVocab.for_method(method, engine.model.tokenizer, COMMON_DRUGS).install(engine)
    try:
        return engine.transcribe(load_audio(speak(text, voice=voice), 16000).samples).text
    finally:
        RecognitionVocab.from_settings(engine.settings, engine.model.tokenizer).install(engine)


def _drugs(text):
    return {w.strip(".,").lower() for w in text.split() if is_drug(w.strip(".,"))}


def test_vocabulary_methods_raise_drug_recall(engine):
    found = {"greedy": 0, "correct": 0, "bias+correct": 0}
    for text, voice in DRUG_SENTENCES:
        ref = _drugs(text)
        for m in found:
            hyp = _drugs(_run(engine, m, text, voice))
            found[m] += len(ref & hyp)
            assert not (hyp - ref) & COMMON_DRUGS, (m, hyp - ref)   # no lexicon drug the speaker did not say
    assert found["correct"] > found["greedy"], found
    assert found["bias+correct"] > found["greedy"], found


def test_correct_words_stay_correct(engine):
    """Post-correction never turns a word into a drug name: on speech without drugs the text is unchanged."""
    for text, voice in PLAIN_SENTENCES:
        plain = _run(engine, "greedy", text, voice)
        assert _run(engine, "correct", text, voice) == plain
        assert not _drugs(_run(engine, "bias+correct", text, voice))


def test_vocab_file_junk_lines_and_size(tmp_path):
    f = tmp_path / "words.txt"
    f.write_text("# practice words\nKowalczyk\n\n  Dr Okonkwo-Smith  \n\x07bell\n12345\n" + "x" * 80 + "\nzolpidem\n")
    v = load_vocab(f)
    assert v.words == ["kowalczyk", "dr", "okonkwo-smith", "zolpidem"] and v.skipped == 3
    big = tmp_path / "big.txt"
    big.write_text("\n".join(f"drugname{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676 % 26)}x{i}"
                             for i in range(100_000)))
    t0 = time.perf_counter()
    assert len(load_vocab(big).words) == 100_000
    assert time.perf_counter() - t0 < 5
    huge = tmp_path / "huge.txt"
    huge.write_text("word\n" * (MAX_ENTRIES + 1))
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9\n".encode("latin-1"))
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\x00\x01PK\x03\x04")
    for p, phrase in ((huge, "more than"), (bad, "not UTF-8"), (binary, "not a text file"),
                      (tmp_path / "none.txt", "cannot read"), (tmp_path, "directory")):
        with pytest.raises(InputError, match=phrase):
            load_vocab(p)


def test_large_user_vocab_builds_fast(engine, tmp_path):
    words = ["zz" + "".join(chr(97 + i // 26 ** k % 26) for k in range(4)) for i in range(100_000)]
    t0 = time.perf_counter()
    rv = RecognitionVocab.for_method("bias+correct", engine.model.tokenizer, list(COMMON_DRUGS) + words)
    assert len(rv.bias) >= 100_000 and time.perf_counter() - t0 < 20


def test_cli_vocab_errors_are_one_line(tmp_path, scribe_home):
    wav = speak("Take lisinopril ten milligrams every morning.")
    (tmp_path / "bin.txt").write_bytes(b"\x00\xff")
    for arg, phrase in ((tmp_path / "missing.txt", "cannot read vocabulary"), (tmp_path / "bin.txt", "not a text")):
        r = run_scribe("transcribe", str(wav), "--vocab", str(arg), home=scribe_home)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and phrase in lines[0], r.stderr
        assert r.stdout == ""


def test_cli_vocab_and_normalized_json(tmp_path, scribe_home):
    import json
    import os
    vocab = tmp_path / "v.txt"
    vocab.write_text("\x07junk\nzolpidem\n")
    wav = speak("I had a fever and took ibuprofen four hundred milligrams three times a day.")
    r = run_scribe("transcribe", str(wav), "--json", "--vocab", str(vocab), home=scribe_home,
                   SCRIBE_MODELS=os.environ.get("SCRIBE_MODELS", ""), SCRIBE_THREADS="2")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert "400 mg" in out["normalized_text"] and "3 times a day" in out["normalized_text"]
    assert "400 mg" not in out["text"]          # the raw transcript is kept as the model wrote it


def test_names_inside_a_hyphen_chain_are_found(engine):
    """Moonshine writes a list of names it cannot make out as one hyphen chain ("Salme-Ralyn-Hale-Monte-Lucast-…");
    the correction looks inside it, and adds no drug that was not said. (An MTS-Dialog validation turn, rendered
    as bench/asr_meds.py renders it.)"""
    from dataclasses import replace
    from scribe.audio.io import load_audio
    from speech import dialogue
    turns = [("Doctor", "She's tried Loratadine Beclomethasone Nasal Fluticasone and Salmeterol Inhaled Montelukast "
                        "Cephalexin Hydrocode.")]
    x = load_audio(dialogue(turns), 16000).samples

    def run(method, chains=True):
        vocab = RecognitionVocab.for_method(method, engine.model.tokenizer, COMMON_DRUGS)
        if vocab.corrector is not None:
            vocab.corrector.options = replace(vocab.corrector.options, chains=chains)
        vocab.install(engine)
        try:
            return engine.transcribe(x).text
        finally:
            RecognitionVocab.from_settings(engine.settings, engine.model.tokenizer).install(engine)

    off = run("bias+correct", chains=False)
    assert any(w.count("-") >= 2 for w in off.split()), off           # the chain this test is about
    hyp = run("bias+correct")
    assert "montelukast" in _drugs(hyp) - _drugs(off), (hyp, off)
    assert not _drugs(hyp) - _drugs(turns[0][1]), hyp


def _mts_turn(speaker, text):
    """An MTS-Dialog validation turn rendered as bench/asr_meds.py renders it (same cached audio)."""
    from scribe.audio.io import load_audio
    from speech import dialogue
    return load_audio(dialogue([(speaker, text)]), 16000).samples


def _run_audio(engine, method, x, **options):
    from dataclasses import replace
    vocab = RecognitionVocab.for_method(method, engine.model.tokenizer, COMMON_DRUGS)
    if vocab.corrector is not None and options:
        vocab.corrector.options = replace(vocab.corrector.options, **options)
    vocab.install(engine)
    try:
        return engine.transcribe(x).text
    finally:
        RecognitionVocab.from_settings(engine.settings, engine.model.tokenizer).install(engine)


SKELETON_OFF = dict(skeleton_similarity=2.0, near_confidence=0.6)


@pytest.mark.parametrize("speaker,text,name", [
    # espeak's vowels come out as other words; the consonants survive ("Laurie's pam": l-r-s-p-m)
    ("Patient", "Ah yes, I was taking lorazepam, but it did not help with the sensation.", "lorazepam"),
    # heard fairly surely (p 0.74) as "flagell": both keys agree, so it is corrected
    ("Doctor", "Let me add Flagyl intra venously. It will be five hundred M G every eight hours and I would also "
               "like to add Levaquin five hundred M G daily.", "flagyl"),
])
def test_consonant_skeleton_finds_blurred_names(engine, speaker, text, name):
    x = _mts_turn(speaker, text)
    before = _run_audio(engine, "bias+correct", x, **SKELETON_OFF)
    after = _run_audio(engine, "bias+correct", x)
    assert name not in _drugs(before) and name in _drugs(after), (before, after)
    assert not _drugs(after) - _drugs(text), after              # no drug that was not said


def test_a_name_already_right_keeps_its_neighbours(engine):
    """Two words are never joined into a name when one of them already is that name: "on methadone" used to
    become "methadone", "Gabapentin did" "Gabapentin"."""
    for speaker, text, kept in (("Doctor", "Okay yes, you are on methadone maintenance.", "on methadone"),
                                ("Patient", "Yeah, they tried different medicines but only oxycodone helped a little. "
                                            "It does give me sometimes around three hours of relief. Gabapentin did "
                                            "not work at all.", "gabapentin did")):
        hyp = _run_audio(engine, "bias+correct", _mts_turn(speaker, text))
        assert kept in hyp.lower().replace(",", ""), hyp


# everyday words whose consonants or sound key are close to a drug name's (found by running the corrector over
# every MTS-Dialog and ACI-Bench reference word as if the model were unsure of each)
NEAR_DRUG_SENTENCES = [
    ("She had a sprain during her vacation, and it was brisk walking that did it.", "en-us"),
    ("The mitral valve is fine and the oxygenation is good.", "en-gb+f3"),
    ("Any problems with urination? Are you using calorie points?", "en-us"),
    ("I take saffron in my rice, about a spoonful.", "en-gb+f3"),
]


def test_everyday_words_near_drug_names_are_not_replaced(engine):
    """Real speech: correction changes nothing on sentences full of words that sound like drug names."""
    for text, voice in NEAR_DRUG_SENTENCES:
        from scribe.audio.io import load_audio
        x = load_audio(speak(text, voice=voice), 16000).samples
        plain = _run_audio(engine, "bias", x)
        assert _run_audio(engine, "bias+correct", x) == plain, text
        assert not _drugs(plain), plain


def test_unsure_everyday_words_are_not_replaced(engine):
    """The worst case: the model unsure of every word (p 0.1). The corrector's own gates (whole words, UNII names,
    onset, skeleton length, no skeleton join after an everyday word) keep these words; the name still comes
    through."""
    from scribe.asr.correct import NearMissCorrector
    from scribe.lexicon import unii_words
    c = NearMissCorrector(engine.model.tokenizer, COMMON_DRUGS, keep=unii_words())

    def fix(text):
        c._words = lambda ids, probs: [(w, 0.1) for w in text.split()]
        return c.correct([], [])
    for text in ("She had a sprain on vacation.", "The mitral valve.", "Any problems with urination?",
                 "Are you using calorie points?", "He is in the phentermine trial.", "The obstetrician came.",
                 "I take saffron in my rice.", "And rested, she felt better."):
        assert fix(text) == text, (text, fix(text))
    assert fix("I was taking Laurie's pam, but") == "I was taking Lorazepam, but"
    # a 4-consonant skeleton is not trusted alone, not even before a dose ("Saffron" was said for Zofran here, but
    # "medicine 10 mg" has mometasone's skeleton); a UNII name stays: it may be the drug that was said (Provigil
    # has Pravachol's skeleton)
    assert fix("give him Saffron 4Mg, morphine") == "give him Saffron 4Mg, morphine"
    assert fix("take the medicine 10 mg daily") == "take the medicine 10 mg daily"
    assert fix("Provigil 200 mg") == "Provigil 200 mg"
