"""Small types that travel between stages, with one JSON form each."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Segment", "Transcript", "Evidence", "Flag", "Note"]


@dataclass
class Segment:
    start: float
    end: float
    text: str
    speaker: str | None = None
    final: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "text": self.text,
                "speaker": self.speaker}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Segment":
        return cls(float(d.get("start", 0.0)), float(d.get("end", 0.0)), str(d.get("text", "")),
                   d.get("speaker"), bool(d.get("final", True)))


@dataclass
class Transcript:
    segments: list[Segment]
    audio_seconds: float = 0.0
    model: str = ""
    wall_seconds: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "segments": [s.to_json() for s in self.segments],
                "audio_seconds": round(self.audio_seconds, 3), "wall_seconds": round(self.wall_seconds, 3),
                "model": self.model}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Transcript":
        return cls([Segment.from_json(s) for s in d.get("segments", [])], float(d.get("audio_seconds", 0.0)),
                   str(d.get("model", "")), float(d.get("wall_seconds", 0.0)))

    @classmethod
    def from_text(cls, text: str) -> "Transcript":
        """A plain-text transcript: one segment per non-empty line; times are line indices (no audio)."""
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        segs = []
        for i, ln in enumerate(lines):
            speaker = None
            if ln.startswith("[") and "]" in ln[:20]:
                speaker, ln = ln[1:ln.index("]")], ln[ln.index("]") + 1:].strip()
            elif ":" in ln[:12] and ln.split(":", 1)[0].strip().isalpha():
                speaker, ln = ln.split(":", 1)[0].strip().lower(), ln.split(":", 1)[1].strip()
            segs.append(Segment(float(i), float(i + 1), ln, speaker))
        return cls(segs, 0.0, "text")


@dataclass
class Flag:
    kind: str          # "number" | "dose" | "date" | "drug" | "unsupported" | "withheld" | "empty" | ...
    text: str
    section: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Evidence:
    section: str
    sentence: str
    spans: list[Segment]
    supported: bool

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "sentence": self.sentence,
                "spans": [{"start": round(s.start, 3), "end": round(s.end, 3), "text": s.text} for s in self.spans],
                "supported": self.supported}


@dataclass
class Note:
    template_id: str
    sections: dict[str, str | list[str]]
    markdown: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    model: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"template": self.template_id, "sections": self.sections, "markdown": self.markdown,
                "evidence": [e.to_json() for e in self.evidence], "flags": [f.to_json() for f in self.flags],
                "model": self.model, "timings": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.timings.items()}}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Note":
        return cls(d["template"], d.get("sections", {}), d.get("markdown", ""),
                   [Evidence(e["section"], e["sentence"], [Segment.from_json(s) for s in e.get("spans", [])],
                             bool(e.get("supported"))) for e in d.get("evidence", [])],
                   [Flag(**f) for f in d.get("flags", [])], d.get("model", ""), d.get("timings", {}))
