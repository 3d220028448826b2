"""Which voice is the clinician: by the clinician's enrolled voice when there is one, otherwise by what is said.

Roles are written as the speaker tags the note model was trained on (ACI-Bench `[doctor]` / `[patient]` lines;
MTS-Dialog's `Guest_family` turns, turned into `[guest_family]` by finetune/data.py, for everyone else: it is the
most frequent third-party tag in the training data, 559 lines against 119 `guest_clinician` and 38
`patient_guest`; docs/decisions.md). The UI shows them as Clinician / Patient / Other.

Content: the clinician asks the questions and gives the plan. Each voice is scored per word on questions
("?", "do you", "any ..."), second-person address and plan phrases ("I'm going to", "we'll", "I recommend",
"follow up"), minus first-person talk about symptoms ("I have", "my"); the voice heard first gets `first_bonus`
(the clinician opens 95 of 100 MTS-Dialog and 20 of 20 ACI-Bench valid visits). On the reference text of those
dialogues the clinician was found in 87/100 + 19/20 by content alone, 95/100 + 20/20 by first voice alone, and
94/100 + 20/20 with both (bonus 0.5; docs/decisions.md). Highest score: clinician; the other voice with the most
speech: patient; any further voice: other. A single voice is a dictation: the clinician, unless an
enrolment exists and the voice is not it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["RoleOptions", "CLINICIAN", "PATIENT", "OTHER", "ROLE_NAMES", "TAGS", "assign_roles",
           "content_score", "provisional_roles"]

CLINICIAN, PATIENT, OTHER = "doctor", "patient", "guest_family"
PATIENT_ONLY = -1            # internal: one voice, enrolled, and not the clinician
TAGS = (CLINICIAN, PATIENT, OTHER)
ROLE_NAMES = {CLINICIAN: "Clinician", PATIENT: "Patient", OTHER: "Other"}

_QUESTION = re.compile(r"\?|^(do|does|did|are|is|have|has|any|how|what|when|where|which|who|why|can|could|"
                       r"would|tell me)\b", re.I)
_YOU = re.compile(r"\b(you|your|you're|you've)\b", re.I)
_PLAN = re.compile(r"\b(i'm going to|i am going to|we'll|we will|we're going to|let's|i recommend|i'd recommend|"
                   r"i want you to|i'll|prescrib\w*|refer\w*|follow[- ]up|come back|order\w*|schedule|"
                   r"start you on|increase|decrease|continue)\b", re.I)
_SELF = re.compile(r"\b(i have|i've|i had|i feel|i've been|my|me|it hurts)\b", re.I)


@dataclass
class RoleOptions:
    first_bonus: float = 0.5     # added to the score of the voice heard first (content still wins when clear)
    enrol_sim: float = 0.80      # a voice this similar to the enrolment is the clinician: the clustering's own
                                 # "same voice" line (an enrolled voice scored 0.96 to its cluster, the other 0.73)


def content_score(texts: list[str]) -> float:
    """How much a voice sounds like the one running the visit (per word; higher = more clinician-like)."""
    words = sum(len(t.split()) for t in texts)
    if not words:
        return 0.0
    q = sum(len(_QUESTION.findall(t.strip())) for t in texts)
    you = sum(len(_YOU.findall(t)) for t in texts)
    plan = sum(len(_PLAN.findall(t)) for t in texts)
    me = sum(len(_SELF.findall(t)) for t in texts)
    return (3.0 * q + you + 2.0 * plan - 1.5 * me) / words


def _by_speech(labels, seconds: dict[int, float]) -> list[int]:
    return sorted(labels, key=lambda k: -seconds.get(k, 0.0))


def _enrolled(centroids: dict[int, np.ndarray], enrolment, opts: RoleOptions) -> tuple[int | None, bool]:
    """(label matching the enrolment or None, whether an enrolment was usable)."""
    if enrolment is None or not centroids:
        return None, False
    sims = {k: float(np.dot(v, enrolment)) for k, v in centroids.items()}
    best = max(sims, key=sims.get)
    return (best if sims[best] >= opts.enrol_sim else None), True


def provisional_roles(centroids: dict[int, np.ndarray], seconds: dict[int, float], enrolment=None,
                      opts: RoleOptions | None = None) -> dict[int, str]:
    """Roles before any text exists (for segments shown while transcribing): the enrolled voice, else the first
    voice heard, is the clinician; the voice with the most other speech the patient."""
    labels = sorted(centroids)
    if not labels:
        return {}
    doc, used = _enrolled(centroids, enrolment, opts or RoleOptions())
    if doc is None:
        doc = PATIENT_ONLY if (used and len(labels) == 1) else labels[0]
    return _complete(labels, doc, seconds)





def _complete(labels: list[int], doc: int, seconds: dict[int, float]) -> dict[int, str]:
    out: dict[int, str] = {}
    if doc == PATIENT_ONLY:                       # one voice, enrolled, and it is not the clinician
        return {labels[0]: PATIENT}
    out[doc] = CLINICIAN
    rest = _by_speech([k for k in labels if k != doc], seconds)
    for i, k in enumerate(rest):
        out[k] = PATIENT if i == 0 else OTHER
    return out


def assign_roles(texts: dict[int, list[str]], centroids: dict[int, np.ndarray], seconds: dict[int, float],
                 enrolment=None, opts: RoleOptions | None = None, first: int | None = None) -> dict[int, str]:
    """Label → role tag for every label of `centroids` (and of `texts`); `first`: the label heard first."""
    labels = sorted(set(centroids) | set(texts))
    if not labels:
        return {}
    opts = opts or RoleOptions()
    doc, used = _enrolled(centroids, enrolment, opts)
    if doc is None:
        if used and len(labels) == 1:
            doc = PATIENT_ONLY
        elif len(labels) == 1:
            doc = labels[0]
        else:
            scores = {k: content_score(texts.get(k, [])) + (opts.first_bonus if k == first else 0.0)
                      for k in labels}
            doc = max(labels, key=lambda k: (scores[k], seconds.get(k, 0.0)))
    return _complete(labels, doc, seconds)
