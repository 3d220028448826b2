"""Training examples: pairs → token ids with the prompt masked, length buckets, and the shared CC BY 4.0 data.

Prompt pieces and target are tokenized separately and concatenated, exactly as at inference time (the app encodes
the prefix, the transcript body and each section request separately and the model continues after the assistant
header), so the model never learns a token boundary it will not see in use. Labels are -100 on the prompt: loss
only on `target + <|im_end|>`. Which pairs exist is corpus.py's job; this module reads the shared CSVs.
"""
from __future__ import annotations

import csv
import random
import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Example", "encode_pair", "encode_all", "bucket_batches", "collate", "SHARED_DIR", "aci_rows",
           "mts_rows", "aci_to_sections", "MTS_TO_HP", "ATTRIBUTION", "token_batches", "mts_dialogue"]

def _shared_dir() -> Path:
    """ACI-Bench/MTS-Dialog: SCRIBE_SHARED_DATA, else ../shared/data beside the checkout, else the workplace copy."""
    if os.environ.get("SCRIBE_SHARED_DATA"):
        return Path(os.environ["SCRIBE_SHARED_DATA"])
    beside = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    return beside if beside.is_dir() else Path("/work/shared/data")


SHARED_DIR = _shared_dir()
ATTRIBUTION = ("ACI-BENCH (Yim et al., Nature Scientific Data 2023, github.com/wyim/aci-bench) and MTS-Dialog "
               "(Ben Abacha et al., EACL 2023, github.com/abachaa/MTS-Dialog), both CC BY 4.0")
IGNORE = -100


@dataclass
class Example:
    id: str
    input_ids: list[int]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)


def encode_pair(tok, template, section, transcript: str, target: str, pid: str, max_len: int) -> Example | None:
    """sections-v1: prefix, body and request are encoded as the app encodes them (prefix + body once, then the
    request), so training sees exactly the token boundaries of use."""
    from scribe.notes.prompt import END_OF_TURN, section_prefix, section_request, transcript_body
    enc = lambda x: tok(x, add_special_tokens=False)["input_ids"]  # noqa: E731
    p = enc(section_prefix(template.domain)) + enc(transcript_body(transcript)) + enc(section_request(template, section))
    t = enc(target + END_OF_TURN)
    if len(p) + len(t) > max_len:
        return None          # dropped, not truncated: a cut target would teach an unfinished section
    return Example(pid, p + t, [IGNORE] * len(p) + t)


def encode_all(tok, templates: dict, pairs, max_len: int) -> tuple[list[Example], int]:
    out, dropped = [], 0
    for pr in pairs:
        t = templates[pr.template_id]
        ex = encode_pair(tok, t, t.section(pr.section), pr.transcript, pr.target, pr.id, max_len)
        if ex is None:
            dropped += 1
        else:
            out.append(ex)
    return out, dropped


def bucket_batches(examples: list[Example], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (less padding), batch order shuffled per (seed, epoch)."""
    rng = random.Random(f"{seed}:{epoch}")
    idx = list(range(len(examples)))
    rng.shuffle(idx)
    chunk = batch_size * 16                       # sort within windows: similar lengths, still random overall
    batches = []
    for i in range(0, len(idx), chunk):
        win = sorted(idx[i:i + chunk], key=lambda j: len(examples[j]))
        batches += [win[k:k + batch_size] for k in range(0, len(win), batch_size)]
    rng.shuffle(batches)
    return batches


def token_batches(examples: list[Example], max_tokens: int, seed: int, epoch: int) -> list[list[int]]:
    """Batches of similar length packed up to `max_tokens` padded tokens (long encounters alone, short dialogues
    many at a time), batch order shuffled per (seed, epoch)."""
    rng = random.Random(f"{seed}:{epoch}")
    idx = list(range(len(examples)))
    rng.shuffle(idx)
    batches = []
    for i in range(0, len(idx), 512):
        win = sorted(idx[i:i + 512], key=lambda j: len(examples[j]))
        cur: list[int] = []
        for j in win:
            if cur and (len(cur) + 1) * len(examples[j]) > max_tokens:
                batches.append(cur)
                cur = []
            cur.append(j)
        if cur:
            batches.append(cur)
    rng.shuffle(batches)
    return batches


def collate(examples: list[Example], pad_id: int):
    import torch
    n = max(len(e) for e in examples)
    ids = torch.full((len(examples), n), pad_id, dtype=torch.long)
    lab = torch.full((len(examples), n), IGNORE, dtype=torch.long)
    att = torch.zeros((len(examples), n), dtype=torch.long)
    for i, e in enumerate(examples):
        ids[i, :len(e)] = torch.tensor(e.input_ids)
        lab[i, :len(e)] = torch.tensor(e.labels)
        att[i, :len(e)] = 1
    return {"input_ids": ids, "labels": lab, "attention_mask": att}


# ---- shared data -------------------------------------------------------------------------------------------

def _read_csv(path: Path) -> list[dict]:
    csv.field_size_limit(1 << 24)
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def aci_rows(split: str) -> list[dict]:
    return _read_csv(SHARED_DIR / "aci-bench" / f"{split}.csv")


def mts_rows(split: str) -> list[dict]:
    return _read_csv(SHARED_DIR / "mts-dialog" / f"{split}.csv")


_ACI_MAP = {"CHIEF COMPLAINT": "chief_complaint", "HISTORY OF PRESENT ILLNESS": "history_of_present_illness",
            "CC": "chief_complaint", "HPI": "history_of_present_illness", "PAST MEDICAL HISTORY": "past_medical_history",
            "PAST SURGICAL HISTORY": "past_medical_history", "BIRTH HISTORY": "past_medical_history",
            "PROCEDURE": "results",
            "MEDICAL HISTORY": "past_medical_history", "PAST HISTORY": "past_medical_history",
            "SURGICAL HISTORY": "past_medical_history", "MEDICATIONS": "medications",
            "CURRENT MEDICATIONS": "medications", "ALLERGIES": "allergies", "SOCIAL HISTORY": "social_history",
            "FAMILY HISTORY": "family_history", "REVIEW OF SYSTEMS": "review_of_systems",
            "PHYSICAL EXAM": "physical_exam", "PHYSICAL EXAMINATION": "physical_exam", "EXAM": "physical_exam",
            "VITALS": "physical_exam", "VITALS REVIEWED": "physical_exam", "RESULTS": "results",
            "ASSESSMENT AND PLAN": "assessment_and_plan", "ASSESSMENT": "assessment_and_plan",
            "PLAN": "assessment_and_plan", "IMPRESSION": "assessment_and_plan", "INSTRUCTIONS": "assessment_and_plan"}
MTS_TO_HP = {"CC": "chief_complaint", "GENHX": "history_of_present_illness", "PASTMEDICALHX": "past_medical_history",
             "PASTSURGICAL": "past_medical_history", "MEDICATIONS": "medications", "ALLERGY": "allergies",
             "FAM/SOCHX": "social_history", "ROS": "review_of_systems", "EXAM": "physical_exam",
             "LABS": "results", "IMAGING": "results", "ASSESSMENT": "assessment_and_plan",
             "PLAN": "assessment_and_plan", "DIAGNOSIS": "assessment_and_plan", "DISPOSITION": "assessment_and_plan",
             "EDCOURSE": "history_of_present_illness", "OTHER_HISTORY": "past_medical_history",
             "GYNHX": "past_medical_history", "PROCEDURES": "results", "IMMUNIZATIONS": "past_medical_history"}
# "CC:" / "HPI:" / "CURRENT MEDICATIONS:": 4 of the 67 train notes write headings with a colon; without it their
# chief complaint, HPI, medications and history were silently dropped
_HEAD = re.compile(r"^([A-Z][A-Z /]+):?\s*$", re.M)


def aci_to_sections(note: str, template) -> dict:
    """ACI-Bench note → history_physical sections. An unknown all-caps line ("MSK", "HIV") is a sub-heading of the
    section it sits in: its text stays there (text before any heading goes to assessment_and_plan, never seen)."""
    kinds = {s.key: s.kind for s in template.generated_sections}
    acc: dict[str, list[str]] = {k: [] for k in kinds}
    parts = _HEAD.split(note)
    key = "assessment_and_plan"
    for head, body in zip(parts[1::2], parts[2::2]):
        if head.strip() not in _ACI_MAP:
            acc[key].append(head.strip())
        key = _ACI_MAP.get(head.strip(), key)
        lines = [ln.strip().lstrip("•-* ").strip() for ln in body.strip().splitlines()]
        acc[key] += [ln for ln in lines if ln]
    return {k: (v if kinds[k] == "list" else "\n".join(v)) for k, v in acc.items()}


def mts_dialogue(text: str) -> str:
    """'Doctor: ...' lines → '[doctor] ...' (the app's transcript style)."""
    out = []
    for ln in text.splitlines():
        m = re.match(r"\s*(Doctor|Patient|Guest_family|Guest_clinician)\s*:\s*(.*)", ln, re.I)
        out.append(f"[{m.group(1).lower()}] {m.group(2).strip()}" if m else ln.strip())
    return "\n".join(x for x in out if x)
