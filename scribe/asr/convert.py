"""Derive fast ONNX graphs from the shipped Moonshine `.ort` files (once, cached next to the model).

Why: the shipped `.ort` files store weights as int8 with a Cast→Mul→Add dequantisation chain in the main graph,
and ORT-format models are not re-optimised at load, so every decoder step re-dequantises all 40 M weights and
transposes the 32768×416 output projection (~85 % of a step, measured with the ORT profiler). The merged decoder
also wraps both paths in an `If` node. We therefore:
  1. let ORT serialise each `.ort` graph back to ONNX (`optimized_model_filepath`, no optimisations),
  2. fold the dequantisation chains into float32 initializers in numpy (bit-identical to what ORT computes),
  3. split the merged decoder into `decoder_step.onnx` (the `use_cache_branch=True` graph) and
     `cross_kv.onnx` (only the nodes of the first-step graph that project encoder states to cross-attention K/V).
Step 0 then runs `decoder_step` with an empty self-attention cache, which is the same arithmetic as the first-step
graph; the beckett.wav test checks the text equals the C library's.

The derived files get their own manifest (scribe.modelstore.write_manifest) recording the sha256 of the verified
source files, so they are verified like any model and rebuilt when the source changes.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..modelstore import Manifest, derived_sealed, load_manifest, seal_derived, verify_model, write_manifest

__all__ = ["derive", "DERIVED_FILES", "FORMAT_VERSION"]

log = logging.getLogger("scribe.asr.convert")

FORMAT_VERSION = 2
DERIVED_FILES = ("encoder.onnx", "cross_kv.onnx", "decoder_step.onnx")


def _ort_to_onnx(src: Path, dst: Path) -> None:
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.optimized_model_filepath = str(dst)
    so.log_severity_level = 3
    ort.InferenceSession(str(src), so, providers=["CPUExecutionProvider"])


def _fold_constants(graph) -> dict[str, np.ndarray]:
    """Evaluate the Cast/Mul/Add nodes of `graph` whose inputs are all initializers; return name -> array."""
    from onnx import numpy_helper
    from onnx.helper import tensor_dtype_to_np_dtype
    consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    folded: dict[str, np.ndarray] = {}
    for node in graph.node:
        if node.op_type not in ("Cast", "Mul", "Add") or not all(i in consts for i in node.input):
            continue
        a = [consts[i] for i in node.input]
        if node.op_type == "Cast":
            to = next(x.i for x in node.attribute if x.name == "to")
            out = a[0].astype(tensor_dtype_to_np_dtype(to))
        elif node.op_type == "Mul":
            out = a[0] * a[1]
        else:
            out = a[0] + a[1]
        consts[node.output[0]] = out
        folded[node.output[0]] = out
    return {**{t.name: consts[t.name] for t in graph.initializer}, **folded}


def _used_names(nodes) -> set[str]:
    used: set[str] = set()

    def visit(ns):
        for n in ns:
            used.update(i for i in n.input if i)
            for a in n.attribute:
                if a.g is not None and a.g.node:
                    visit(a.g.node)
                    used.update(o.name for o in a.g.output)
    visit(nodes)
    return used


def _prune(nodes, outputs: list[str]):
    """Keep only the nodes needed to compute `outputs` (reverse reachability)."""
    need = set(outputs)
    keep = []
    for n in reversed(list(nodes)):
        if any(o in need for o in n.output):
            keep.append(n)
            need.update(i for i in n.input if i)
    return list(reversed(keep))


def _batch_from_encoder(node):
    """The exported K/V reshape takes the batch size from the decoder's hidden state (`encoder_attn/Shape`,
    then Gather index 0). Reading it from `encoder_hidden_states` gives the same number and lets the K/V
    projections be cut out of the decoder without dragging the whole first step along."""
    import onnx
    if node.op_type == "Shape" and node.name.endswith("/encoder_attn/Shape"):
        node = onnx.NodeProto.FromString(node.SerializeToString())
        node.input[0] = "encoder_hidden_states"
    return node


def _make_model(src_model, nodes, inputs, outputs, consts: dict[str, np.ndarray], name: str, extra_inits=()):
    import onnx
    from onnx import helper, numpy_helper
    used = _used_names(nodes)
    inits = [numpy_helper.from_array(np.asarray(v, order="C"), k) for k, v in consts.items() if k in used]
    inits += [t for t in extra_inits if t.name in used]
    g = helper.make_graph(list(nodes), name, list(inputs), list(outputs), initializer=inits)
    opsets = [o for o in src_model.opset_import if o.domain in ("", "com.microsoft")]
    m = helper.make_model(g, opset_imports=opsets, producer_name="scribe.asr.convert")
    m.ir_version = src_model.ir_version
    return m


def _encoder(src: Path, dst: Path, tmp: Path) -> None:
    import onnx
    raw = tmp / "encoder_raw.onnx"
    _ort_to_onnx(src, raw)
    m = onnx.load(str(raw))
    consts = _fold_constants(m.graph)
    nodes = [n for n in m.graph.node if n.output[0] not in consts]
    out = _make_model(m, nodes, m.graph.input, m.graph.output, consts, "moonshine_encoder")
    onnx.save(out, str(dst))


def _decoder(src: Path, step_dst: Path, cross_dst: Path, tmp: Path, adapter: dict | None = None) -> None:
    import onnx
    raw = tmp / "decoder_raw.onnx"
    _ort_to_onnx(src, raw)
    m = onnx.load(str(raw))
    consts = _fold_constants(m.graph)
    if_node = next(n for n in m.graph.node if n.op_type == "If")
    branches = {a.name: a.g for a in if_node.attribute}
    then_g, else_g = branches["then_branch"], branches["else_branch"]
    inputs = {i.name: i for i in m.graph.input}
    outputs = {o.name: o for o in m.graph.output}

    # decoder_step: the cached path; its present.*.encoder.* outputs are empty dummies, so drop them.
    step_out = [outputs[o.name] for o in then_g.output if ".encoder." not in o.name]
    used = _used_names(then_g.node)
    step_in = [inputs[n] for n in inputs if n in used]
    dummies = {t.name for t in then_g.initializer}
    step = _make_model(m, then_g.node, step_in, step_out, consts, "moonshine_decoder_step",
                       extra_inits=[t for t in then_g.initializer if t.name not in dummies])

    # cross_kv: the first-step graph pruned to the encoder K/V projections.
    kv_names = [o.name for o in else_g.output if ".encoder." in o.name]
    nodes = [_batch_from_encoder(n) for n in else_g.node]
    nodes = _prune(nodes, kv_names)
    used = _used_names(nodes)
    cross_in = [inputs[n] for n in inputs if n in used]
    cross = _make_model(m, nodes, cross_in, [outputs[n] for n in kv_names], consts, "moonshine_cross_kv",
                        extra_inits=list(else_g.initializer))
    step, cross = _hoist_cross_key_transpose(step, cross, tmp)
    if adapter is not None:
        from .adapter import merge
        n = merge({"decoder_step": step, "cross_kv": cross}, adapter)
        log.info("merged an adapter into %d decoder weights", n)
    onnx.save(step, str(step_dst))
    onnx.save(cross, str(cross_dst))


def _hoist_cross_key_transpose(step, cross, tmp: Path):
    """Move the per-step `Transpose(K_enc) * scale` of every cross-attention layer into cross_kv.

    The exported step graph transposes and rescales the cached encoder keys on every token although they never
    change (~40 % of a batched step in the ORT profile). The scale is a runtime Sqrt of a shape; we read its exact
    float32 value by running the graph once, so the hoisted product is bit-identical to the per-step one.
    """
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    consumers: dict[str, list] = {}
    for n in step.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    plan = []   # (layer key name, transpose node, mul node, scale tensor name)
    for inp in step.graph.input:
        if not (inp.name.startswith("past_key_values.") and inp.name.endswith(".encoder.key")):
            continue
        users = consumers.get(inp.name, [])
        if len(users) != 1 or users[0].op_type != "Transpose":
            return step, cross  # unexpected export: keep the graphs as they are
        tr = users[0]
        muls = consumers.get(tr.output[0], [])
        if len(muls) != 1 or muls[0].op_type != "Mul":
            return step, cross
        plan.append((inp.name, tr, muls[0], muls[0].input[1]))
    if not plan:
        return step, cross
    # read the scales
    probe = onnx.ModelProto.FromString(step.SerializeToString())
    for _, _, _, sname in plan:
        probe.graph.output.append(helper.make_tensor_value_info(sname, TensorProto.FLOAT, None))
    probe_path = tmp / "probe.onnx"
    onnx.save(probe, str(probe_path))
    sess = ort.InferenceSession(str(probe_path), providers=["CPUExecutionProvider"])
    feed = {}
    for i in sess.get_inputs():
        if i.name == "input_ids":
            feed[i.name] = np.ones((1, 1), np.int64)
        else:
            feed[i.name] = np.zeros((1, 8, 0 if ".decoder." in i.name else 4, 52), np.float32)
    names = [sname for _, _, _, sname in plan]
    scales = dict(zip(names, sess.run(names, feed)))
    del sess
    probe_path.unlink()

    drop = {id(tr) for _, tr, _, _ in plan} | {id(mul) for _, _, mul, _ in plan}
    rename = {mul.output[0]: key + "_t" for key, _, mul, _ in plan}
    nodes = []
    for n in step.graph.node:
        if id(n) in drop:
            continue
        n2 = onnx.NodeProto.FromString(n.SerializeToString())
        for j, i in enumerate(n2.input):
            if i in rename:
                n2.input[j] = rename[i]
        nodes.append(n2)
    outputs = [o.name for o in step.graph.output]
    nodes = _prune(nodes, outputs)
    used = _used_names(nodes)
    inputs = [i for i in step.graph.input if i.name in used]
    for key, _, _, _ in plan:
        inputs.append(helper.make_tensor_value_info(key + "_t", TensorProto.FLOAT,
                                                    ["batch_size", 8, 52, "encoder_sequence_length_out"]))
    g = step.graph
    del g.node[:]
    g.node.extend(nodes)
    del g.input[:]
    g.input.extend(inputs)
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)

    cg = cross.graph
    outs = []
    for o in cg.output:
        key = "past_key_values." + o.name[len("present."):]
        match = next((x for x in plan if x[0] == key), None)
        if match is None:
            outs.append(o)
            continue
        _, tr, mul, sname = match
        cname = o.name + "_scale"
        cg.initializer.append(numpy_helper.from_array(np.asarray(scales[sname], np.float32), cname))
        cg.node.append(helper.make_node("Transpose", [o.name], [o.name + "_tr"], perm=[0, 1, 3, 2]))
        cg.node.append(helper.make_node("Mul", [o.name + "_tr", cname], [o.name + "_t"]))
        outs.append(helper.make_tensor_value_info(o.name + "_t", TensorProto.FLOAT,
                                                  ["batch_size", 8, 52, "encoder_sequence_length_out"]))
    del cg.output[:]
    cg.output.extend(outs)
    return step, cross


def _read_adapter(source: Manifest) -> dict | None:
    """The model's LoRA adapter (verified with the source files), to be folded into the derived decoder graphs."""
    if not source.get("adapter"):
        return None
    try:
        with np.load(source.path(source.get("adapter")), allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise ModelError(f"model {source.name!r}: cannot read its adapter ({e.__class__.__name__})") from None


def derive(source: Manifest, cache_root: Path, home: Path | None = None) -> Manifest:
    """Return the verified derived model for `source` (already verified), building it if missing or stale.
    With `home`, the derived files must also match this install's seal (modelstore.seal_derived): a graph
    rewritten with its manifest rehashed is rebuilt from the verified source, never loaded."""
    name = f"{source.name}-fast"
    src_hashes = {f.path: f.sha256 for f in source.files}
    try:
        m = load_manifest(cache_root, name)
    except ModelError:
        m = None  # not built yet
    if m is not None:
        if m.get("source_sha256") == src_hashes and m.get("format") == FORMAT_VERSION:
            try:
                got = verify_model(cache_root, name)
                sealed = derived_sealed(got, home) if home is not None else True
                if sealed is None:
                    seal_derived(got, home)      # first use by this install: its hashes and sources just matched
                elif not sealed:
                    raise ModelError(f"derived model {name}: changed since this install derived it")
                return got
            except ModelError as e:
                # Self-heal: the sources were just verified, so rebuilding restores a trusted copy; never load it.
                bad = next((f.path for f in m.files if f.path in str(e)), "a file")
                log.warning("derived model %s failed verification (%s); rebuilding from the verified source",
                            name, bad)
        else:
            log.info("derived model %s is stale; rebuilding", name)
    out = cache_root / name
    t0 = time.perf_counter()
    try:
        import onnx  # noqa: F401  (needed only here)
    except ImportError:
        raise ModelError("the 'onnx' package is needed once to prepare the ASR model (pip install onnx)") from None
    cache_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_root))
    try:
        _encoder(source.path(source.get("encoder", "encoder_model.ort")), work / "encoder.onnx", work)
        _decoder(source.path(source.get("decoder", "decoder_model_merged.ort")), work / "decoder_step.onnx",
                 work / "cross_kv.onnx", work, _read_adapter(source))
        for f in work.glob("*_raw.onnx"):
            f.unlink()
        write_manifest(work, name, "asr-derived", list(DERIVED_FILES), format=FORMAT_VERSION,
                       description=f"float32 graphs derived from {source.name} by scribe.asr.convert",
                       source_model=source.name, source_sha256=src_hashes, license=source.get("license"))
        if out.exists():
            shutil.rmtree(out)
        os.replace(work, out)
    except OSError as e:
        raise ModelError(f"cannot write derived ASR model under {cache_root}: {e.strerror}") from None
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    log.info("derived %s in %.1f s", name, time.perf_counter() - t0)
    got = verify_model(cache_root, name)
    if home is not None:
        seal_derived(got, home)
    return got


def derived_status(source: Manifest, home: Path) -> str:
    """For `models --verify`: the derived graphs' hashes and this install's seal. Raises ModelError if altered."""
    name = f"{source.name}-fast"
    for root in (source.root / ".cache", Path(home) / "cache" / "models"):
        if (root / name / "manifest.json").exists():
            got = verify_model(root, name)
            sealed = derived_sealed(got, home)
            if sealed is False:
                raise ModelError(f"derived model {name}: changed since this install derived it (graphs rewritten "
                                 "and rehashed?); delete the folder to rebuild it from the verified source")
            if sealed is None:
                seal_derived(got, home)
            return "derived verified" + ("" if sealed else " (first use: sealed now)")
    return "derived not built yet"
