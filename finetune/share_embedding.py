"""Post-export rewrite: let the token embedding read the int8 LM head's bytes instead of its own fp32 table.

Why: Qwen2.5 ties its input embedding and LM head, and our LoRA touches neither, but the onnxruntime-genai builder's
int8 export keeps the embedding as a separate fp32 `Gather` table (151,936 × 1,536 × 4 B = 934 MB on the 1.5B) next
to the int8 `MatMulNBits` LM head; the builder shares the two only at 4 bits (`shared_embeddings`). onnxruntime's
contrib op `GatherBlockQuantized` (com.microsoft) accepts uint8 data with bits=8 and MatMulNBits' conventions (block-
wise scales along the last axis, default zero point 128), so the embedding Gather becomes

    lm_head B as [N, K] uint8 ──→ GatherBlockQuantized(B, ids, scales[, zero points]) → hidden
                            └─→ Reshape [N, K/bs, bs] → MatMulNBits (the LM head, as before) → logits

over the same initializers (stored once in model.onnx.data), and the fp32 table is dropped from the graph and from
the data file. MatMulNBits insists on a 3-D B and GatherBlockQuantized on scales of the data's rank, so one of the
two needs a Reshape node. It goes on the LM-head side: ORT folds it at load into a copy that MatMulNBits prepacks and
then frees, while the stored [N, K] bytes stay memory-mapped and only the gathered rows are read. The other way round
(the builder's 4-bit layout) leaves a folded 233 MB heap copy for the Gather: +228 MB RSS measured on the 1.5B.
Input embeddings become the LM head's int8 rows (in our GGUF bases the table is Q4_K and the head Q6_K of the same
tied matrix), which moves logits slightly; measurements in docs/decisions.md (2026-11-30).

    from finetune.share_embedding import share_embedding; share_embedding(Path("models/x/model.onnx"))
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from scribe.errors import ModelError

__all__ = ["share_embedding", "find_tied_pair"]

ALIGN = 64          # the builder's data file keeps every tensor at a multiple of 64 bytes
CHUNK = 64 << 20
MAX_TIE_ERROR = 0.3   # relative RMS error a row between the fp32 table and the dequantized LM head (see _check_tied)


def _attrs(node) -> dict:
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _ext(init) -> dict:
    return {e.key: e.value for e in init.external_data}


def find_tied_pair(graph):
    """(embedding Gather node, LM-head MatMulNBits node) of an int8 export, or raise ModelError."""
    inits = {i.name: i for i in graph.initializer}
    inputs = {i.name for i in graph.input}
    gathers = [n for n in graph.node if n.op_type == "Gather" and n.input[0] in inits and n.input[1] in inputs
               and len(inits[n.input[0]].dims) == 2]
    if len(gathers) != 1:
        raise ModelError(f"expected one token-embedding Gather over an initializer, found {len(gathers)}")
    n_vocab, hidden = inits[gathers[0].input[0]].dims
    heads = [n for n in graph.node if n.op_type == "MatMulNBits" and _attrs(n).get("N") == n_vocab
             and _attrs(n).get("K") == hidden and n.input[1] in inits]
    if len(heads) != 1:
        raise ModelError(f"expected one MatMulNBits LM head with N={n_vocab}, K={hidden}, found {len(heads)}")
    a = _attrs(heads[0])
    if a.get("bits") != 8 or hidden % a["block_size"]:
        raise ModelError(f"LM head is {a.get('bits')} bits, block {a['block_size']}: only 8 bits with whole blocks")
    return gathers[0], heads[0]


def _check_tied(data: Path, table, b, scales, zp, rows: int = 256) -> float:
    """The fp32 table must be the LM head's matrix up to quantization noise, else the model is untied or the adapter
    trained one of them. Our GGUF bases store the tied matrix twice, token_embd as Q4_K and output as Q6_K, so the
    two differ by Q4_K's rounding (relative RMS error ~0.1 a row); two unrelated matrices give ~1.4. Returns the
    worst relative RMS error over sampled rows."""
    n_vocab, hidden = table.dims
    idx = np.unique(np.linspace(0, n_vocab - 1, rows).astype(np.int64))
    mm = lambda init: np.memmap(data, mode="r", dtype=_read_dtype(init), offset=int(_ext(init)["offset"]),
                                shape=tuple(init.dims))
    emb = np.asarray(mm(table)[idx], dtype=np.float32)
    q = np.asarray(mm(b)[idx], dtype=np.float32)
    s = np.asarray(mm(scales)[idx], dtype=np.float32).reshape(len(idx), -1, 1)
    z = 128.0 if zp is None else np.asarray(mm(zp)[idx], dtype=np.float32).reshape(len(idx), -1, 1)
    deq = ((q - z) * s).reshape(len(idx), hidden)
    err = float((np.linalg.norm(emb - deq, axis=1) / np.maximum(np.linalg.norm(emb, axis=1), 1e-12)).max())
    if err > MAX_TIE_ERROR:
        raise ModelError(f"embedding table is not the LM head's matrix (relative error {err:.2f} > {MAX_TIE_ERROR})")
    return err


def _read_dtype(init):
    import onnx
    return onnx.helper.tensor_dtype_to_np_dtype(init.data_type)


def share_embedding(model_path: Path) -> dict:
    """Rewrite model.onnx (+ its one external data file) in place. Returns sizes and the tie check's error."""
    import onnx
    from onnx import helper, numpy_helper
    model_path = Path(model_path)
    m = onnx.load(str(model_path), load_external_data=False)
    g = m.graph
    gather, head = find_tied_pair(g)
    inits = {i.name: i for i in g.initializer}
    table, b, scales = inits[gather.input[0]], inits[head.input[1]], inits[head.input[2]]
    zp = inits.get(head.input[3]) if len(head.input) > 3 and head.input[3] else None
    locations = {_ext(i)["location"] for i in g.initializer if i.external_data}
    if len(locations) != 1:
        raise ModelError(f"expected one external data file, found {sorted(locations)}")
    data = model_path.parent / locations.pop()
    err = _check_tied(data, table, b, scales, zp)

    n_vocab, hidden = table.dims
    bs = _attrs(head)["block_size"]
    # the int8 blocks are stored as the [N, K] matrix GatherBlockQuantized reads; MatMulNBits gets its 3-D view
    del b.dims[:]
    b.dims.extend([n_vocab, hidden])
    shape_name, view = f"{b.name}_3d_shape", f"{b.name}_3d"
    g.initializer.append(numpy_helper.from_array(np.array([n_vocab, hidden // bs, bs], dtype=np.int64), shape_name))
    reshape = helper.make_node("Reshape", [b.name, shape_name], [view], name="/lm_head/Reshape")
    head.input[1] = view
    gbq = helper.make_node("GatherBlockQuantized", [b.name, gather.input[1], scales.name] + ([zp.name] if zp else []),
                           list(gather.output), name="/model/embed_tokens/GatherBlockQuantized",
                           domain="com.microsoft", bits=8, block_size=bs, gather_axis=0, quantize_axis=1)
    pos = list(g.node).index(gather)
    g.node.remove(gather)
    g.node.insert(pos, gbq)
    g.node.insert(list(g.node).index(head), reshape)
    if not any(table.name in n.input for n in g.node):
        g.initializer.remove(table)
    if not any(o.domain == "com.microsoft" for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid("com.microsoft", 1))

    # copy every remaining external tensor into a new data file (order kept, 64-byte aligned), the table left out
    new_data = data.with_name(data.name + ".tmp")
    ext = sorted((i for i in g.initializer if i.external_data), key=lambda i: int(_ext(i)["offset"]))
    pos_out = 0
    with open(data, "rb") as src, open(new_data, "wb") as dst:
        for init in ext:
            e = _ext(init)
            off, length = int(e["offset"]), int(e["length"])
            pad = -pos_out % ALIGN
            dst.write(b"\0" * pad)
            pos_out += pad
            src.seek(off)
            left = length
            while left:
                buf = src.read(min(CHUNK, left))
                if not buf:
                    raise ModelError(f"{data}: truncated at {init.name}")
                dst.write(buf)
                left -= len(buf)
            for entry in init.external_data:
                if entry.key == "offset":
                    entry.value = str(pos_out)
            pos_out += length
    tmp_model = model_path.with_name(model_path.name + ".tmp")
    tmp_model.write_bytes(m.SerializeToString())
    old_size = data.stat().st_size
    os.replace(new_data, data)
    os.replace(tmp_model, model_path)
    return {"data_bytes_before": old_size, "data_bytes_after": data.stat().st_size, "tie_rel_error": err,
            "dropped": table.name, "shared": b.name}
