"""Speaker labels on CPU, offline: VAD pieces → GE2E embeddings (ONNX) → clusters → turns → roles.

    from scribe.speakers import SpeakerEncoder, Diarizer, assign_roles, enrol
    d = Diarizer(SpeakerEncoder(settings)).run(samples)

The ASR engine uses it (scribe.asr.engine, settings.speakers): each window's text is divided among the speaker
turns in it (speakers/split.py) and each segment's `speaker` is a role tag: doctor / patient / guest_family
(scribe.speakers.roles). Qt-free, torch-free.
"""
from __future__ import annotations

from .cluster import ClusterOptions, cluster
from .diarize import DiarizeOptions, DiarizeResult, Diarizer, Turn, turn_windows
from .encoder import DEFAULT_SPEAKER_MODEL, SpeakerEncoder
from .enrol import ENROL_KEY, Enrolment, enrol
from .online import OnlineOptions, OnlineSpeakers
from .roles import CLINICIAN, OTHER, PATIENT, ROLE_NAMES, TAGS, RoleOptions, assign_roles, provisional_roles

__all__ = ["SpeakerEncoder", "DEFAULT_SPEAKER_MODEL", "Diarizer", "DiarizeOptions", "DiarizeResult", "Turn",
           "turn_windows", "OnlineOptions", "OnlineSpeakers", "ClusterOptions", "cluster", "Enrolment", "enrol", "ENROL_KEY", "RoleOptions",
           "assign_roles", "provisional_roles", "CLINICIAN", "PATIENT", "OTHER", "ROLE_NAMES", "TAGS"]
