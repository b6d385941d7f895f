"""Sparse storage of pruned int8 weights (mcuforge.compress.sparse, the mf_*_sparse_s8 kernels):
the per-layer bytes decision, the notes that say when a layer stays dense, and compiled C
bit-exact with the integer reference while the weights flash shrinks. The fast tests prune the
quantized ONNX digits example in the IR; the slow one prunes the Keras digits CNN of
tests/test_compress.py at 70, 80 and 90%."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from mcuforge.cli import main
from mcuforge.compile import CompileOptions
from mcuforge.compress.sparse import sparse_weights, summary
from mcuforge.errors import MfError
from mcuforge.importers import load_model
from mcuforge.importers.ir_file import save_ir
from mcuforge.ir.graph import Graph
from mcuforge.ops import packed_weights as pw
from mcuforge.quantize import quantize
from mcuforge.runner import run_model

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "compiler" / "mcuforge" / "examples" / "digits_cnn.onnx"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).astype(np.float32)[:, None], d.target


@pytest.fixture(scope="module")
def int_graph() -> Graph:
    x, _ = digits()
    g, _ = quantize(load_model(EXAMPLE), x[:50])
    return g


def pruned(graph: Graph, sparsity: float) -> Graph:
    """Zero the smallest-magnitude int8 weights of every conv and dense layer."""
    import copy

    g = copy.deepcopy(graph)
    for op in g.ops:
        if op.kind in ("CONV_2D", "FULLY_CONNECTED"):
            t = g.tensors[op.inputs[1]]
            assert t.data is not None
            flat = t.data.reshape(-1).copy()
            flat[np.argsort(np.abs(flat.astype(np.int16)), kind="stable")[:int(sparsity * flat.size)]] = 0
            t.data = flat.reshape(t.data.shape)
    return g


def test_sparse_only_where_it_saves_bytes(int_graph: Graph) -> None:
    dense, notes = sparse_weights(int_graph)
    assert notes and all(n.format == "dense" for n in notes if n.sparse_bytes is not None)
    assert not any(op.attrs.get("weight_encoding") for op in dense.ops)
    g, notes = sparse_weights(pruned(int_graph, 0.8))
    for n in notes:
        op = next(o for o in g.ops if o.name == n.op)
        w = g.tensors[op.inputs[1]].data
        assert n.sparse_bytes == pw.sparse_bytes(w) and n.dense_bytes == w.size
        assert (op.attrs.get("weight_encoding") == "sparse") == (n.sparse_bytes < n.dense_bytes)
        assert ("sparse format used" if n.format == "sparse" else "kept dense") in n.line()
    assert "sparse" in summary(notes) and "-" in summary(notes)
    assert not any(op.attrs.get("weight_encoding") for op in int_graph.ops)  # input untouched


@pytest.mark.cbuild
@pytest.mark.slow
@pytest.mark.parametrize("sparsity", [0.7, 0.9])
def test_sparse_digits_is_bit_exact_and_smaller(int_graph: Graph, tmp_path: Path, sparsity: float) -> None:
    x, _ = digits()
    path = save_ir(pruned(int_graph, sparsity), tmp_path / "pruned.mfir")
    dense = run_model(path, x[1400:1420], CompileOptions(), out_dir=tmp_path / "dense")
    sparse = run_model(path, x[1400:1420], CompileOptions(sparse=True), out_dir=tmp_path / "sparse")
    assert sparse.mismatches == {} and dense.mismatches == {}
    np.testing.assert_array_equal(sparse.raw["probs"], dense.raw["probs"])
    rep = sparse.compiled.report
    saved = sum(n["dense_bytes"] - n["sparse_bytes"] for n in rep["sparse"] if n["format"] == "sparse")
    assert rep["weights_bytes"] == dense.compiled.report["weights_bytes"] - saved > 0
    kernels = {op["kernel"] for op in rep["ops"]}
    assert {"mf_convolve_sparse_s8", "mf_fully_connected_sparse_s8"} <= kernels
    assert "mf_sparse_filter" in (tmp_path / "sparse" / f"{sparse.compiled.name}.c").read_text()


def test_cli_compile_sparse_and_compress_refuses_int8_models(int_graph: Graph, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture) -> None:
    path = save_ir(pruned(int_graph, 0.12), tmp_path / "light.mfir")
    assert main(["compile", str(path), "--sparse", "-o", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "kept dense" in out
    rep = json.loads((tmp_path / "c" / "report.json").read_text())
    assert {n["format"] for n in rep["sparse"]} == {"dense"}  # 12% zeros: the bitmap costs more
    assert main(["compress", str(path), "--eval", "x.npy", "y.npy", "-o", str(tmp_path / "m.keras")]) == 2
    assert "compress takes a Keras model" in capsys.readouterr().err
    from mcuforge.compress.cli import check_keras_model

    with pytest.raises(MfError, match=r"--int4 \| --cluster K \| --sparse"):
        check_keras_model("model.tflite")


@pytest.mark.cbuild
@pytest.mark.slow
def test_pruned_keras_digits_cnn_sparse(tmp_path: Path) -> None:
    """The digits CNN of tests/test_compress.py, magnitude-pruned at 70/80/90%: every layer
    goes sparse, the weights flash falls with sparsity, and the C stays bit-exact."""
    import keras
    from test_compress import cnn, fit

    from mcuforge.compress import prune
    from mcuforge.compress.measure import save

    x, y = digits()
    x = x.transpose(0, 2, 3, 1)
    keras.utils.set_random_seed(0)
    model = fit(cnn(), {"x": x[:1400], "y": y[:1400]}, 5)
    flash = {}
    for s in (0.7, 0.8, 0.9):
        m = keras.models.clone_model(model)
        m.set_weights(model.get_weights())
        prune.apply_masks(m, prune.magnitude_masks(m, s))
        path = save(m, tmp_path / f"p{s}.keras")
        opts = CompileOptions(calib=x[:100], sparse=True)
        r = run_model(path, x[1400:1420], opts, out_dir=tmp_path / f"c{s}")
        assert r.mismatches == {}
        notes = r.compiled.report["sparse"]
        assert all(n["format"] == "sparse" for n in notes), [n["note"] for n in notes]
        flash[s] = r.compiled.report["weights_bytes"]
    assert flash[0.7] > flash[0.8] > flash[0.9]


@pytest.mark.cbuild
@pytest.mark.slow
@pytest.mark.qemu
def test_sparse_digits_bit_exact_on_mps2_an386(int_graph: Graph, tmp_path: Path) -> None:
    import shutil

    if not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")):
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc not installed")
    from mcuforge.runner import run_on_board

    x, _ = digits()
    path = save_ir(pruned(int_graph, 0.8), tmp_path / "pruned.mfir")
    result = run_on_board(path, x[1400:1405], "mps2-an386", CompileOptions(sparse=True),
                          out_dir=tmp_path / "fw")
    assert result.mismatches == {} and result.samples == 5
    kernels = {op["kernel"] for op in result.compiled.report["ops"]}
    assert {"mf_convolve_sparse_s8", "mf_fully_connected_sparse_s8"} <= kernels
