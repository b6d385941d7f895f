"""Shape arithmetic folds at ONNX import: Shape/Size of static tensors become constants, and what
is computed from them (Gather, Slice, Concat, Unsqueeze, Squeeze, ConstantOfShape, Range, Cast,
Expand, Equal/Where, Sqrt...) is evaluated by onnx's reference evaluator. A free batch axis is 1."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch_shape_models as zoo
from onnx_models import node, rand, save
from test_import_onnx import compare

from mcuforge.compile import CompileOptions
from mcuforge.runner import run_model

SHAPE_KINDS = {"SHAPE", "GATHER", "STRIDED_SLICE", "CONCATENATION", "PACK", "CAST", "FILL", "RANGE"}


def sqnr_db(ref: np.ndarray, got: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum((ref - got) ** 2), 1e-30)))


def test_size_range_where_expand_fold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """x * Where(Range(Size(x)) == 0, ...) / Sqrt(Cast(Size)) + Expand(ConstantOfShape(Shape(x)))."""
    nodes = [
        node("Size", ["x"], ["n"]),
        node("Cast", ["n"], ["nf"], to=1),
        node("Sqrt", ["nf"], ["root"]),
        node("Div", ["x", "root"], ["scaled"]),
        node("Shape", ["x"], ["shp"]),
        node("Gather", ["shp", "last"], ["d"], axis=0),
        node("Range", ["zero", "d", "one"], ["idx"]),
        node("Equal", ["idx", "zero"], ["first"]),
        node("Where", ["first", "half", "two"], ["w"]),
        node("Mul", ["scaled", "w"], ["m"]),
        node("ConstantOfShape", ["shp"], ["zeros"]),
        node("Slice", ["shp", "one1", "two1"], ["mid"]),
        node("Concat", ["one1", "mid", "one1"], ["eshape"], axis=0),
        node("Expand", ["quarter", "eshape"], ["e"]),
        node("Add", ["zeros", "e"], ["ze"]),
        node("Add", ["m", "ze"], ["y"]),
    ]
    inits = {"last": np.array(2, np.int64), "zero": np.array(0, np.int64), "one": np.array(1, np.int64),
             "half": np.array(0.5, np.float32), "two": np.array(2.0, np.float32),
             "one1": np.array([1], np.int64), "two1": np.array([2], np.int64),
             "quarter": np.array([0.25], np.float32)}
    path = save(tmp_path, nodes, {"x": ["batch", 3, 5]}, ["y"], inits)
    graph = compare(path, {"x": rand(1, 3, 5, scale=1)})
    assert {op.kind for op in graph.ops} <= {"MUL", "ADD"}
    assert "free batch dimension ('batch')" in capsys.readouterr().err


def _export(tmp_path: Path, name: str, shape: tuple[int, ...], dynamic: bool) -> Path:
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zoo.export(name, shape, dynamic, path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("name", "shape", "dynamic"), zoo.cases())
def test_torch_shape_arithmetic_folds(tmp_path: Path, name: str, shape: tuple[int, ...],
                                      dynamic: bool) -> None:
    pytest.importorskip("torch")
    path = _export(tmp_path, name, shape, dynamic)
    rng = np.random.default_rng(3)
    graph = compare(path, {"x": rng.standard_normal((1, *shape)).astype(np.float32)})
    assert not {op.kind for op in graph.ops} & SHAPE_KINDS
    assert graph.tensors[graph.inputs[0]].shape[0] == 1


@pytest.mark.slow
@pytest.mark.parametrize("name", ["view_batch", "size_arith", "scaled"])
def test_torch_dynamic_batch_runs_close_to_onnxruntime(tmp_path: Path, name: str) -> None:
    """Exported with a dynamic batch axis, compiled for batch 1 from calibration data, built on
    the host (bit-exact with the integer reference) and within 30 dB SQNR of onnxruntime."""
    pytest.importorskip("torch")
    shape = zoo.MODELS[name][1][0]
    path = _export(tmp_path, name, shape, True)
    rng = np.random.default_rng(5)
    calib = rng.standard_normal((64, *shape)).astype(np.float32)
    x = rng.standard_normal((8, 1, *shape)).astype(np.float32)
    result = run_model(path, x[:, 0], CompileOptions(calib=calib))
    assert not result.mismatches
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ref = np.concatenate([session.run(None, {"x": s})[0] for s in x])
    got = next(iter(result.outputs.values())).reshape(ref.shape)
    assert sqnr_db(ref, got) >= 30
