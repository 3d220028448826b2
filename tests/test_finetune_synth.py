"""Synthetic pairs: deterministic per seed, every target valid against its template's schema and in the exact
prompt contract (scribe.notes.prompt.format_target), facts in targets said in the transcript."""
from __future__ import annotations

import json
import re

import jsonschema
import pytest

from finetune.synth import generate_pairs, supported_templates
from finetune.synth.templates_io import builtin_templates
from scribe.notes.facts import check_facts
from scribe.notes.prompt import format_target


@pytest.fixture(scope="module")
def templates():
    return builtin_templates()


def test_every_builtin_template_has_a_generator(templates):
    assert set(templates) == set(supported_templates())


def test_same_seed_same_pairs_and_prefix_stable(templates):
    a = generate_pairs(40, seed=7, templates=templates)
    b = generate_pairs(40, seed=7, templates=templates)
    assert [p.to_json() for p in a] == [p.to_json() for p in b]
    c = generate_pairs(20, seed=7, templates=templates)          # a smaller n is a prefix of a larger one
    assert [p.to_json() for p in c] == [p.to_json() for p in a[:20]]
    d = generate_pairs(40, seed=8, templates=templates)
    assert sum(x.transcript != y.transcript for x, y in zip(a, d)) >= 35


def test_every_target_is_schema_valid_and_the_contract_text(templates):
    pairs = generate_pairs(270, seed=3, templates=templates)
    assert {p.template_id for p in pairs} == set(templates)
    for p in pairs:
        t = templates[p.template_id]
        data = json.loads(p.target)
        jsonschema.validate(data, t.schema())
        assert p.target == format_target(t, p.sections)
        assert list(data) == [s.key for s in t.generated_sections]
        assert p.domain == t.domain


def test_variety(templates):
    pairs = generate_pairs(300, seed=1, templates=templates, domain="clinical")
    text = "\n".join(p.transcript for p in pairs)
    for needle in ("um", "Any ", "[doctor]", "[Speaker 1]", "point", " over ", "mg", "percent"):
        assert needle in text, needle
    assert any(not re.match(r"\[", p.transcript) for p in pairs)            # undiarised transcripts too
    assert any(re.search(r"\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)\b", p.transcript) for p in pairs)
    assert len({json.loads(p.target).get("assessment", "") for p in pairs if p.template_id == "soap"}) >= 8


def test_facts_in_targets_are_supported_by_transcripts(templates):
    """The generator must never teach invention: its own targets have (almost) no unsupported facts."""
    pairs = generate_pairs(180, seed=5, templates=templates)
    flagged = sum(len(check_facts(json.loads(p.target), p.transcript)) for p in pairs)
    assert flagged / len(pairs) < 0.05, flagged


def test_heldout_synthetic_set_covers_only_synthetic_templates_and_never_a_training_encounter():
    """The `synth` eval set (the synthetic ablation's yardstick) must not contain an encounter the corpus trains on."""
    from finetune.corpus import SYNTH_TEMPLATES, synthetic_section_pairs
    from finetune.evalsets import SYNTH_HELDOUT_PER_TEMPLATE, eval_items
    templates = builtin_templates()
    items = eval_items(["synth"], 0, templates)["synthetic-heldout"]
    want = [t for t in SYNTH_TEMPLATES if t in templates]
    assert sorted({it.template_id for it in items}) == sorted(want)
    assert len(items) == SYNTH_HELDOUT_PER_TEMPLATE * len(want)
    assert all(it.reference.strip() and it.transcript.strip() for it in items)
    trained = {p.transcript for p in synthetic_section_pairs(templates, 40, 0)}
    assert not trained & {it.transcript for it in items}
