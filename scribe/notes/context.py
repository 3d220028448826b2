"""What a mention *means* in its sentence: affirmed, negated, hypothetical/conditional, or part of an instruction.

ConText-style rules (Harkema et al. 2009, after NegEx, Chapman et al. 2001): a trigger phrase ("no", "denies",
"without", …; "if", "in case", "watch for", …) opens a scope over the following words of its clause, closed by a
terminator ("but", "however", punctuation) or after a word limit for negation; post-triggers ("… was negative",
"… ruled out") reach back over the clause; pseudo-triggers ("no change", "not only") open nothing.

A transcript sentence that is imperative (a bare verb first: "write …", "start morphine …") or that addresses the
scribe or the note ("put in the note", "ignore the above", "scribe, …") is an *instruction*: its words are not
evidence that anything happened. Notes take spoken orders as instructions too; the flag says so and the clinician
decides.

Every content word is tagged with its context (`neg:fever`, `hyp:chest`, `ins:deceased`; affirmed words bare), so
evidence matching only pairs words used the same way: "no chest pain" does not support "reports chest pain", and
"go to the ER if you get chest pain" supports only a conditional sentence.
"""
from __future__ import annotations

import re

from ..types import Flag
from .words import content_words, split_sentences

__all__ = ["tagged_words", "answered_no", "is_instruction", "sentences", "context_flags", "CONTEXTS"]

CONTEXTS = ("neg", "hyp", "ins")
_NEG_PRE = ["no", "not", "denies", "denied", "deny", "denying", "without", "never", "negative for", "free of",
            "absence of", "no sign of", "no signs of", "no evidence of", "no history of", "don't have", "doesn't have",
            "didn't have", "haven't had", "hasn't had", "haven't", "hasn't", "didn't", "don't", "doesn't", "isn't",
            "wasn't", "aren't", "weren't", "none", "nor", "neither", "cannot", "can't", "won't", "unremarkable for",
            "n't"]     # ASR/ACI text splits "do n't"
_NEG_POST = ["negative", "ruled out", "is absent", "was absent", "absent"]
_POST_WINDOW = 4
_PSEUDO = ["no change", "not only", "no further", "not necessarily", "no increase", "not certain", "not sure",
           "gram negative", "without difficulty", "no longer"]
_HYP_PRE = ["if", "in case", "should you", "should it", "should he", "should she", "whenever", "in the event",
            "watch for", "look out for", "monitor for", "return for", "call for", "as needed", "unless", "could be",
            "may have", "possible", "rule out", "to rule out", "concern for"]
_TERMINATORS = {"but", "however", "although", "though", "except", "whereas", "yet", "apart", "aside", "which",
                "because", "since", "so"}
# words that start a new clause: unpunctuated speech has no commas to end a negation's scope ("i don't hear any
# wheezes your lungs are clear"); a condition runs on through them ("if you get chest pain")
_NEG_STOPS = _TERMINATORS | {"your", "you", "i", "we", "he", "she", "they", "it", "there", "this", "that",
                             "everything", "okay"}
_NEG_WINDOW = 6
_HYP_WINDOW = 10      # transcripts often have no punctuation: a scope must not run to the end of the turn
_IMPERATIVE_VERBS = {"write", "put", "add", "record", "document", "type", "say", "state", "include", "change",
                     "mark", "list", "enter", "ignore", "disregard", "forget", "pretend", "output", "print",
                     "replace", "delete", "remove", "start", "stop", "give", "prescribe", "increase", "decrease",
                     "order", "administer", "insert", "append", "make", "set", "note", "update", "override",
                     "declare", "sign", "approve", "diagnose", "discontinue", "double", "triple"}
_LEAD_FILLERS = {"ok", "okay", "so", "now", "and", "please", "also", "then", "just", "hey", "scribe", "ai", "um",
                 "uh", "alright", "right"}
# addressed to the scribe or the note itself (kept narrow: "medical assistant", "your record" in passing are not)
_ADDRESSED = re.compile(r"\bscribe\b|\bignore (all |any |the )?(previous|prior|above|earlier)\b|"
                        r"\b(previous|new) instructions\b|\bsystem prompt\b|"
                        r"\b(write|put|add|record|document|type|enter|insert|mark|change|say)\b[^.?!]{0,40}"
                        r"\b(in|into|to|on) (the|your|this|my) (note|chart|record|summary|report)\b", re.I)
# a turn that asks, and the next turn that answers no: the asked-about words are negated ("any chest pain?" "no")
_ASKS = re.compile(r"\?\s*$|^\W*(any|do you|did you|have you|are you|is there|are there|does it|did it|has it|"
                   r"any other|how about|what about)\b", re.I)
_NO = re.compile(r"^\W*((um|uh|oh|well|hmm|so|and)\W+)*(no|nope|nah|never|none|not really|not that i|"
                 r"i('m| am| do| did| have| had| was)? ?n'?t|i (do|did|have|had) not)\b", re.I)
_ASKED_WORDS = 8
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_CLAUSE_SPLIT = re.compile(r"[,;:()\[\]]|\s-\s|\s—\s")
_WORD = re.compile(r"[a-z0-9][a-z0-9'/.]*[a-z0-9]|[a-z0-9]")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT_SPLIT.split(text or "") if s.strip()]


def is_instruction(sentence: str) -> bool:
    """Imperative (a bare verb leads, not a question) or addressed to the scribe / the note."""
    s = sentence.strip()
    if not s:
        return False
    if _ADDRESSED.search(s):
        return True
    if s.endswith("?"):
        return False
    words = [w.strip("'") for w in _WORD.findall(s.lower())]
    i = 0
    while i < len(words) and words[i] in _LEAD_FILLERS:
        i += 1
    return i < len(words) and words[i] in _IMPERATIVE_VERBS and (i + 1 < len(words))


def _match(words: list[str], i: int, phrases: list[str]) -> int:
    """Length (in words) of the longest phrase starting at words[i], or 0."""
    best = 0
    for p in phrases:
        pw = p.split()
        if len(pw) > best and words[i:i + len(pw)] == pw:
            best = len(pw)
    return best


def _scope(ctx: list[str], words: list[str], start: int, window: int, stops: set[str], tag: str) -> None:
    """Tag up to `window` affirmed words from `start`, stopping at the first word in `stops`."""
    for j in range(start, min(len(words), start + window)):
        if words[j] in stops:
            break
        if ctx[j] == "pos":
            ctx[j] = tag


def _clause_contexts(words: list[str]) -> list[str]:
    ctx = ["pos"] * len(words)
    i = 0
    while i < len(words):
        if words[i] in _TERMINATORS:
            break
        n = _match(words, i, _PSEUDO)
        if n:
            i += n
            continue
        n = _match(words, i, _HYP_PRE)
        if n:
            _scope(ctx, words, i + n, _HYP_WINDOW, _TERMINATORS, "hyp")
            i += n
            continue
        n = _match(words, i, _NEG_PRE)
        if n:
            _scope(ctx, words, i + n, _NEG_WINDOW, _NEG_STOPS, "neg")   # a condition already set wins
            i += n
            continue
        n = _match(words, i, _NEG_POST)
        if n and i > 0:
            for j in range(i - 1, max(-1, i - 1 - _POST_WINDOW), -1):
                if ctx[j] == "pos":
                    ctx[j] = "neg"
            i += n
            continue
        i += 1
    # words after a terminator start afresh (the clause continues with new meaning: "no fever but cough")
    for k, w in enumerate(words):
        if w in _TERMINATORS and k + 1 < len(words):
            ctx[k + 1:] = _clause_contexts(words[k + 1:])
            break
    return ctx


_TURN_TAG = re.compile(r"^\s*(?:\[[^\]]{1,40}\]|[A-Za-z][\w ]{0,30}:)\s*")   # "[patient] ", "Speaker 2: "


def answered_no(question: str, answer: str, content_words) -> list[str]:
    """`neg:` tags for the last words asked about when `answer` opens with a no ("any fever?" / "no"); the
    answer's speaker tag ("[patient] no .") is not part of the answer."""
    if not (_ASKS.search(question.strip()) and _NO.match(_TURN_TAG.sub("", answer, count=1))):
        return []
    tail = " ".join(_WORD.findall(question.lower())[-_ASKED_WORDS:])
    return ["neg:" + w for w in content_words(tail)]


def tagged_words(text: str, content_words, instructions: bool = True) -> list[str]:
    """Content words of `text` (via `content_words`, so numbers and stems match the evidence index), each prefixed
    with its context when it is not affirmed. `instructions=False` for note text, whose plan is rightly imperative."""
    out: list[str] = []
    sents = sentences(text)
    for k, sent in enumerate(sents):
        if k:
            out += answered_no(sents[k - 1], sent, content_words)
        if instructions and is_instruction(sent):
            out += ["ins:" + w for w in content_words(sent)]
            continue
        for clause in _CLAUSE_SPLIT.split(sent.lower()):
            words = _WORD.findall(clause)
            if not words:
                continue
            ctx = _clause_contexts(words)
            start = 0
            for k in range(1, len(words) + 1):    # runs of one context → content_words of the run's text
                if k == len(words) or ctx[k] != ctx[start]:
                    run = content_words(" ".join(words[start:k]))
                    out += run if ctx[start] == "pos" else [f"{ctx[start]}:{w}" for w in run]
                    start = k
    return out


_OPPOSITE = {"pos": "neg", "neg": "pos"}


def _split(tag: str) -> tuple[str, str]:
    c, _, w = tag.partition(":")
    return (c, w) if w and c in CONTEXTS else ("pos", tag)


_CONDITIONAL_SECTION = re.compile(r"warning|safety|return_precaution|red_flag")


def context_flags(sections: dict, transcript_text: str) -> list:
    """Flags for note sentences that echo an instruction in the transcript, or state as fact what the transcript
    negates or mentions only as a condition. One flag per sentence, the strongest reason first."""
    said: dict[str, set[str]] = {}
    for t in tagged_words(transcript_text, content_words):
        c, w = _split(t)
        said.setdefault(w, set()).add(c)
    orders = [(s, set(content_words(s))) for s in sentences(transcript_text) if is_instruction(s)]
    flags = []
    for key, val in sections.items():
        for sent in split_sentences(val):
            tags = [_split(t) for t in tagged_words(sent, content_words, instructions=False)]
            if not tags:
                continue
            words = {w for _, w in tags}
            affirmed = sum(1 for c, w in tags if c in said.get(w, ()))
            echo = max(orders, key=lambda o: len(words & o[1]), default=None)
            if echo and len(words & echo[1]) >= max(1, 0.5 * len(words)) and affirmed < 0.5 * len(tags):
                flags.append(Flag("instruction", sent, key, "repeats an instruction in the transcript ('"
                                  + echo[0][:80] + "'), not something reported in the encounter"))
                continue
            against = [w for c, w in tags if c in _OPPOSITE and c not in said.get(w, ())
                       and _OPPOSITE[c] in said.get(w, ())]
            if against and len(against) >= 0.5 * len(tags):
                flags.append(Flag("contradicted", sent, key, "the transcript says the opposite (negated where the "
                                  "note affirms, or affirmed where it negates)"))
                continue
            cond = [w for c, w in tags if c == "pos" and said.get(w) == {"hyp"}]
            # a warning-signs / safety-net section lists conditions by design ("if you get fever, come back")
            if cond and len(cond) >= 0.5 * len(tags) and not _CONDITIONAL_SECTION.search(key):
                flags.append(Flag("conditional", sent, key, "the transcript mentions this only as a condition or "
                                  "possibility ('if …'), not as something that happened"))
    return flags
