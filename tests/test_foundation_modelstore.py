"""Model store: real manifests and the real shipped weights; tamper and missing files are refused by name."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from scribe.errors import ModelError
from scribe.modelstore import list_models, load_manifest, sha256_file, verify_model, write_manifest


def test_shipped_asr_model_verifies(models_dir):
    m = verify_model(models_dir, "moonshine-base-en")
    assert m.kind == "asr"
    names = {f.path for f in m.files}
    assert {"encoder_model.ort", "decoder_model_merged.ort", "tokenizer.bin"} <= names
    for f in m.files:
        assert (m.root / f.path).stat().st_size == f.size
    assert m.data["source"]["package"] == "moonshine-cpp"
    assert m.data["license"]


def test_every_tracked_manifest_names_source_and_license(models_dir):
    names = list_models(models_dir)
    assert "moonshine-base-en" in names
    for n in names:
        m = load_manifest(models_dir, n)
        assert m.files, n
        assert all(len(f.sha256) == 64 for f in m.files), n
        assert m.data.get("license"), n


@pytest.fixture()
def model_copy(models_dir, tmp_path):
    dst = tmp_path / "models" / "moonshine-base-en"
    shutil.copytree(models_dir / "moonshine-base-en", dst)
    return tmp_path / "models"


def test_flipped_byte_is_refused_naming_the_file(model_copy):
    p = model_copy / "moonshine-base-en" / "tokenizer.bin"
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))
    with pytest.raises(ModelError) as ei:
        verify_model(model_copy, "moonshine-base-en")
    assert "tokenizer.bin" in str(ei.value) and "sha256" in str(ei.value)


def test_missing_file_is_refused_naming_the_file(model_copy):
    (model_copy / "moonshine-base-en" / "encoder_model.ort").unlink()
    with pytest.raises(ModelError, match="encoder_model.ort"):
        verify_model(model_copy, "moonshine-base-en")


def test_truncated_file_is_refused(model_copy):
    p = model_copy / "moonshine-base-en" / "decoder_model_merged.ort"
    with open(p, "r+b") as f:
        f.truncate(p.stat().st_size - 1)
    with pytest.raises(ModelError, match="decoder_model_merged.ort"):
        verify_model(model_copy, "moonshine-base-en")


def test_unknown_model_and_bad_names(models_dir):
    with pytest.raises(ModelError, match="not found"):
        verify_model(models_dir, "no-such-model")
    with pytest.raises(ModelError, match="invalid model name"):
        load_manifest(models_dir, "../etc")


def test_write_manifest_round_trip(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.bin").write_bytes(b"hello")
    write_manifest(tmp_path / "m", "m", "test", ["a.bin"], license="none")
    d = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert d["files"][0]["sha256"] == sha256_file(tmp_path / "m" / "a.bin")
    assert verify_model(tmp_path, "m").name == "m"


def test_models_cli_verify_reports_tamper(model_copy):
    p = model_copy / "moonshine-base-en" / "tokenizer.bin"
    p.write_bytes(p.read_bytes()[:-1] + b"\x00")
    r = subprocess.run([sys.executable, "-m", "scribe", "models", "--verify"], capture_output=True, text=True,
                       env={**__import__("os").environ, "SCRIBE_MODELS": str(model_copy)})
    assert r.returncode == 2
    assert "tokenizer.bin" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
