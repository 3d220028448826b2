"""Evidence links: each note sentence → the transcript segment(s) that support it.

Method (lexical, deterministic, fast enough to re-run on every edit): both sides are lower-cased, spoken numbers
are rewritten as digits (words.py, via scribe.spoken), stop words dropped and words lightly stemmed. Each content word
is weighted by its inverse segment frequency in this transcript, so rare words (a drug, "lightheadedness", "45")
count more than "patient" or "today". Segments are chosen greedily, up to three, each adding the most still-
uncovered weight. A sentence is supported when the chosen spans cover at least half of its content weight (and
at least one rare word when it has any). Words are matched only in the same sense (context.py: affirmed, negated,
conditional; words of an instruction to the scribe count for nothing), so "no chest pain" or "go to the ER if you
get chest pain" do not support "reports chest pain". Paraphrase ("SOB" vs "short of breath") is not understood;
such sentences are marked unsupported, which is why the reviewer sees the span text.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

from ..types import Evidence, Segment, Transcript
from .context import answered_no, tagged_words
from .words import content_words, split_sentences

__all__ = ["split_sentences", "content_words", "link_evidence", "SUPPORT_THRESHOLD"]

SUPPORT_THRESHOLD = 0.5
MAX_SPANS = 3


class _Index:
    def __init__(self, segments: list[Segment]):
        self.segments = segments
        # words carry their context (neg:/hyp:/ins:), so only same-sense mentions support each other
        self.words = [set(tagged_words(s.text, content_words)) for s in segments]
        for i in range(1, len(segments)):      # "any chest pain?" / "no": the answer turn negates what was asked
            self.words[i].update(answered_no(segments[i - 1].text, segments[i].text, content_words))
        n = max(1, len(segments))
        df: dict[str, int] = {}
        for ws in self.words:
            for w in ws:
                df[w] = df.get(w, 0) + 1
        self.idf = {w: math.log(1 + n / c) for w, c in df.items()}
        self.rare_cut = math.log(1 + n / max(1.0, n * 0.05))   # words in ≤5% of segments count as rare
        self.unseen = math.log(1 + n)

    def weight(self, w: str) -> float:
        return self.idf.get(w, self.unseen)

    def link(self, sentence: str) -> tuple[list[int], bool]:
        words = set(tagged_words(sentence, content_words, instructions=False))
        if not words:
            return [], True    # nothing checkable ("Thank you."): not a claim
        total = sum(self.weight(w) for w in words)
        uncovered = set(words)
        chosen: list[int] = []
        for _ in range(MAX_SPANS):
            best, best_gain = -1, 0.0
            for i, ws in enumerate(self.words):
                if i in chosen:
                    continue
                gain = sum(self.weight(w) for w in uncovered & ws)
                if gain > best_gain + 1e-9:
                    best, best_gain = i, gain
            # a further span must add a real share, not one common word
            if best < 0 or (chosen and best_gain < 0.15 * total):
                break
            chosen.append(best)
            uncovered -= self.words[best]
        covered = total - sum(self.weight(w) for w in uncovered)
        rare = {w for w in words if self.weight(w) >= self.rare_cut}
        rare_ok = not rare or bool(rare - uncovered)
        supported = bool(chosen) and covered / total >= SUPPORT_THRESHOLD and rare_ok
        return sorted(chosen), supported


def link_evidence(sections: dict[str, Any], transcript: Transcript, skip: Iterable[str] = ()) -> list[Evidence]:
    """Evidence for every sentence of every section (in order), except the keys in `skip` (fixed text)."""
    idx = _Index(transcript.segments)
    skip = set(skip)
    out: list[Evidence] = []
    for key, val in sections.items():
        if key in skip:
            continue
        for sent in split_sentences(val):
            chosen, ok = idx.link(sent)
            spans = [Segment(transcript.segments[i].start, transcript.segments[i].end, transcript.segments[i].text,
                             transcript.segments[i].speaker) for i in chosen]
            out.append(Evidence(key, sent, spans, ok))
    return out
