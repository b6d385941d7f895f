"""How main's op traits treat the spatial ops: BATCH_NORM folds into a grouped CONV_2D (the
folding scales OHWI weights along O, which groups do not change), while a grouped CONV_2D and a
TRANSPOSE_CONV keep int8 weights under --weights int4/cb4 and sparse storage (no packed kernel
for either), with a note saying so; the binding refuses packed weights on a grouped CONV_2D;
a Relu after a TRANSPOSE_CONV fuses into it (fused_activation)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnx_models import node, rand, save

from mcuforge.compress.encode import encode_weights
from mcuforge.compress.sparse import sparse_weights
from mcuforge.importers import load_model
from mcuforge.ir.graph import Graph
from mcuforge.ir.layout import from_ir_layout, to_ir_layout
from mcuforge.kernel_params import kernel_call
from mcuforge.ops.batch_norm import BATCH_NORM
from mcuforge.ops.clamp import CLAMP
from mcuforge.ops.conv_2d import CONV_2D, is_grouped
from mcuforge.ops.registry import Ctx
from mcuforge.ops.transpose_conv import TRANSPOSE_CONV
from mcuforge.passes import optimize
from mcuforge.quantize import quantize
from mcuforge.reference import run

SHAPE = [1, 4, 6, 5]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(3)
    inits = {"w": rand(6, 2, 3, 3, rng=rng), "b": rand(6, rng=rng), "s": rand(6, rng=rng) + 1.0,
             "beta": rand(6, rng=rng), "mean": rand(6, rng=rng),
             "var": np.abs(rand(6, rng=rng)) + 0.5, "wt": rand(6, 3, 3, 3, rng=rng)}
    nodes = [node("Conv", ["x", "w", "b"], ["c"], group=2, pads=[1, 1, 1, 1]),
             node("BatchNormalization", ["c", "s", "beta", "mean", "var"], ["n"]),
             node("ConvTranspose", ["n", "wt"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1])]
    return save(tmp_path_factory.mktemp("spatial_traits"), nodes, {"x": SHAPE}, ["y"], inits)


def test_batch_norm_folds_into_grouped_conv(model: Path) -> None:
    graph = optimize(load_model(model))
    assert BATCH_NORM.kind not in [op.kind for op in graph.ops]
    conv = next(op for op in graph.ops if op.kind == CONV_2D.kind)
    assert is_grouped(graph, conv)
    x = rand(*SHAPE, scale=1.0)
    (want,) = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).run(["y"], {"x": x})
    got = from_ir_layout(graph, "y", run(graph, {"x": to_ir_layout(graph, "x", x)})["y"])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.fixture(scope="module")
def int_graph(model: Path) -> Graph:
    calib = np.random.default_rng(5).standard_normal((16, *SHAPE[1:])).astype(np.float32)
    g, _ = quantize(load_model(model), calib)
    return g


@pytest.mark.parametrize("encoding", ["int4", "cb4"])
def test_no_4bit_grouped_or_transpose_weights(int_graph: Graph, encoding: str) -> None:
    g, notes = encode_weights(int_graph, encoding)
    assert all("weight_encoding" not in op.attrs for op in g.ops)
    reasons = {n.kind: n.reason for n in notes}
    assert reasons[CONV_2D.kind] == "no 4-bit grouped kernel"
    assert reasons[TRANSPOSE_CONV.kind] == "no 4-bit transpose kernel"


def test_no_sparse_grouped_or_transpose_weights(int_graph: Graph) -> None:
    g, notes = sparse_weights(int_graph)
    assert all("weight_encoding" not in op.attrs for op in g.ops)
    reasons = {n.kind: n.reason for n in notes}
    assert reasons[CONV_2D.kind] == "no sparse grouped kernel"
    assert reasons[TRANSPOSE_CONV.kind] == "no sparse transpose kernel"


def test_grouped_binding_refuses_packed_weights(int_graph: Graph) -> None:
    conv = next(op for op in int_graph.ops if op.kind == CONV_2D.kind)
    assert kernel_call(Ctx.of(int_graph, conv)).kernel == "mf_convolve_grouped_s8"
    conv.attrs["weight_encoding"] = "int4"
    try:
        with pytest.raises(ValueError, match="not supported for grouped convolution"):
            kernel_call(Ctx.of(int_graph, conv))
    finally:
        del conv.attrs["weight_encoding"]


def test_relu_fuses_into_transpose_conv(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    path = save(tmp_path, [node("ConvTranspose", ["x", "wt", "bt"], ["t"], strides=[2, 2]),
                           node("Relu", ["t"], ["y"])],
                {"x": SHAPE}, ["y"], {"wt": rand(4, 3, 3, 3, rng=rng), "bt": rand(3, rng=rng)})
    graph = optimize(load_model(path))
    convs = [op for op in graph.ops if op.kind == TRANSPOSE_CONV.kind]
    assert len(convs) == 1 and convs[0].attrs["activation"] == "RELU"
    assert CLAMP.kind not in [op.kind for op in graph.ops]
    x = rand(*SHAPE, scale=1.0)
    (want,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["y"], {"x": x})
    got = from_ir_layout(graph, "y", run(graph, {"x": to_ir_layout(graph, "x", x)})["y"])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
