"""Reference outputs from the Python engine for the web tests (the desktop code path, same model files).

    .venv/bin/python web/tests/ref.py asr FILE.wav            -> {"text": ...}
    .venv/bin/python web/tests/ref.py note FILE.txt TEMPLATE MAX_NEW [MODEL]  -> Note JSON + "tokens" (prompt ids)
    .venv/bin/python web/tests/ref.py tokenize TEXTFILE MODEL   -> {"ids": [...]} (onnxruntime-genai tokenizer)
Tiny CPU configuration: 2 threads, CPU provider; SCRIBE_HOME is a throw-away folder given by the caller.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def settings():
    from scribe.config import load_settings
    s = load_settings()
    s.models_dir = ROOT / "models"
    s.templates_dir = ROOT / "templates"
    s.provider = "cpu"
    s.threads = 2
    return s


def main(argv):
    cmd = argv[0]
    if cmd == "asr":
        import numpy as np
        from scribe.asr.moonshine import MoonshineModel
        import wave
        with wave.open(argv[1]) as w:
            assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
            a = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0
        s = settings()
        m = MoonshineModel(s.models_dir, "moonshine-base-en", threads=2, provider="cpu", home=s.home)
        print(json.dumps({"text": m.transcribe(a)}))
    elif cmd == "note":
        from scribe.notes.generate import generate
        text = Path(argv[1]).read_text()
        note = generate(text, argv[2], settings(), model=argv[4] if len(argv) > 4 else None,
                        max_new_tokens=int(argv[3]))
        print(json.dumps(note.to_json()))
    elif cmd == "tokenize":
        import onnxruntime_genai as og
        og.disable_telemetry_events()
        m = og.Model(str(ROOT / "models" / argv[2]))
        tok = og.Tokenizer(m)
        print(json.dumps({"ids": [int(i) for i in tok.encode(Path(argv[1]).read_text())]}))
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])
