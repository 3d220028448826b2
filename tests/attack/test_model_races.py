"""Model verification must not be raceable: what loads is exactly what was hashed, the verification cache is not
fooled by a same-size edit with the mtime restored, and derived files rewritten with a rehashed manifest fail."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from scribe import modelstore
from scribe.errors import ModelError

GOOD, EVIL = b"G" * 200_000, b"E" * 200_000


def _model(root: Path, kind: str = "asr") -> Path:
    d = root / "m"
    d.mkdir(parents=True)
    (d / "model.onnx").write_bytes(GOOD)
    modelstore.write_manifest(d, "m", kind, ["model.onnx"])
    return d


def test_same_size_edit_with_mtime_restored_is_caught(tmp_path):
    d = _model(tmp_path)
    modelstore.verify_model(tmp_path, "m")
    f = d / "model.onnx"
    st = f.stat()
    with open(f, "r+b") as fh:        # same size, in place
        fh.write(b"E")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert f.stat().st_mtime_ns == st.st_mtime_ns and f.stat().st_size == st.st_size
    with pytest.raises(ModelError, match="sha256 mismatch"):
        modelstore.verify_model(tmp_path, "m")


def _swapper(d: Path, stop: threading.Event) -> None:
    evil, good = d / ".evil", d / ".good"
    evil.write_bytes(EVIL)
    good.write_bytes(GOOD)
    while not stop.is_set():     # rename swaps: the file at the path alternates between the two contents
        os.link(evil, d / ".tmp")
        os.replace(d / ".tmp", d / "model.onnx")
        os.link(good, d / ".tmp")
        os.replace(d / ".tmp", d / "model.onnx")


@pytest.mark.parametrize("how", ["bytes", "snapshot"])
def test_loaded_bytes_are_the_verified_bytes_under_a_swapping_attacker(tmp_path, how):
    d = _model(tmp_path)
    m = modelstore.load_manifest(tmp_path, "m")
    stop = threading.Event()
    t = threading.Thread(target=_swapper, args=(d, stop))
    t.start()
    loaded, refused = 0, 0
    try:
        for i in range(200):
            try:
                if how == "bytes":
                    data = modelstore.read_verified(m, "model.onnx")
                else:
                    data = (modelstore.verified_snapshot(m, tmp_path / f"snap{i}") / "model.onnx").read_bytes()
            except ModelError:
                refused += 1
                continue
            assert data == GOOD       # never the swapped-in file
            loaded += 1
    finally:
        stop.set()
        t.join()
    assert refused > 0 and loaded > 0, (loaded, refused)   # the race really happened, and was harmless


def test_derived_files_rewritten_and_rehashed_are_refused(tmp_path):
    home = tmp_path / "home"
    d = _model(tmp_path, "asr-derived")
    m = modelstore.load_manifest(tmp_path, "m")
    assert modelstore.derived_sealed(m, home) is None          # never seen by this install
    modelstore.seal_derived(m, home)
    assert modelstore.derived_sealed(modelstore.load_manifest(tmp_path, "m"), home) is True
    (d / "model.onnx").write_bytes(EVIL)                         # the attacker rewrites a graph …
    modelstore.write_manifest(d, "m", "asr-derived", ["model.onnx"])   # … and rehashes the app-written manifest
    m2 = modelstore.verify_model(tmp_path, "m")                  # hashes agree with the forged manifest
    assert modelstore.derived_sealed(m2, home) is False          # but not with this install's seal
    assert (home / "keys" / "models.key").stat().st_mode & 0o077 == 0


def test_derive_never_returns_rehashed_graphs(tmp_path, monkeypatch):
    """convert.derive: a sealed-then-rewritten derived model goes to the rebuild path, never to the caller."""
    from scribe.asr import convert
    home = tmp_path / "home"
    src_root = tmp_path / "src"
    _model(src_root)
    source = modelstore.load_manifest(src_root, "m")
    cache = tmp_path / "cache"
    (cache / "m-fast").mkdir(parents=True)
    (cache / "m-fast" / "model.onnx").write_bytes(GOOD)
    extra = dict(format=convert.FORMAT_VERSION, source_sha256={f.path: f.sha256 for f in source.files})
    modelstore.write_manifest(cache / "m-fast", "m-fast", "asr-derived", ["model.onnx"], **extra)
    assert convert.derive(source, cache, home).root == cache / "m-fast"     # first use: accepted and sealed
    (cache / "m-fast" / "model.onnx").write_bytes(EVIL)
    modelstore.write_manifest(cache / "m-fast", "m-fast", "asr-derived", ["model.onnx"], **extra)
    rebuilt = []
    monkeypatch.setattr(convert, "_encoder", lambda *a: rebuilt.append(a) or (_ for _ in ()).throw(OSError(28, "x")))
    with pytest.raises(ModelError, match="cannot write derived"):
        convert.derive(source, cache, home)
    assert rebuilt                                                            # it went to rebuild from the source


def test_unparseable_derived_graph_is_one_line(tmp_path):
    """A derived graph that matches its (sealed) manifest but does not parse: ModelError, not a traceback."""
    import shutil
    from scribe.asr.moonshine import MoonshineModel
    src = Path(__file__).resolve().parents[2] / "models" / "moonshine-base-en"
    if not (src / "encoder_model.ort").exists():
        pytest.skip("moonshine weights not assembled")
    dst = tmp_path / "models" / "moonshine-base-en"
    dst.mkdir(parents=True)
    for f in ("manifest.json", "encoder_model.ort", "decoder_model_merged.ort", "tokenizer.bin"):
        shutil.copyfile(src / f, dst / f)
    home = tmp_path / "home"
    cache = dst / ".cache" / "moonshine-base-en-fast"
    cache.mkdir(parents=True)
    for f in ("encoder.onnx", "cross_kv.onnx", "decoder_step.onnx"):
        (cache / f).write_bytes(b"not an onnx graph " * 10)
    m = modelstore.load_manifest(tmp_path / "models", "moonshine-base-en")
    from scribe.asr import convert
    modelstore.write_manifest(cache, "moonshine-base-en-fast", "asr-derived", list(convert.DERIVED_FILES),
                              format=convert.FORMAT_VERSION, source_sha256={f.path: f.sha256 for f in m.files})
    modelstore.seal_derived(modelstore.load_manifest(dst / ".cache", "moonshine-base-en-fast"), home)
    with pytest.raises(ModelError, match="derived graph cannot be loaded") as ei:
        MoonshineModel(tmp_path / "models", "moonshine-base-en", threads=1, provider="cpu", home=home)
    assert "\n" not in ei.value.one_line()
