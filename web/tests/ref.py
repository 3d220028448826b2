"""Reference outputs from the Python engine for the web tests (the desktop code path, same model files).

    .venv/bin/python web/tests/ref.py asr FILE.wav            -> {"text": ...}
    .venv/bin/python web/tests/ref.py note FILE.txt TEMPLATE MAX_NEW [MODEL]  -> Note JSON + "tokens" (prompt ids)
    .venv/bin/python web/tests/ref.py note-fp32 FILE.txt TEMPLATE MAX_NEW MODEL
        the same Python note engine on the arithmetic the browser reproduces: the shipped model when its
        MatMulNBits are 8-bit (onnxruntime-web's WASM runs the same int8-activation kernel as x86), else a copy
        whose MatMulNBits use accuracy_level 0 (4-bit: the browser computes in float32)
    .venv/bin/python web/tests/ref.py tokenize TEXTFILE MODEL   -> {"ids": [...]} (onnxruntime-genai tokenizer)
    .venv/bin/python web/tests/ref.py prompts TRANSCRIPT.txt    -> {template_id: prompt text} for every template
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


def fp32_copy(name):
    """models copy (hard links for weights) with accuracy_level 0 on every MatMulNBits; returns its models dir."""
    import os
    import onnx
    from scribe.modelstore import verify_model, write_manifest
    src = verify_model(ROOT / "models", name)
    out = ROOT / "web" / "tests" / ".cache" / "models-fp32"
    dst = out / name
    stamp = dst / ".source"
    key = json.dumps([[f.path, f.sha256] for f in src.files])
    if stamp.exists() and stamp.read_text() == key:
        return out
    dst.mkdir(parents=True, exist_ok=True)
    graph = src.get("decoder_file") or json.loads((src.root / "genai_config.json").read_text())["model"]["decoder"]["filename"]
    for f in src.files:
        p = dst / f.path
        if p.exists():
            p.unlink()
        if f.path == graph:
            m = onnx.load(str(src.path(f.path)), load_external_data=False)
            for n in m.graph.node:
                for a in n.attribute:
                    if n.op_type == "MatMulNBits" and a.name == "accuracy_level":
                        a.i = 0
            onnx.save(m, str(p))
        else:
            try:
                os.link(src.path(f.path), p)
            except OSError:
                import shutil
                shutil.copyfile(src.path(f.path), p)
    write_manifest(dst, name, src.kind, [f.path for f in src.files],
                   **{k: v for k, v in src.data.items() if k not in ("name", "kind", "files")})
    stamp.write_text(key)
    return out


def browser_arith_models_dir(name):
    """The models folder whose arithmetic onnxruntime-web reproduces for this model (measured, see
    docs/decisions.md): 8-bit MatMulNBits run the same int8-activation kernel in WASM as on x86, so the shipped
    model is the reference; 4-bit ones are computed in float32 in the browser, so the accuracy_level 0 copy is."""
    import onnx
    from scribe.modelstore import verify_model
    src = verify_model(ROOT / "models", name)
    graph = json.loads((src.root / "genai_config.json").read_text())["model"]["decoder"]["filename"]
    m = onnx.load(str(src.path(graph)), load_external_data=False)
    bits = {a.i for n in m.graph.node if n.op_type == "MatMulNBits" for a in n.attribute if a.name == "bits"}
    return ROOT / "models" if bits == {8} else fp32_copy(name)


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
    elif cmd in ("note", "note-fp32"):
        # the browser's contract (json-v1), not the desktop's (sections-v1): see jsonv1.py
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from jsonv1 import generate_json_v1
        from scribe.notes.templates import get_template
        s = settings()
        model = argv[4] if len(argv) > 4 else "scribe-note-smollm2"
        mdir = browser_arith_models_dir(model) if cmd == "note-fp32" else s.models_dir
        note = generate_json_v1(Path(argv[1]).read_text(), get_template(argv[2], s), mdir, model, int(argv[3]))
        print(json.dumps(note.to_json()))
    elif cmd == "prompts":
        from scribe.notes.prompt import build_prompt
        from scribe.notes.templates import load_templates
        text = Path(argv[1]).read_text()
        print(json.dumps({tid: build_prompt(t, text) for tid, t in load_templates(settings()).items()}))
    elif cmd == "unit":
        # one process for all small references: tokenizer ids, prompts, Moonshine decode, JSON closing
        import onnxruntime_genai as og
        from scribe.asr.tokenizer import Tokenizer
        from scribe.notes.jsonstate import close_partial
        from scribe.notes.prompt import build_prompt
        from scribe.notes.templates import load_templates
        og.disable_telemetry_events()
        cases = json.loads(Path(argv[1]).read_text())
        tok = og.Tokenizer(og.Model(str(ROOT / "models" / cases["model"])))
        ms = Tokenizer.load(ROOT / "models" / "moonshine-base-en" / "tokenizer.bin")
        text = Path(cases["transcript"]).read_text()
        prompts = {tid: build_prompt(t, text) for tid, t in load_templates(settings()).items()}
        out = {
            "ids": [[int(i) for i in tok.encode(t)] for t in cases["texts"]],
            "prompts": prompts,
            "prompt_ids": {k: [int(i) for i in tok.encode(v)] for k, v in prompts.items()},
            "moonshine": [ms.decode(ids) for ids in cases["moonshine"]],
            "closed": [close_partial(p) for p in cases["partials"]],
            "windows": {},
        }
        import hashlib
        import soundfile as sf
        from scribe.asr.segment import plan_windows, prepare
        for wav in cases.get("wavs", []):
            x, _ = sf.read(wav, dtype="float32")
            ws = plan_windows(x, 16000)
            out["windows"][wav] = [{"start": w.start, "end": w.end,
                                    "sha256": hashlib.sha256(prepare(x, 16000, w).tobytes()).hexdigest()} for w in ws]
        print(json.dumps(out))
    elif cmd == "lm-greedy":
        # plain onnxruntime greedy loop over the fp32-accumulation copy: ids -> n new ids (+ first logits)
        import numpy as np
        import onnxruntime as ort
        name, n, ids = argv[1], int(argv[2]), [int(i) for i in argv[3].split(",")]
        root = browser_arith_models_dir(name) / name
        cfg = json.loads((root / "genai_config.json").read_text())["model"]
        d = cfg["decoder"]
        so = ort.SessionOptions()
        so.intra_op_num_threads = 2
        sess = ort.InferenceSession(str(root / d["filename"]), so, providers=["CPUExecutionProvider"])
        past = {}
        for l in range(d["num_hidden_layers"]):
            for k in ("past_key_names", "past_value_names"):
                past[d["inputs"][k] % l] = np.zeros((1, d["num_key_value_heads"], 0, d["head_size"]), np.float32)
        out, cur, total, first = [], ids, 0, None
        for _ in range(n):
            feeds = {"input_ids": np.array([cur], np.int64), "attention_mask": np.ones((1, total + len(cur)), np.int64), **past}
            res = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
            logits = res["logits"][0, -1]
            if first is None:
                first = [float(v) for v in logits[:8]]
            total += len(cur)
            nxt = int(logits.argmax())
            out.append(nxt)
            cur = [nxt]
            for l in range(d["num_hidden_layers"]):
                past[d["inputs"]["past_key_names"] % l] = res[d["outputs"]["present_key_names"] % l]
                past[d["inputs"]["past_value_names"] % l] = res[d["outputs"]["present_value_names"] % l]
        print(json.dumps({"ids": out, "first_logits": first}))
    elif cmd == "compare-graphs":
        # the shipped graph and the browser's rewritten copy (same folder, same weights) on the same input
        import numpy as np
        import onnxruntime as ort
        folder, a, b = Path(argv[1]), argv[2], argv[3]
        d = json.loads((folder / "genai_config.json").read_text())["model"]["decoder"]
        ids = np.array([[1, 9690, 198, 2683, 314, 253, 5356, 30]], np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        for l in range(d["num_hidden_layers"]):
            for k in ("past_key_names", "past_value_names"):
                feeds[d["inputs"][k] % l] = np.zeros((1, d["num_key_value_heads"], 0, d["head_size"]), np.float32)
        outs = [ort.InferenceSession(str(folder / f), providers=["CPUExecutionProvider"]).run(["logits"], feeds)[0]
                for f in (a, b)]
        print(json.dumps({"max_abs_diff": float(np.abs(outs[0] - outs[1]).max()),
                          "argmax_equal": bool((outs[0].argmax(-1) == outs[1].argmax(-1)).all())}))
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
