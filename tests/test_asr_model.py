"""Moonshine through ONNX Runtime on the shipped weights: tokenizer, C-reference equality, tampered weights."""
from __future__ import annotations

import shutil

import pytest
import soundfile as sf

from asr_support import ROOT, asr_settings, beckett_path, c_reference_text, engine  # noqa: F401  (fixtures)
from scribe.asr.tokenizer import BOS_ID, EOS_ID, Tokenizer
from scribe.errors import ModelError

MODEL_DIR = ROOT / "models" / "moonshine-base-en"


@pytest.fixture(scope="module")
def model(asr_settings):
    """The un-adapted base model (the app's default adds a decoder adapter), in C-library mode (no first-token
    rule): the runtime path must give the C library's text on the C library's weights."""
    from scribe.asr.moonshine import MoonshineModel
    m = MoonshineModel(asr_settings.models_dir, "moonshine-base-en", threads=asr_settings.threads, provider="cpu",
                       home=asr_settings.home)
    m.suppress_initial_eos = False
    return m


def test_tokenizer_layout():
    tok = Tokenizer.load(MODEL_DIR / "tokenizer.bin")
    assert len(tok) == 32000
    assert tok.pieces[BOS_ID] == b"<s>" and tok.pieces[EOS_ID] == b"</s>"
    # ids 3..258 are raw bytes: a UTF-8 character split over byte tokens decodes whole
    e_acute = "é".encode()
    assert tok.decode([3 + e_acute[0], 3 + e_acute[1]]) == "é"
    # the ▁ marker becomes a space between words
    ids = [tok.pieces.index("\u2581the".encode()), tok.pieces.index("\u2581patient".encode())]
    assert tok.decode(ids) == "the patient"
    assert tok.decode([BOS_ID, EOS_ID]) == ""


def test_tokenizer_rejects_truncated(tmp_path):
    bad = tmp_path / "tokenizer.bin"
    bad.write_bytes((MODEL_DIR / "tokenizer.bin").read_bytes()[:-3])
    with pytest.raises(ModelError, match="truncated"):
        Tokenizer.load(bad)


def test_beckett_equals_c_reference(model):
    """Our greedy decode on the shipped sample gives exactly the moonshine C library's text."""
    ref = c_reference_text(beckett_path())
    audio, sr = sf.read(beckett_path(), dtype="float32")
    assert sr == 16000
    ours = model.transcribe(audio)
    assert ref.strip(), "C reference returned nothing"
    assert ours == ref.strip()


def test_batched_decode_matches_single(model):
    audio, _ = sf.read(beckett_path(), dtype="float32")
    single = model.decode([audio])[0]
    batched = model.decode([audio, audio[: len(audio) // 2], audio])
    assert batched[0] == single and batched[2] == single
    assert 0 < len(batched[1]) < len(single)


def test_tampered_weights_refused(tmp_path):
    """Copy the model, flip one byte of the decoder: loading fails with a ModelError naming that file."""
    from scribe.asr.moonshine import MoonshineModel
    dst = tmp_path / "models" / "moonshine-base-en"
    dst.mkdir(parents=True)
    for f in ("manifest.json", "encoder_model.ort", "decoder_model_merged.ort", "tokenizer.bin"):
        shutil.copy2(MODEL_DIR / f, dst / f)
    target = dst / "decoder_model_merged.ort"
    with open(target, "r+b") as fh:
        fh.seek(1_000_000)
        b = fh.read(1)
        fh.seek(1_000_000)
        fh.write(bytes([b[0] ^ 0xFF]))
    with pytest.raises(ModelError) as ei:
        MoonshineModel(tmp_path / "models", "moonshine-base-en", threads=1, provider="cpu", home=tmp_path)
    assert "decoder_model_merged.ort" in str(ei.value)
    assert "\n" not in ei.value.one_line()


def test_tampered_derived_graph_rebuilt(model, tmp_path, caplog):
    """The float graphs derived at first load are verified on every load: a flipped byte is detected, logged,
    and the graph is rebuilt from the (verified) shipped weights rather than loaded."""
    import logging
    from scribe.asr.moonshine import MoonshineModel
    from scribe.modelstore import load_manifest, sha256_file
    dst = tmp_path / "models" / "moonshine-base-en"
    shutil.copytree(MODEL_DIR, dst, symlinks=False)
    cache = dst / ".cache"
    step = cache / "moonshine-base-en-fast" / "decoder_step.onnx"
    assert step.exists()
    data = bytearray(step.read_bytes())
    data[len(data) // 2] ^= 0x01
    step.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="scribe.asr.convert"):
        MoonshineModel(tmp_path / "models", "moonshine-base-en", threads=1, provider="cpu", home=tmp_path)
    assert any("decoder_step.onnx" in r.getMessage() and "rebuilding" in r.getMessage() for r in caplog.records)
    want = {f.path: f.sha256 for f in load_manifest(cache, "moonshine-base-en-fast").files}
    assert sha256_file(step) == want["decoder_step.onnx"]
