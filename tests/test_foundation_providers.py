"""Execution-provider choice. DirectML and CoreML devices cannot exist on this Linux machine, so those paths are
exercised with a stand-in `onnxruntime` module that reports them available (and, for the fallback test, fails to
create a session on them). The CPU path runs a real session on the real Moonshine encoder."""
from __future__ import annotations

import logging
import types

import onnxruntime as real_ort
import pytest

from scribe.providers import genai_provider, make_session, preferred_providers

CPU, DML, COREML = "CPUExecutionProvider", "DmlExecutionProvider", "CoreMLExecutionProvider"


def test_auto_picks_directml_on_windows_coreml_on_macos_cpu_elsewhere():
    assert preferred_providers("auto", [DML, CPU], "win32").providers == [DML, CPU]
    assert preferred_providers("auto", [COREML, CPU], "darwin").providers == [COREML, CPU]
    assert preferred_providers("auto", [DML, COREML, CPU], "linux").providers == [CPU]
    assert preferred_providers("auto", [CPU], "win32").providers == [CPU]  # plain onnxruntime on Windows


def test_override_and_unavailable_override(caplog):
    assert preferred_providers("cpu", [DML, CPU], "win32").providers == [CPU]
    assert preferred_providers("dml", [DML, CPU], "win32").providers == [DML, CPU]
    with caplog.at_level(logging.WARNING, logger="scribe.providers"):
        assert preferred_providers("coreml", [CPU], "linux").providers == [CPU]
    assert "not available" in caplog.text


def test_genai_names():
    assert genai_provider("auto", [DML, CPU], "win32") == "dml"
    assert genai_provider("auto", [CPU], "linux") == "cpu"


def test_real_cpu_session_on_shipped_encoder(models_dir):
    sess, choice = make_session(models_dir / "moonshine-base-en" / "encoder_model.ort", threads=1)
    assert choice.in_use == CPU
    assert sess.get_inputs()[0].name == "input_values"


def test_failing_gpu_provider_falls_back_to_cpu(models_dir, caplog, monkeypatch):
    """Stand-in ORT: claims DirectML exists, but session creation on it raises, as a broken driver would."""
    calls = []

    class FakeSession:
        def __init__(self, path, sess_options=None, providers=None):
            calls.append(list(providers))
            if providers[0] == DML:
                raise RuntimeError("D3D12 device lost")
            self._real = real_ort.InferenceSession(path, sess_options=sess_options, providers=[CPU])

        def get_providers(self):
            return self._real.get_providers()

    fake = types.SimpleNamespace(get_available_providers=lambda: [DML, CPU], InferenceSession=FakeSession)
    monkeypatch.setattr("sys.platform", "win32")
    with caplog.at_level(logging.WARNING, logger="scribe.providers"):
        sess, choice = make_session(models_dir / "moonshine-base-en" / "encoder_model.ort", 1, "auto", _ort=fake)
    assert calls == [[DML, CPU], [CPU]]
    assert choice.in_use == CPU
    assert "falling back to CPU" in caplog.text
