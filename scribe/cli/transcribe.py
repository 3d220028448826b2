"""`python -m scribe transcribe AUDIO [--json]`: transcribe an audio file on this device.

    python -m scribe transcribe visit.wav                       # plain text
    python -m scribe transcribe visit.flac --json               # {"text", "segments", "audio_seconds", ...}
    SCRIBE_THREADS=2 python -m scribe --threads 2 transcribe samples/dictation.wav --segments   # tiny CPU run
    python -m scribe transcribe visit.wav --vocab practice-words.txt --normalize   # + user words, "400 mg" form
    python -m scribe transcribe visit.wav --clinician-voice me.wav   # roles from a ~15 s recording of the clinician

Speaker labels (on by default when the speaker model is installed): plain output is one `[doctor] ...` /
`[patient] ...` / `[guest_family] ...` line per segment (the form `scribe note` and the note model read), --json
gives each segment's "speaker". --speakers off: one unlabelled text, as before.

Bad input (missing, empty, not audio, zero-length, unsupported format; a vocabulary that is missing, not UTF-8
text or over 200,000 terms) is one line on stderr and exit code 2. Junk lines in a vocabulary are skipped.
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
    p.add_argument("--vocab", metavar="FILE",
                   help="extra words to recognise (names, local drugs): UTF-8, one term per line, # comments")
    p.add_argument("--vocab-method", choices=["greedy", "bias", "correct", "bias+correct"],
                   help="how the drug names and --vocab words are used: bias = nudge the decoder toward them, "
                        "correct = fix low-confidence near misses, bias+correct = both (default, best measured), "
                        "greedy = plain decoding")
    p.add_argument("--normalize", action="store_true",
                   help="print the display form (400 mg, 120/80, BID, q6h); --json always carries both as "
                        '"text" and "normalized_text"')
    p.add_argument("--speakers", choices=["auto", "on", "off"],
                   help="speaker labels: auto = on when the speaker model is installed (default), on = required, "
                        "off = none")
    p.add_argument("--clinician-voice", metavar="WAV",
                   help="a ~15 s recording of the clinician alone: that voice is labelled [doctor] (otherwise roles "
                        "come from what each voice says)")
    p.set_defaults(func=run)


def _stamp(t: float) -> str:
    m, s = divmod(t, 60.0)
    return f"{int(m):02d}:{s:05.2f}"


def run(args, settings) -> int:
    from ..asr.engine import transcribe_file
    from ..spoken import normalize_transcript

    if args.vocab:
        from ..lexicon import load_vocab
        load_vocab(args.vocab)          # a bad vocabulary fails here, in milliseconds, before the model loads
        settings.vocab_file = str(args.vocab)
    if args.vocab_method:
        settings.vocab_method = args.vocab_method
    if args.speakers:
        settings.speakers = args.speakers
    if settings.speakers == "on":           # required: a missing or tampered speaker model fails before the ASR loads
        from ..modelstore import verify_model
        from ..speakers import DEFAULT_SPEAKER_MODEL
        verify_model(settings.models_dir, DEFAULT_SPEAKER_MODEL)
    enrolment = _enrolment(args.clinician_voice, settings) if args.clinician_voice else None

    # transcribe_file reads and checks the audio before loading the model: bad input fails in milliseconds
    log.info("transcribe: model=%s threads=%d provider=%s json=%s", settings.asr_model, settings.threads,
             settings.provider, bool(args.json))

    def progress(seg) -> None:
        print(f"[{_stamp(seg.start)}–{_stamp(seg.end)}] {seg.text}", file=sys.stderr, flush=True)

    t = transcribe_file(args.audio, settings, on_segment=progress if args.progress else None, enrolment=enrolment)
    log.info("transcribe: %d segments, %.1f s audio, %.2f s wall", len(t.segments), t.audio_seconds,
             t.wall_seconds)
    # the raw text is what is stored and what the note model reads; the normalised form is for reading
    show = normalize_transcript if args.normalize else (lambda x: x)
    if args.json:
        d = t.to_json()
        d["normalized_text"] = normalize_transcript(t.text)
        print(json.dumps(d, ensure_ascii=False))
    elif args.segments:
        for s in t.segments:
            who = f" [{s.speaker}]" if s.speaker else ""
            print(f"[{_stamp(s.start)}–{_stamp(s.end)}]{who} {show(s.text)}")
    elif any(s.speaker for s in t.segments):
        for s in t.segments:
            print(f"[{s.speaker}] {show(s.text)}" if s.speaker else show(s.text))
    else:
        print(show(t.text))
    return 0


def _enrolment(path: str, settings):
    """The clinician's enrolment from a recording (checked before the ASR model loads: bad input fails fast)."""
    from ..audio.io import load_audio
    from ..speakers import SpeakerEncoder, enrol
    audio = load_audio(path, 16000)
    return enrol(SpeakerEncoder(settings), audio.samples)
