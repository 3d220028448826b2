"""Spoken-number normalisation, fact flags and evidence links (no model needed: these check the text logic)."""
from __future__ import annotations

import pytest

from scribe.notes.evidence import content_words, link_evidence, split_sentences
from scribe.notes.facts import check_facts, extract_facts, normalize_numbers, number_values
from scribe.types import Segment, Transcript


@pytest.mark.parametrize("spoken,digits", [
    ("twenty five", "25"), ("twenty-five", "25"), ("one hundred and twenty over eighty", "120/80"),
    ("one twenty over eighty", "120/80"), ("two point five", "2.5"), ("thirty eight point one", "38.1"),
    ("a hundred", "100"), ("three thousand two hundred", "3200"), ("nineteen eighty five", "1985"),
    ("twenty twenty three", "2023"), ("one and a half", "1.5"), ("march third", "march 3"),
    ("the 21st", "the 21"), ("zero", "0"), ("ninety nine", "99"),
])
def test_spoken_numbers_become_digits(spoken, digits):
    assert normalize_numbers(spoken) == digits


def test_separate_numbers_stay_separate_and_words_untouched():
    assert normalize_numbers("five six seven") == "5 6 7"
    assert normalize_numbers("Someone said hello, twice.") == "Someone said hello, twice."
    assert number_values("BP one forty over ninety, pulse 72") == {"140/90", "140", "90", "72"}


def test_extract_facts_kinds():
    kinds = [(f.kind, f.text) for f in extract_facts(
        "Start metoprolol 25 mg twice daily on March 3, 2024; BP 150/95 and EF 45%.")]
    assert ("drug", "metoprolol") in kinds and ("dose", "25 mg") in kinds
    assert ("date", "March 3, 2024") in kinds and ("number", "150/95") in kinds and ("number", "45") in kinds


TRANSCRIPT = Transcript([
    Segment(0.0, 4.0, "so your blood pressure today is one hundred and twenty over eighty", "doctor"),
    Segment(4.0, 9.5, "i take lisinopril twenty milligrams every morning", "patient"),
    Segment(9.5, 14.0, "the cough started about five days ago, on march third", "patient"),
    Segment(14.0, 20.0, "let's add metformin five hundred milligrams twice a day", "doctor"),
    Segment(20.0, 24.0, "okay", "patient"),
])


def test_supported_facts_in_spoken_form_are_not_flagged():
    secs = {"objective": "Blood pressure 120/80.", "plan": ["Lisinopril 20 mg daily.", "Metformin 500 mg twice daily.",
                                                          "Cough since March 3, for 5 days."]}
    assert check_facts(secs, TRANSCRIPT.text) == []


def test_unsupported_numbers_doses_dates_drugs_are_flagged():
    secs = {"objective": "Blood pressure 150/95. Temperature 38.2.",
            "plan": ["Lisinopril 40 mg daily.", "Start warfarin 5 mg.", "Metformin 500 units.", "Review on April 9."]}
    flags = {(f.kind, f.text, f.section) for f in check_facts(secs, TRANSCRIPT.text)}
    assert ("number", "150/95", "objective") in flags
    assert ("number", "38.2", "objective") in flags
    assert ("dose", "40 mg", "plan") in flags
    assert ("drug", "warfarin", "plan") in flags
    assert ("dose", "500 units", "plan") in flags          # the amount was said, but in milligrams
    assert ("date", "April 9", "plan") in flags
    assert not any(f[1] == "Lisinopril" for f in flags)    # said, so not flagged


def test_split_sentences_prose_and_lists():
    assert split_sentences("He has a cough. It started Monday! Fever? No.") == \
        ["He has a cough.", "It started Monday!", "Fever?", "No."]
    assert split_sentences(["One item", "Two. Three."]) == ["One item", "Two.", "Three."]
    assert split_sentences("BP 120/80 was stable. Dr. Smith agreed.")[0] == "BP 120/80 was stable."


def test_evidence_spans_contain_the_key_words():
    secs = {"subjective": "The cough started five days ago. He takes lisinopril 20 mg every morning.",
            "plan": ["Add metformin 500 mg twice daily."], "objective": "Lungs clear with a loud wheeze in the left base."}
    ev = link_evidence(secs, TRANSCRIPT)
    by = {e.sentence: e for e in ev}
    cough = by["The cough started five days ago."]
    assert cough.supported and cough.spans[0].start == 9.5 and cough.spans[0].end == 14.0
    assert "cough" in cough.spans[0].text
    lis = by["He takes lisinopril 20 mg every morning."]
    assert lis.supported and any("lisinopril" in s.text for s in lis.spans)
    met = by["Add metformin 500 mg twice daily."]
    assert met.supported and "metformin" in met.spans[0].text and met.section == "plan"
    # words never said: no support, whatever a common word matched
    assert not by["Lungs clear with a loud wheeze in the left base."].supported
    for e in ev:
        if e.supported:
            span_words = set(content_words(" ".join(s.text for s in e.spans)))
            assert set(content_words(e.sentence)) & span_words


def test_evidence_skips_fixed_sections_and_handles_empty():
    ev = link_evidence({"a": "", "b": [], "fixed": "Call 911."}, TRANSCRIPT, skip=["fixed"])
    assert ev == []


def test_reading_grade_separates_plain_from_clinical_language():
    from scribe.notes.readability import fk_grade, syllables
    assert syllables("water") == 2 and syllables("take") == 1 and syllables("medication") >= 4
    plain = fk_grade(["You have a chest cold.", "Drink lots of water and rest.", "Take one pill each morning."])
    dense = fk_grade(["The patient presents with an exacerbation of chronic obstructive pulmonary disease "
                      "necessitating bronchodilator intensification and corticosteroid administration."])
    assert plain is not None and dense is not None and plain <= 6 < 12 <= dense
    assert fk_grade(["Too short."]) is None


def test_a_no_after_the_speaker_tag_answers_the_question():
    """"[doctor] any nausea ? / [patient] nope ." is the patient denying nausea: a note saying "Denies nausea" must
    not be flagged as contradicting the transcript (the speaker tag is not part of the answer)."""
    from scribe.notes.facts import check_facts
    tr = "[doctor] any nausea ?\n[patient] nope .\n[doctor] any leg swelling ?\nSpeaker 2: no ."
    flags = check_facts({"review_of_systems": ["Denies nausea and leg swelling."]}, tr)
    assert not [f for f in flags if f.kind == "contradicted"]
    tagged = check_facts({"review_of_systems": ["Denies nausea."]}, tr.replace("nope", "yes, a little"))
    assert [f for f in tagged if f.kind == "contradicted"]      # the note's denial against an affirmed answer


def test_warning_signs_are_conditional_by_design():
    from scribe.notes.facts import check_facts
    tr = "[doctor] if you get fever , come back right away ."
    assert not [f for f in check_facts({"warning_signs": ["Fever"]}, tr) if f.kind == "conditional"]
    assert [f for f in check_facts({"subjective": "Fever."}, tr) if f.kind == "conditional"]
