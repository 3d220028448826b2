"""How the context rules (scribe/notes/context.py) change evidence on real notes: ACI-Bench valid reference notes
against their own dialogues. Reference notes are correct by construction, so every sentence they lose, and every
instruction/contradicted/conditional flag they get, is a cost; negated sentences kept supported are the gain.

    .venv/bin/python tools/eval_context.py [../shared/data/aci-bench/valid.csv]

Prints one JSON line: sentences, supported with and without the rules, flags by kind, negated sentences.
"""
from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scribe.notes import context, evidence  # noqa: E402
from scribe.notes.facts import check_facts  # noqa: E402
from scribe.types import Segment, Transcript  # noqa: E402

NEG = re.compile(r"\b(denies|denied|no|not|without|negative)\b", re.I)


def _transcript(dialogue: str) -> Transcript:
    segs = []
    for i, line in enumerate(x for x in dialogue.splitlines() if x.strip()):
        m = re.match(r"\[(\w+)\]\s*(.*)", line.strip())
        segs.append(Segment(float(i), float(i + 1), m.group(2) if m else line, m.group(1) if m else None, True))
    return Transcript(segs, 0.0, "text")


def _run(rows, with_rules: bool) -> dict:
    saved = context.tagged_words
    if not with_rules:   # the evidence linker as it was: every word affirmed, nothing is an instruction
        context_free = lambda text, cw, instructions=True: cw(text)  # noqa: E731
        evidence.tagged_words = context_free
    try:
        n = sup = neg = neg_sup = 0
        flags: dict[str, int] = {}
        for r in rows:
            tr = _transcript(r["dialogue"])
            sections = {"note": r["note"]}
            for e in evidence.link_evidence(sections, tr):
                n += 1
                sup += e.supported
                if NEG.search(e.sentence):
                    neg += 1
                    neg_sup += e.supported
            if with_rules:
                for f in check_facts(sections, tr.text):
                    if f.kind in ("instruction", "contradicted", "conditional"):
                        flags[f.kind] = flags.get(f.kind, 0) + 1
        return {"sentences": n, "supported": sup, "negated_sentences": neg, "negated_supported": neg_sup,
                "flags": flags}
    finally:
        evidence.tagged_words = saved


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data" /
                "aci-bench" / "valid.csv")
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    out = {"data": path.name, "encounters": len(rows), "without_rules": _run(rows, False),
           "with_rules": _run(rows, True)}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
