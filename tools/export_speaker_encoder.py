"""Export resemblyzer's pretrained speaker encoder (GE2E, Apache-2.0) to ONNX, once, at set-up.

    .venv/bin/python tools/export_speaker_encoder.py                 # idempotent: skips when already verified
    .venv/bin/python tools/export_speaker_encoder.py --write-manifest   # maintainers: (re)pin the hashes

The app never imports torch: it runs `models/speaker-encoder/speaker_encoder.onnx` through ONNX Runtime after
checking it against the committed manifest (scribe.modelstore). The export reads `resemblyzer/pretrained.pt` from
the installed wheel (pinned in requirements-weights.txt, installed --no-deps: its librosa/webrtcvad dependencies are
not needed, so this script never imports the `resemblyzer` package itself, whose __init__ imports librosa). The
checkpoint's sha256 is pinned too, and the export is checked against it: same torch (setup.sh pins it) → same bytes.
Graph: mels [batch, frames, 40] (linear-power mel, 25 ms / 10 ms, 16 kHz; scribe.speakers.features) → embedding
[batch, 256], ReLU'd and L2-normalised, exactly resemblyzer's VoiceEncoder.forward.
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scribe.errors import ModelError  # noqa: E402
from scribe.modelstore import MANIFEST, sha256_file, verify_model, write_manifest  # noqa: E402

NAME = "speaker-encoder"
ONNX = "speaker_encoder.onnx"
PACKAGE, VERSION = "resemblyzer", "0.1.4"


def _checkpoint() -> Path:
    spec = importlib.util.find_spec(PACKAGE)     # finds the folder without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"{PACKAGE}=={VERSION} is not installed (pip install --no-deps -r requirements-weights.txt)")
    p = Path(list(spec.submodule_search_locations)[0]) / "pretrained.pt"
    if not p.exists():
        raise ModelError(f"{p} is missing: reinstall {PACKAGE}=={VERSION}")
    return p


def export(out_dir: Path, ckpt: Path) -> bytes:
    import warnings
    warnings.filterwarnings("ignore")     # the legacy exporter's deprecation and LSTM batch notes: checked below
    import torch
    from torch import nn

    class VoiceEncoder(nn.Module):          # resemblyzer.voice_encoder.VoiceEncoder without its audio imports
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(40, 256, 3, batch_first=True)
            self.linear = nn.Linear(256, 256)
            self.relu = nn.ReLU()

        def forward(self, mels):
            _, (hidden, _) = self.lstm(mels)
            raw = self.relu(self.linear(hidden[-1]))
            # + tiny epsilon: an all-zero (silent) input must not give NaN in the app
            return raw / (torch.norm(raw, dim=1, keepdim=True) + 1e-8)

    torch.manual_seed(0)
    model = VoiceEncoder().eval()
    state = torch.load(ckpt, map_location="cpu", weights_only=True)["model_state"]
    missing = model.load_state_dict(state, strict=False)
    if missing.missing_keys:
        raise ModelError(f"speaker encoder checkpoint lacks {missing.missing_keys}")
    dummy = torch.rand(2, 160, 40)
    buf = io.BytesIO()
    torch.onnx.export(model, (dummy,), buf, input_names=["mels"], output_names=["embedding"],
                      dynamic_axes={"mels": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
                      opset_version=17, dynamo=False, do_constant_folding=True)
    data = buf.getvalue()
    # parity: the ONNX graph gives the torch model's embeddings
    import numpy as np
    import onnxruntime as ort
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    x = torch.rand(3, 200, 40)
    with torch.no_grad():
        ref = model(x).numpy()
    got = sess.run(None, {"mels": x.numpy()})[0]
    err = float(np.abs(ref - got).max())
    if err > 1e-4:
        raise ModelError(f"speaker encoder ONNX export differs from torch by {err:.2e}")
    return data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=ROOT / "models")
    ap.add_argument("--write-manifest", action="store_true", help="(re)write the manifest with the new hashes")
    a = ap.parse_args(argv)
    out = a.models / NAME
    try:
        if not a.write_manifest:
            try:
                verify_model(a.models, NAME)
                print(f"model {NAME}: verified")
                return 0
            except ModelError:
                pass                      # not built yet (or stale): build it, then check it against the pins
        ckpt = _checkpoint()
        manifest = json.loads((out / MANIFEST).read_text()) if (out / MANIFEST).exists() else {}
        pinned = manifest.get("source", {}).get("sha256")
        got = sha256_file(ckpt)
        if pinned and got != pinned and not a.write_manifest:
            raise ModelError(f"{ckpt} has sha256 {got[:12]}…, pinned {pinned[:12]}…: not the pinned {PACKAGE}")
        data = export(out, ckpt)
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / (ONNX + ".part")
        tmp.write_bytes(data)
        tmp.replace(out / ONNX)
        if a.write_manifest:
            write_manifest(out, NAME, "speaker", [ONNX],
                           description="GE2E speaker encoder (3-layer LSTM, 256-d embeddings) from resemblyzer, "
                                       "exported to ONNX at set-up; input: linear-power mel [batch, frames, 40]",
                           license="Apache-2.0 (resemblyzer, Resemble AI)", sample_rate=16000, n_mels=40,
                           window_ms=25, hop_ms=10, partial_frames=160, embedding_size=256, model=ONNX,
                           source={"package": PACKAGE, "version": VERSION, "file": "resemblyzer/pretrained.pt",
                                   "sha256": got, "export": "tools/export_speaker_encoder.py"})
        verify_model(a.models, NAME)
        print(f"model {NAME}: exported and verified")
    except ModelError as e:
        print(e.one_line(), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
