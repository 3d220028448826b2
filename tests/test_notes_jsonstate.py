"""Closing a cut-off note JSON: every prefix of a valid note closes to JSON that keeps what was complete."""
from __future__ import annotations

import json

from scribe.notes.generate import guidance_schema
from scribe.notes.jsonstate import JsonTracker, close_partial
from scribe.notes.prompt import format_target, normalize_sections
from scribe.notes.templates import parse_template

TPL = parse_template({"id": "t", "title": "T", "domain": "clinical", "sections": [
    {"key": "story", "title": "Story", "guidance": "g"},
    {"key": "items", "title": "Items", "guidance": "g", "kind": "list"},
    {"key": "end", "title": "End", "guidance": "g"}]})


def test_every_prefix_closes_to_valid_sections():
    full = format_target(TPL, {"story": 'He said "ow" \\ then café ☃.\nLine two', "items": ["a, b", "[c]"],
                               "end": "{not json}"})
    import jsonschema
    for i in range(len(full) + 1):
        data = close_partial(full[:i])
        secs = normalize_sections(TPL, data)
        jsonschema.validate(secs, TPL.schema())
        # closing never invents text: each value is a prefix of the real value
        real = json.loads(full)
        for k, v in secs.items():
            if isinstance(v, str):
                assert real[k].startswith(v), (i, k, v)
            else:
                assert all(r.startswith(x) for r, x in zip(real[k], v)), (i, k, v)
    assert close_partial(full) == json.loads(full)


def test_tracker_knows_the_section_and_how_to_close_it():
    t = JsonTracker()
    t.feed('{"story":"abc","items":["x')
    assert t.current_key == "items" and t.in_value_string and t.closing_for_section() == '"]'
    t.feed('\\')
    assert t.closing_for_section() is None          # never close in the middle of an escape
    t.feed('n","y"],"end":"z')
    assert t.current_key == "end" and t.closing_for_section() == '"'
    t.feed('"}')
    assert t.done


def test_guidance_schema_pins_compact_format_and_bounds():
    sch = guidance_schema(TPL)
    assert sch["x-guidance"] == {"whitespace_flexible": False, "item_separator": ",", "key_separator": ":"}
    assert sch["properties"]["story"]["maxLength"] > 0 and sch["properties"]["items"]["maxItems"] > 0
    assert "x-guidance" not in TPL.schema() and "maxLength" not in json.dumps(TPL.schema())
