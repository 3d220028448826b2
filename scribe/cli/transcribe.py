"""`python -m scribe transcribe AUDIO [--json]`: transcribe an audio file on this device.

    python -m scribe transcribe visit.wav                       # plain text
    python -m scribe transcribe visit.flac --json               # {"text", "segments", "audio_seconds", ...}
    SCRIBE_THREADS=2 python -m scribe --threads 2 transcribe samples/dictation.wav --segments   # tiny CPU run

Bad input (missing, empty, not audio, zero-length, unsupported format) is one line on stderr and exit code 2.
"""
from __future__ import annotations

import json
import logging
import sys

__all__ = ["register", "run"]

log = logging.getLogger("scribe.cli.transcribe")


def register(sub) -> None:
    p = sub.add_parser("transcribe", help="transcribe an audio file (WAV/FLAC/OGG, any rate) on this device",
                       description="Transcribe an audio file with the on-device Moonshine model.")
    p.add_argument("audio", metavar="AUDIO", help="audio file: WAV, FLAC or OGG; any sample rate; mono or stereo")
    p.add_argument("--json", action="store_true",
                   help='print JSON: {"text", "segments": [{"start","end","text","speaker"}], "audio_seconds", '
                        '"wall_seconds", "model"}')
    p.add_argument("--segments", action="store_true", help="plain output: one timed line per segment")
    p.add_argument("--progress", action="store_true", help="print each segment to stderr as it is transcribed")
    p.set_defaults(func=run)


def _stamp(t: float) -> str:
    m, s = divmod(t, 60.0)
    return f"{int(m):02d}:{s:05.2f}"


def run(args, settings) -> int:
    from ..asr.engine import transcribe_file

    # transcribe_file reads and checks the audio before loading the model: bad input fails in milliseconds
    log.info("transcribe: model=%s threads=%d provider=%s json=%s", settings.asr_model, settings.threads,
             settings.provider, bool(args.json))

    def progress(seg) -> None:
        print(f"[{_stamp(seg.start)}–{_stamp(seg.end)}] {seg.text}", file=sys.stderr, flush=True)

    t = transcribe_file(args.audio, settings, on_segment=progress if args.progress else None)
    log.info("transcribe: %d segments, %.1f s audio, %.2f s wall", len(t.segments), t.audio_seconds,
             t.wall_seconds)
    if args.json:
        print(json.dumps(t.to_json(), ensure_ascii=False))
    elif args.segments:
        for s in t.segments:
            print(f"[{_stamp(s.start)}–{_stamp(s.end)}] {s.text}")
    else:
        print(t.text)
    return 0
