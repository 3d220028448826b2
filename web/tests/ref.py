"""Reference outputs from the Python engine for the web tests (the desktop code path, same model files).

    .venv/bin/python web/tests/ref.py asr FILE.wav            -> {"text": ...} (scribe.config.DEFAULT_ASR_MODEL)
    .venv/bin/python web/tests/ref.py note FILE.txt TEMPLATE MAX_NEW MODEL
        the desktop's note (scribe.notes.generate: sections-v1, one prefill, section by section), Note JSON
    .venv/bin/python web/tests/ref.py note-fp32 FILE.txt TEMPLATE MAX_NEW MODEL
        the same desktop note on the browser's arithmetic: a copy of the model whose MatMulNBits say accuracy_level
        0 (onnxruntime-web computes them in float32; the shipped export asks x86 for int8 activations)
    .venv/bin/python web/tests/ref.py section-greedy MODEL TEMPLATE KEY N FILE.txt
        the prompt's ids (prefix, transcript body, section request; onnxruntime-genai's tokenizer) and the first
        N greedy tokens of that section as the desktop's SectionWriter + GreedyStepper produce them
    .venv/bin/python web/tests/ref.py section-greedy-fp32 MODEL TEMPLATE KEY N FILE.txt
        the same on the fp32 copy (the browser's arithmetic; see note-fp32)
    .venv/bin/python web/tests/ref.py tokenize TEXTFILE MODEL   -> {"ids": [...]} (onnxruntime-genai tokenizer)
    .venv/bin/python web/tests/ref.py prompts TRANSCRIPT.txt    -> {"template.section": prompt text} for every section
    .venv/bin/python web/tests/ref.py numbers CASES.json        -> the spoken-number normaliser, the number guard's token
        classes and its stepper on a scripted model (tests/numbers.test.js)
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
    # the desktop's default, which the web companion ports (web/src/numguard.js): references are guarded notes
    s.note_numbers = "said"
    return s


def derived_cache(name, kind):
    """(verified source manifest, cache models dir, model dir, stamp file, stamp text, up to date?) for a test copy
    of model `name` derived as `kind`: rebuilt only when the source files' sha256 change."""
    from scribe.modelstore import verify_model
    src = verify_model(ROOT / "models", name)
    out = ROOT / "web" / "tests" / ".cache" / f"models-{kind}"
    dst = out / name
    stamp = dst / ".source"
    key = json.dumps([[f.path, f.sha256] for f in src.files])
    return src, out, dst, stamp, key, stamp.exists() and stamp.read_text() == key


def fp32_copy(name):
    """models copy (hard links for weights) with accuracy_level 0 on every MatMulNBits; returns its models dir.
    The arithmetic onnxruntime-web 1.30 runs for this model on WASM (measured: it ignores accuracy_level 4 and
    computes the int8 MatMulNBits in float32; logits agree with this copy on native onnxruntime to ~1e-5)."""
    import os
    import onnx
    from scribe.modelstore import write_manifest
    src, out, dst, stamp, key, fresh = derived_cache(name, "fp32")
    if fresh:
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


def section_prompts(text):
    """Every template section's sections-v1 prompt for `text`."""
    from scribe.notes.prompt import build_section_prompt
    from scribe.notes.templates import load_templates
    return {f"{tid}.{sec.key}": build_section_prompt(t, sec, text)
            for tid, t in load_templates(settings()).items() for sec in t.generated_sections}


def section_greedy(model, template_id, key, n, text, models_dir=None):
    """The desktop's SectionWriter on `text` (prefix + body prefilled in its 256-token chunks), then the section's
    request and n greedy steps of its GreedyStepper (repetition penalty 1.05, no drafts). `models_dir`: run another
    copy of the model files (fp32_copy: the browser's arithmetic)."""
    from scribe.notes.engine import REPETITION_PENALTY, SectionWriter
    from scribe.notes.generate import as_transcript
    from scribe.notes.prompt import section_prefix, section_request, transcript_body, transcript_to_text
    from scribe.notes.runtime import load_model
    from scribe.notes.stepper import GreedyStepper
    from scribe.notes.templates import get_template
    s = settings()
    s.note_model = model
    if models_dir is not None:
        s.models_dir = models_dir
    lm = load_model(model, s)
    tpl = get_template(template_id, s)
    sec = next(x for x in tpl.generated_sections if x.key == key)
    tok = lm.tokenizer
    enc = lambda x: [int(i) for i in tok.encode(x)]  # noqa: E731
    prefix, body = enc(section_prefix(tpl.domain)), enc(transcript_body(transcript_to_text(as_transcript(text))))
    request = enc(section_request(tpl, sec))
    w = SectionWriter(lm, 1024)
    w.append(prefix + body)
    st = GreedyStepper(w._gen, REPETITION_PENALTY, 0)
    st.start(w.fed, request)
    ids = [st.next]
    while len(ids) < n:
        st.step()
        ids.append(st.next)
    return {"prefix": prefix, "body": body, "request": request, "ids": ids}


def numbers(cases):
    """The desktop's answers for tests/numbers.test.js: normalize_numbers / number_values on `texts`, the facts
    checker's number flags on `sections`, number_vocab of each tokenizer.json in `vocabs`, and the guarded
    GreedyStepper on `guard`'s scripted model (logits from the last two tokens, see ScriptedGen)."""
    import numpy as np
    from scribe.notes.facts import check_facts
    from scribe.notes.numguard import allowed_numbers, number_vocab
    from scribe.notes.stepper import GreedyStepper
    from scribe.spoken import normalize_numbers, number_values
    texts = cases["texts"]
    out = {
        "normalized": [normalize_numbers(t) for t in texts],
        "no_ordinals": [normalize_numbers(t, ordinals=False) for t in texts],
        "keep_small": [normalize_numbers(t, keep_small=True) for t in texts],
        "values": [sorted(number_values(t)) for t in texts],
        "allowed": sorted(allowed_numbers(cases["transcript"])),
        "number_flags": [[f.text, f.section] for f in check_facts(cases["sections"], cases["transcript"]) if f.kind == "number"],
        "vocabs": [],
    }
    for path in cases["vocabs"]:
        v = number_vocab(path)
        out["vocabs"].append({"digits": {str(k): s for k, s in v.digits.items()}, "seps": {str(k): s for k, s in v.seps.items()},
                              "spaces": sorted(v.spaces), "masked": v.masked.tolist(),
                              "alpha_end": np.flatnonzero(v.alpha_end).tolist(), "space_start": np.flatnonzero(v.space_start).tolist()})
    g = cases["guard"]

    class ScriptedGen:
        """append_tokens / get_output("logits") / rewind_to over a table: the row after a sequence is `base` with
        the entries listed for its last two tokens (else its last one) set."""

        def __init__(self, seq):
            self.seq, self.n = list(seq), 0

        def row(self, seq):
            r = np.asarray(g["base"], dtype=np.float32).copy()
            for i, v in g["table"].get(f"{seq[-2]},{seq[-1]}", g["table"].get(str(seq[-1]), [])):
                r[i] = v
            return r

        def append_tokens(self, ids):
            self.seq += list(ids)
            self.n = len(ids)

        def get_output(self, name):
            return np.stack([self.row(self.seq[:len(self.seq) - self.n + k + 1]) for k in range(self.n)])[None]

        def rewind_to(self, n):
            del self.seq[n:]

    st = GreedyStepper(ScriptedGen(g["prompt"]), 1.05, 0, allowed_numbers(g["transcript"]), number_vocab(g["vocab"]))
    st.start(g["prompt"], g["request"])
    first, steps = st.next, []
    for _ in range(g["steps"]):
        steps.append([st.step(), st.next, st.held])
    out["guard"] = {"first": first, "steps": steps, "withheld": st.withheld, "passes": st.passes}
    return out


def main(argv):
    cmd = argv[0]
    if cmd == "asr":
        import numpy as np
        from scribe.asr.moonshine import MoonshineModel
        import wave
        with wave.open(argv[1]) as w:
            assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
            a = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0
        from scribe.config import DEFAULT_ASR_MODEL
        s = settings()
        # the desktop's default, which the web companion runs (web/tools/build.js reads the same constant)
        m = MoonshineModel(s.models_dir, DEFAULT_ASR_MODEL, threads=2, provider="cpu", home=s.home)
        print(json.dumps({"text": m.transcribe(a)}))
    elif cmd in ("note", "note-fp32"):
        from scribe.notes.generate import generate
        s = settings()
        s.note_model = argv[4]
        if cmd == "note-fp32":
            s.models_dir = fp32_copy(argv[4])
        note = generate(Path(argv[1]).read_text(), argv[2], s, model=argv[4], max_new_tokens=int(argv[3]))
        print(json.dumps(note.to_json()))
    elif cmd == "prompt-kv":
        # the KV cache of a section prompt but its last token (prefix + body + request[:-1], 256-token chunks) from
        # the shipped graph on the CPU EP: every layer's key then value, float32, written to OUT; prints the count
        import numpy as np
        import onnxruntime as ort
        from scribe.notes.generate import as_transcript
        from scribe.notes.prompt import section_prefix, transcript_body, transcript_to_text
        from scribe.notes.templates import get_template
        import onnxruntime_genai as og
        og.disable_telemetry_events()
        from scribe.notes.prompt import section_request
        name, tpl = argv[1], get_template(argv[2], settings())
        sec = next(x for x in tpl.generated_sections if x.key == argv[3])
        root = ROOT / "models" / name
        tok = og.Tokenizer(og.Model(str(root)))
        ids = [int(i) for i in tok.encode(section_prefix(tpl.domain))]
        ids += [int(i) for i in tok.encode(transcript_body(transcript_to_text(as_transcript(Path(argv[4]).read_text()))))]
        ids += [int(i) for i in tok.encode(section_request(tpl, sec))][:-1]
        d = json.loads((root / "genai_config.json").read_text())["model"]["decoder"]
        so = ort.SessionOptions()
        so.intra_op_num_threads = 2
        sess = ort.InferenceSession(str(root / d["filename"]), so, providers=["CPUExecutionProvider"])
        names = [d["inputs"][k] % l for l in range(d["num_hidden_layers"]) for k in ("past_key_names", "past_value_names")]
        outs = [d["outputs"][k] % l for l in range(d["num_hidden_layers"]) for k in ("present_key_names", "present_value_names")]
        past = {nm: np.zeros((1, d["num_key_value_heads"], 0, d["head_size"]), np.float32) for nm in names}
        for i in range(0, len(ids), 256):
            chunk = ids[i:i + 256]
            feeds = {"input_ids": np.array([chunk], np.int64), "attention_mask": np.ones((1, i + len(chunk)), np.int64), **past}
            res = sess.run(outs, feeds)
            past = dict(zip(names, res))
        with open(argv[5], "wb") as f:
            for nm in names:
                f.write(np.ascontiguousarray(past[nm], np.float32).tobytes())
        print(json.dumps({"total": len(ids), "file": argv[5]}))
    elif cmd in ("section-greedy", "section-greedy-fp32"):
        # -fp32: the same desktop code on the browser's arithmetic; greedy near-ties are decided by the last bits of
        # a logit, so exact token equality is only a fair test on the same arithmetic
        alt = fp32_copy(argv[1]) if cmd == "section-greedy-fp32" else None
        print(json.dumps(section_greedy(argv[1], argv[2], argv[3], int(argv[4]), Path(argv[5]).read_text(), alt)))
    elif cmd == "prompts":
        print(json.dumps(section_prompts(Path(argv[1]).read_text())))
    elif cmd == "unit":
        # one process for all small references: tokenizer ids, section prompts, budgets, fitting, Moonshine decode
        from scribe.notes.templates import load_templates
        import onnxruntime_genai as og
        from scribe.asr.tokenizer import Tokenizer
        og.disable_telemetry_events()
        cases = json.loads(Path(argv[1]).read_text())
        tok = og.Tokenizer(og.Model(str(ROOT / "models" / cases["model"])))
        ms = Tokenizer.load(ROOT / "models" / "moonshine-base-en" / "tokenizer.bin")
        text = Path(cases["transcript"]).read_text()
        prompts = section_prompts(text)
        from types import SimpleNamespace
        from scribe.notes.engine import first_repeat, load_budgets, section_budget

        def penalized_argmax(logits, seen):
            """GreedyStepper._argmax on these float32 logits with these ids already in the sequence."""
            import numpy as np
            from scribe.notes.stepper import GreedyStepper
            st = GreedyStepper(None, 1.05, 0)
            st._seen = np.zeros(len(logits), dtype=bool)
            st._seen[seen] = True
            return st._argmax(np.asarray(logits, dtype=np.float32))
        from scribe.notes.generate import as_transcript, fit_transcript
        lm = SimpleNamespace(budgets=load_budgets(ROOT / "models" / cases["model"] / "section_budgets.json"))
        out = {
            "budgets": {f"{tid}.{sec.key}": section_budget(lm, t, sec)
                        for tid, t in load_templates(settings()).items() for sec in t.generated_sections},
            "fit": list(fit_transcript(as_transcript(text), lambda x: len(tok.encode(x)), cases["fit_budget"])),
            "ids": [[int(i) for i in tok.encode(t)] for t in cases["texts"]],
            "prompts": prompts,
            "prompt_ids": {k: [int(i) for i in tok.encode(v)] for k, v in prompts.items()},
            "moonshine": [ms.decode(ids) for ids in cases["moonshine"]],
            "first_repeat": first_repeat(cases["repeat"]),
            "penalized_argmax": [penalized_argmax(c["logits"], c["seen"]) for c in cases["penalty"]],
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
    elif cmd == "numbers":
        print(json.dumps(numbers(json.loads(Path(argv[1]).read_text()))))
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
