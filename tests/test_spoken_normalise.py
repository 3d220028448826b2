"""The shared spoken-form normaliser: display text for transcripts, values for the fact checker (text only)."""
from __future__ import annotations

import pytest

from scribe.notes.facts import check_facts, extract_facts
from scribe.spoken import frequency_values, normalize_numbers, normalize_transcript


@pytest.mark.parametrize("spoken,shown", [
    ("BP one twenty over eighty", "BP 120/80"),
    ("temperature thirty eight point one", "temperature 38.1"),
    ("ibuprofen four hundred milligrams", "ibuprofen 400 mg"),
    ("ibuprofen for hundred milligrams", "ibuprofen 400 mg"),          # Moonshine's "four" -> "for"
    ("ibuprofen for 100 mg", "ibuprofen 400 mg"),                       # ... and "hundred milligrams" -> "100 mg"
    ("amoxicillin five hundred milligrams b i d", "amoxicillin 500 mg BID"),
    ("take to tablets q six hours", "take 2 tablets q6h"),
    ("one to two tablets every six hours p r n", "1 to 2 tablets every 6 hours PRN"),
    ("free times a day", "3 times a day"),
    ("to times a day", "2 times a day"),
    ("seventy five micrograms of levothyroxine", "75 mcg of levothyroxine"),
    ("oxygen ninety eight percent", "oxygen 98%"),
    ("seen on the third of march twenty twenty four", "seen on March 3, 2024"),
    ("since march twenty first", "since March 21"),
    ("temperature ninety eight . two", "temperature 98.2"),           # ACI-Bench's spaced decimal point
    ("a four . four centimeter nodule", "a 4.4 centimeter nodule"),
    ("temp 98 . 2 today", "temp 98.2 today"),
])
def test_display_form(spoken, shown):
    assert normalize_transcript(spoken) == shown


@pytest.mark.parametrize("text", [
    "we will switch you to tablets",                 # "to" before a unit, but a preposition here
    "I asked for tablets for twenty minutes",        # "for" stays "for"; only the number becomes digits
    "go to the pharmacy for 100 mg vials",           # "for 1xx mg" is 4xx only right after a drug name
    "no one, one of them, the first visit",          # lone small numbers and ordinals outside dates stay words
    "Penicillin gives me a rash",
    "she wants to go for a walk",
])
def test_for_and_to_stay_words_without_dose_context(text):
    out = normalize_transcript(text)
    assert " for " not in text or " for " in out
    assert " to " not in text or " to " in out
    assert "4" not in out and "2 " not in out.replace("20 ", "")


def test_for_twenty_minutes_keeps_for():
    assert normalize_transcript("I asked for tablets for twenty minutes") == "I asked for tablets for 20 minutes"


@pytest.mark.parametrize("spoken,codes", [
    ("b i d", {"bid"}), ("B.I.D.", {"bid"}), ("twice a day", {"bid"}), ("two times a day", {"bid"}),
    ("to times a day", {"bid"}), ("t i d", {"tid"}), ("free times a day", {"tid"}), ("four times daily", {"qid"}),
    ("q six hours", {"q6h"}), ("every 8 hours", {"q8h"}), ("once daily as needed", {"daily", "prn"}),
    ("at bedtime", {"qhs"}), ("she bid us goodbye for the day", set()), ("I went four times", set()),
])
def test_frequencies(spoken, codes):
    assert frequency_values(spoken) == codes


def test_fact_checker_uses_the_same_normaliser():
    said = "start ibuprofen for hundred milligrams b i d and check the BP, one forty over ninety"
    ok = {"plan": ["Ibuprofen 400 mg BID.", "BP 140/90."]}
    facts = {"number", "dose", "frequency", "drug"}
    assert [f for f in check_facts(ok, said) if f.kind in facts] == []
    bad = {"plan": ["Ibuprofen 400 mg TID.", "Ibuprofen 4 mg."]}
    kinds = {(f.kind, f.text) for f in check_facts(bad, said)}
    assert ("frequency", "TID") in kinds and ("dose", "4 mg") in kinds


def test_value_form_unchanged_for_facts():
    # facts still see every spoken number as digits (matching by value), including lone small ones
    assert normalize_numbers("one of them took two") == "1 of them took 2"
    assert [f.kind for f in extract_facts("Metformin 500 mg twice daily.")] == ["drug", "dose", "frequency"]


@pytest.mark.parametrize("text,values", [
    ("ninety eight . two", {"98.2"}),              # ACI-Bench's spaced decimal point is a point
    ("a four . four centimeter nodule", {"4.4"}),
    ("I have four. Four of them", {"4"}),          # a full stop (no space before it) is not
    ("section 4 . a", {"4"}),                      # nor a spaced dot before a word that is no digit
])
def test_spaced_decimal_point(text, values):
    from scribe.spoken import number_values
    assert number_values(text) == values
