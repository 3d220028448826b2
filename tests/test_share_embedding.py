"""finetune/share_embedding.py on a real (tiny) ONNX file laid out like the int8 export: the embedding Gather becomes
a GatherBlockQuantized over the LM head's int8 blocks, its outputs are the dequantized LM-head rows, the LM head's
logits are unchanged, and the fp32 table leaves the graph and the data file."""
from __future__ import annotations

import numpy as np
import pytest

V, K, BS = 300, 64, 32


def _export_like(root, tie_noise: float = 0.02, seed: int = 0):
    """input_ids → Gather(fp32 table) → hidden → MatMulNBits(8 bits, block 32, no zero points) → logits, with
    model.onnx + one model.onnx.data like the builder's; the table is the LM head's matrix up to rounding noise."""
    import onnx
    from onnx import TensorProto as T, helper as h, numpy_helper as nh
    rng = np.random.default_rng(seed)
    q = rng.integers(0, 256, (V, K), dtype=np.uint8)
    scales = (rng.random((V, K // BS), dtype=np.float32) * 0.01 + 0.001) * rng.choice([-1, 1], (V, K // BS))
    deq = ((q.astype(np.float32) - 128).reshape(V, K // BS, BS) * scales[:, :, None]).reshape(V, K)
    table = deq + tie_noise * np.abs(deq).mean() * rng.standard_normal((V, K)).astype(np.float32)
    inits = [nh.from_array(table.astype(np.float32), "model.embed_tokens.weight"),
             nh.from_array(rng.standard_normal(K).astype(np.float32), "norm.weight"),
             nh.from_array(q.reshape(V, K // BS, BS), "lm_head.MatMul.weight_Q8"),
             nh.from_array(scales.astype(np.float32), "lm_head.MatMul.weight_scales")]
    nodes = [h.make_node("Gather", ["model.embed_tokens.weight", "input_ids"], ["hidden"],
                         name="/model/embed_tokens/Gather"),
             h.make_node("Mul", ["hidden", "norm.weight"], ["normed"]),
             h.make_node("MatMulNBits", ["normed", "lm_head.MatMul.weight_Q8", "lm_head.MatMul.weight_scales"],
                         ["logits"], name="/lm_head/MatMul_Q8", domain="com.microsoft", K=K, N=V, bits=8, block_size=BS,
                         accuracy_level=4)]
    g = h.make_graph(nodes, "tiny", [h.make_tensor_value_info("input_ids", T.INT64, ["batch", "seq"])],
                     [h.make_tensor_value_info("hidden", T.FLOAT, ["batch", "seq", K]),
                      h.make_tensor_value_info("logits", T.FLOAT, ["batch", "seq", V])], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 21), h.make_opsetid("com.microsoft", 1)])
    onnx.save_model(m, str(root / "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="model.onnx.data", size_threshold=0)
    return deq


def _run(root, ids):
    import onnxruntime as ort
    s = ort.InferenceSession(str(root / "model.onnx"), providers=["CPUExecutionProvider"])
    return s.run(None, {"input_ids": ids})


def test_rewrite_gathers_the_dequantized_lm_head_rows(tmp_path):
    import onnx
    from finetune.share_embedding import share_embedding
    deq = _export_like(tmp_path)
    ids = np.array([[0, 5, 299, 17, 5]], dtype=np.int64)
    _, logits_before = _run(tmp_path, ids)
    size_before = (tmp_path / "model.onnx.data").stat().st_size
    info = share_embedding(tmp_path / "model.onnx")
    hidden, logits = _run(tmp_path, ids)
    np.testing.assert_allclose(hidden[0], deq[ids[0]], rtol=0, atol=1e-6)     # the LM head's int8 rows, exactly
    assert np.abs(logits - logits_before).max() < 0.1 * np.abs(logits_before).max()   # only the inputs moved
    m = onnx.load(str(tmp_path / "model.onnx"), load_external_data=False)
    ops = [n.op_type for n in m.graph.node]
    assert "Gather" not in ops and ops.count("GatherBlockQuantized") == 1
    names = {i.name for i in m.graph.initializer}
    assert "model.embed_tokens.weight" not in names and "lm_head.MatMul.weight_Q8" in names   # stored once
    assert size_before - info["data_bytes_after"] >= V * K * 4                # the fp32 table left the data file
    assert info["data_bytes_after"] == (tmp_path / "model.onnx.data").stat().st_size
    # the rewritten pair still computes the LM head on the same int8 bytes: logits of the gathered rows by hand
    normed = hidden[0] * onnx.numpy_helper.to_array(next(i for i in m.graph.initializer if i.name == "norm.weight"),
                                                    base_dir=str(tmp_path))
    want = normed @ deq.T                                  # (accuracy_level 4 rounds the activations to int8)
    np.testing.assert_allclose(logits[0], want, rtol=0, atol=0.02 * np.abs(want).max())


def test_an_untied_table_is_refused(tmp_path):
    from finetune.share_embedding import share_embedding
    from scribe.errors import ModelError
    _export_like(tmp_path, tie_noise=2.0)
    before = (tmp_path / "model.onnx").read_bytes()
    with pytest.raises(ModelError, match="not the LM head"):
        share_embedding(tmp_path / "model.onnx")
    assert (tmp_path / "model.onnx").read_bytes() == before            # nothing rewritten


def test_a_recipe_with_another_precision_makes_the_built_model_stale(models_dir):
    """Switching a recipe's QUANTS entry rebuilds the model on the next set-up even though its files still verify."""
    from finetune.build import ADAPTERS_DIR, DEFAULT_RECIPES, build_reason
    adir = ADAPTERS_DIR / "qwen15"
    shipped = next(r for r in DEFAULT_RECIPES if r.name == "scribe-note-qwen15").quant
    other = "int8-shared" if shipped != "int8-shared" else "int8"
    assert build_reason(models_dir, "scribe-note-qwen15", adir, shipped) is None
    assert build_reason(models_dir, "scribe-note-qwen15", adir, other) == "requant"
    assert build_reason(models_dir, "scribe-note-qwen15", adir) is None          # precision not asked: not checked
