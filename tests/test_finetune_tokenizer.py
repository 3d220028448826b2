"""Tokenizer parity: onnxruntime-genai's tokenizer on the exported model gives the same ids as the HF tokenizer
that training used (the GGUF-derived tokenizer gave ids -1 for spaces until saved as plain byte-level BPE)."""
from __future__ import annotations

import pytest

og = pytest.importorskip("onnxruntime_genai")

TEXTS = [
    "hello world", "  two  spaces\tand a tab\n\nand blank lines ", "BP 138/92, HR 88, temp 38.1 °C, SpO2 97%",
    "metformin 500 mg twice daily; insulin glargine 20 units at bedtime", "naïve café — résumé, 日本語, emoji 🙂",
    "$4,500 on March 3, 2025 — 1,000.25", "[doctor] um, any chest pain?\n[patient] no- no.",
    "<|im_start|>user\nTranscript:\nhi<|im_end|>\n<|im_start|>assistant\n",
]


@pytest.fixture(scope="module")
def qwen_tokenizers(models_dir):
    """The shipped note model's tokenizer (Qwen2.5 BPE from the GGUF) against the HF one that trained it."""
    from finetune.base import QWEN_BASE, load_tokenizer, resolve_base
    from scribe.config import Settings
    from scribe.modelstore import verify_model
    m = verify_model(models_dir, Settings().note_model)
    return load_tokenizer(resolve_base(models_dir / QWEN_BASE.parent.name / QWEN_BASE.name)), og.Tokenizer(og.Model(str(m.root)))


@pytest.mark.parametrize("which", ["qwen_tokenizers"])
@pytest.mark.parametrize("text", TEXTS)
def test_ids_match(request, which, text):
    hf, ogt = request.getfixturevalue(which)
    ids = hf(text, add_special_tokens=False)["input_ids"]
    assert list(ogt.encode(text)) == ids
    assert -1 not in ids
    if which == "qwen_tokenizers" and "<|" not in text:      # decode drops special tokens by design
        assert ogt.decode(ogt.encode(text)) == text


def test_chatml_ids_and_no_start_token(qwen_tokenizers):
    hf, ogt = qwen_tokenizers
    marks = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    ids = hf.convert_tokens_to_ids(marks)
    assert len(set(ids)) == 3 and all([int(x) for x in ogt.encode(m)] == [i] for m, i in zip(marks, ids))
    assert hf.eos_token == "<|im_end|>"
    assert hf("a")["input_ids"] == hf("a", add_special_tokens=False)["input_ids"]


def test_roundtrip_plain_text(qwen_tokenizers):
    _, ogt = qwen_tokenizers
    for t in TEXTS[:6]:
        assert ogt.decode(ogt.encode(t)) == t
