"""`python -m finetune --quick` end to end: train → export (merged, int8) → verified manifest (sections-v1, budgets)
→ eval card → load in onnxruntime-genai → the app's generate() gives a note that validates."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import jsonschema
import pytest

pytestmark = pytest.mark.slow


def test_quick_run_end_to_end(root, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    r = subprocess.run([sys.executable, "-m", "finetune", "--quick", "--models", str(models), "--work",
                        str(tmp_path / "runs"), "--threads", "2", "--name", "quick-note"],
                       cwd=root, capture_output=True, text=True, timeout=1500)
    assert r.returncode == 0, r.stderr[-2000:]
    from scribe.modelstore import verify_model
    m = verify_model(models, "quick-note")
    assert m.kind == "llm" and m.get("quantization")["name"] == "int8"      # the shipped precision is the default
    assert m.get("built_from")["adapter"] == "adapter" and m.get("prompt_format") == "sections-v1"
    card = json.loads((models / "quick-note" / "eval_card.json").read_text())
    assert card["quick"] is True and card["results"] and card["results"][0]["schema_valid"] == 1.0
    assert (models / "quick-note" / "eval_card.md").read_text().startswith("# Eval card: quick-note")
    assert (tmp_path / "runs" / "quick-note" / "train" / "run_config.json").exists()

    from finetune.synth import generate_pairs
    from finetune.synth.templates_io import builtin_templates
    from scribe.config import load_settings
    from scribe.notes import generate
    t = builtin_templates()
    p = generate_pairs(1, seed=99, templates=t)[0]
    settings = dataclasses.replace(load_settings(), models_dir=models, threads=2, provider="cpu")
    note = generate(p.transcript, t[p.template_id], settings, model="quick-note", max_new_tokens=96)
    jsonschema.validate(note.sections, t[p.template_id].schema())
