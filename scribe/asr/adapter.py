"""A low-rank update of Moonshine's decoder (LoRA, trained by `python -m finetune asr-train`) merged into the graphs.

The derived float32 graphs (scribe.asr.convert) keep the exported node names ("/model/decoder/layers.3/self_attn/
q_proj/MatMul"), so each adapted projection is found by name and its weight initializer (stored [in, out], the
transpose of torch's [out, in]) gets `scale * (B @ A).T` added: the same arithmetic as the torch model that was
trained, done once at set-up in numpy, so the app needs no torch and runs the graphs at the same speed.

Adapter file: `adapter.npz` with `<module>.lora_A` [r, in] and `<module>.lora_B` [out, r] per adapted module
(torch names, e.g. "model.decoder.layers.0.encoder_attn.k_proj") and a 0-d `scale`.
"""
from __future__ import annotations

import re

import numpy as np

from ..errors import ModelError

__all__ = ["node_for_module", "merge", "TORCH_TO_ONNX"]

# torch module (transformers' Moonshine) → exported node path piece; the export calls o_proj "dense", fc1/fc2 up/down
TORCH_TO_ONNX = {"q_proj": "q_proj", "k_proj": "k_proj", "v_proj": "v_proj", "o_proj": "dense",
                 "fc1": "up_proj", "fc2": "down_proj"}
_MODULE = re.compile(r"^model\.decoder\.layers\.(\d+)\.(self_attn|encoder_attn|mlp)\.(\w+)$")


def node_for_module(module: str) -> tuple[str, str]:
    """(graph, node name) holding the weight of a torch decoder module: the encoder-attention K/V projections
    live in cross_kv.onnx, everything else in decoder_step.onnx."""
    m = _MODULE.match(module)
    if not m or m.group(3) not in TORCH_TO_ONNX:
        raise ModelError(f"ASR adapter: unknown module {module!r}")
    layer, block, proj = m.groups()
    graph = "cross_kv" if block == "encoder_attn" and proj in ("k_proj", "v_proj") else "decoder_step"
    return graph, f"/model/decoder/layers.{layer}/{block}/{TORCH_TO_ONNX[proj]}/MatMul"


def _weight_name(graph, node_name: str) -> str:
    node = next((n for n in graph.node if n.name == node_name), None)
    if node is None or node.op_type != "MatMul":
        raise ModelError(f"ASR adapter: node {node_name} not found in the derived graph")
    inits = {t.name for t in graph.initializer}
    names = [i for i in node.input if i in inits]
    if len(names) != 1:
        raise ModelError(f"ASR adapter: node {node_name} has no single weight")
    users = sum(1 for n in graph.node for i in n.input if i == names[0])
    if users != 1:   # a shared initializer would change another projection too
        raise ModelError(f"ASR adapter: the weight of {node_name} is shared by {users} nodes")
    return names[0]


def merge(models: dict, adapter: dict[str, np.ndarray]) -> int:
    """Add the adapter's updates to `models` ({"decoder_step": ModelProto, "cross_kv": ModelProto}) in place.
    Returns the number of weights changed. Raises ModelError for an adapter that does not fit the graphs."""
    from onnx import numpy_helper
    scale = float(adapter["scale"]) if "scale" in adapter else 1.0
    modules = sorted({k[:-len(".lora_A")] for k in adapter if k.endswith(".lora_A")})
    if not modules:
        raise ModelError("ASR adapter: no lora_A/lora_B pairs in the file")
    changed = 0
    for mod in modules:
        a, b = adapter.get(mod + ".lora_A"), adapter.get(mod + ".lora_B")
        if b is None:
            raise ModelError(f"ASR adapter: {mod} has lora_A but no lora_B")
        graph_name, node_name = node_for_module(mod)
        graph = models[graph_name].graph
        wname = _weight_name(graph, node_name)
        idx = next(i for i, t in enumerate(graph.initializer) if t.name == wname)
        w = numpy_helper.to_array(graph.initializer[idx])
        delta = (b.astype(np.float64) @ a.astype(np.float64)).T * scale      # torch [out,in] → graph [in,out]
        if delta.shape != w.shape:
            raise ModelError(f"ASR adapter: {mod} is {delta.shape}, the graph's weight is {w.shape}")
        graph.initializer[idx].CopyFrom(numpy_helper.from_array((w + delta).astype(np.float32), wname))
        changed += 1
    return changed
