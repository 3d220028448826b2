"""Execution-provider choice and fallback. The only module that picks ONNX Runtime providers.

Order: SCRIBE_PROVIDER / settings override, else DirectML on Windows when onnxruntime-directml is installed,
CoreML on macOS, else CPU. A provider that fails to initialise falls back to CPU with a logged warning.
"""
from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ProviderChoice", "available_providers", "preferred_providers", "session_options", "make_session",
           "genai_provider", "check_local", "ALIASES", "LOCAL_PROVIDERS"]

log = logging.getLogger("scribe.providers")

ALIASES = {"cpu": "CPUExecutionProvider", "dml": "DmlExecutionProvider", "directml": "DmlExecutionProvider",
           "coreml": "CoreMLExecutionProvider", "cuda": "CUDAExecutionProvider"}
# Providers that run on this machine. Anything else (AzureExecutionProvider sends inputs to a remote endpoint)
# is refused even when installed: a transcript must never leave the machine for inference.
LOCAL_PROVIDERS = {"CPUExecutionProvider", "DmlExecutionProvider", "CoreMLExecutionProvider", "CUDAExecutionProvider",
                   "ROCMExecutionProvider", "MIGraphXExecutionProvider", "OpenVINOExecutionProvider",
                   "TensorrtExecutionProvider", "QNNExecutionProvider", "WebGpuExecutionProvider"}
# onnxruntime-genai names the same devices differently
_GENAI = {"DmlExecutionProvider": "dml", "CoreMLExecutionProvider": "coreml", "CUDAExecutionProvider": "cuda",
          "CPUExecutionProvider": "cpu"}


@dataclass
class ProviderChoice:
    requested: str
    providers: list[str]     # what we ask ORT for, best first; always ends with CPU
    in_use: str = ""         # what the session actually runs on, filled after creation


def check_local(requested: str) -> str:
    """The ORT provider name for a setting; ConfigError (one line) for anything that is not local."""
    if (requested or "auto").lower() == "auto":
        return "auto"
    name = ALIASES.get(requested.lower(), requested)
    if name not in LOCAL_PROVIDERS:
        from .errors import ConfigError
        raise ConfigError(f"provider {str(requested)[:40]!r} is not a local execution provider; Scribe runs "
                          "models on this machine only (auto, cpu, dml, coreml, cuda)")
    return name


def available_providers() -> list[str]:
    import onnxruntime as ort
    return list(ort.get_available_providers())


def preferred_providers(requested: str = "auto", available: list[str] | None = None,
                        platform: str | None = None) -> ProviderChoice:
    avail = available if available is not None else available_providers()
    platform = platform or sys.platform
    req = (requested or "auto").lower()
    if req != "auto":
        name = check_local(requested)
        if name not in avail:
            log.warning("provider %s requested but not available (have %s); using CPU", name, ",".join(avail))
            return ProviderChoice(requested, ["CPUExecutionProvider"])
        return ProviderChoice(requested, [name] + ([] if name == "CPUExecutionProvider" else ["CPUExecutionProvider"]))
    order: list[str] = []
    if platform.startswith("win") and "DmlExecutionProvider" in avail:
        order.append("DmlExecutionProvider")
    if platform == "darwin" and "CoreMLExecutionProvider" in avail:
        order.append("CoreMLExecutionProvider")
    order.append("CPUExecutionProvider")
    return ProviderChoice("auto", order)


def session_options(threads: int, spin: bool = True):
    """spin=False: intra-op threads sleep between parallel sections instead of busy-waiting. Many short runs
    on a shared 2-core machine (the streaming ASR) then stop fighting the caller and other processes for the
    cores: a streaming decode took 0.12 s instead of 0.21 s wall at load ~2 (docs/decisions.md, ASR)."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    if not spin:
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.intra_op_num_threads = max(1, int(threads))
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return so


def make_session(path: Path | bytes, threads: int, requested: str = "auto", _ort: Any = None, spin: bool = True):
    """Create an InferenceSession on the best provider; on failure retry on CPU. Returns (session, choice).
    `path` may be the model's bytes (already verified in memory by modelstore)."""
    model = path if isinstance(path, (bytes, bytearray)) else str(path)
    ort = _ort
    if ort is None:
        import onnxruntime as ort
    choice = preferred_providers(requested, list(ort.get_available_providers()))
    try:
        sess = ort.InferenceSession(model, sess_options=session_options(threads, spin), providers=choice.providers)
    except Exception as e:  # a GPU provider that cannot initialise must not stop the scribe
        if choice.providers == ["CPUExecutionProvider"]:
            raise
        log.warning("provider %s failed to initialise (%s); falling back to CPU", choice.providers[0],
                    e.__class__.__name__)
        choice = ProviderChoice(choice.requested, ["CPUExecutionProvider"])
        sess = ort.InferenceSession(model, sess_options=session_options(threads, spin), providers=choice.providers)
    choice.in_use = sess.get_providers()[0]
    log.info("session %s on %s (%d threads)", "<verified bytes>" if isinstance(model, bytes) else Path(model).name,
             choice.in_use, threads)
    return sess, choice


def genai_provider(requested: str = "auto", available: list[str] | None = None,
                   platform: str | None = None) -> str:
    """The onnxruntime-genai provider name for the same choice ('cpu' means no append)."""
    return _GENAI.get(preferred_providers(requested, available, platform).providers[0], "cpu")
