"""The IR, the registry and the verifier on hand-built graphs (fast tier)."""

from __future__ import annotations

import numpy as np
import pytest

from mcuforge.ir.graph import Graph, Op, QuantParams, Tensor
from mcuforge.ir.verify import GraphError, verify
from mcuforge.ops import REGISTRY
from mcuforge.ops.common import same_pads, window_out_size
from mcuforge.reference import run

EXPECTED_KINDS = {
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL", "AVERAGE_POOL_2D",
    "MAX_POOL_2D", "MEAN", "CLAMP", "LEAKY_RELU", "PRELU", "LOGISTIC", "TANH", "HARD_SWISH",
    "SOFTMAX", "RESHAPE", "CONCATENATION", "PAD", "TRANSPOSE", "BATCH_NORM", "QUANTIZE", "DEQUANTIZE",
}


def small_conv_graph() -> Graph:
    g = Graph()
    g.add_tensor(Tensor("x", (1, 5, 5, 2), "float32"))
    rng = np.random.default_rng(0)
    w = g.add_const("w", rng.standard_normal((3, 3, 3, 2)).astype(np.float32))
    b = g.add_const("b", rng.standard_normal(3).astype(np.float32))
    g.add_tensor(Tensor("y", (1, 3, 3, 3), "float32"))
    g.add_op(Op("CONV_2D", "conv", ["x", w, b], ["y"], {
        "strides": (2, 2), "dilations": (1, 1), "pads": (1, 1, 1, 1), "activation": "NONE"}))
    g.inputs, g.outputs = ["x"], ["y"]
    return g


def test_registry_has_every_day_one_op() -> None:
    assert set(REGISTRY) >= EXPECTED_KINDS


def test_conv_reference_matches_direct_loops() -> None:
    g = small_conv_graph()
    verify(g)
    x = np.random.default_rng(1).standard_normal((1, 5, 5, 2)).astype(np.float32)
    y = run(g, {"x": x})["y"]
    w, b = g.tensors["w"].data, g.tensors["b"].data
    assert w is not None and b is not None
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    expect = np.zeros((1, 3, 3, 3), np.float64)
    for oy in range(3):
        for ox in range(3):
            for o in range(3):
                patch = xp[0, oy * 2:oy * 2 + 3, ox * 2:ox * 2 + 3, :]
                expect[0, oy, ox, o] = np.sum(patch * w[o]) + b[o]
    np.testing.assert_allclose(y, expect, rtol=1e-5, atol=1e-5)


def test_verifier_catches_wrong_declared_shape() -> None:
    g = small_conv_graph()
    g.tensors["y"].shape = (1, 4, 4, 3)
    with pytest.raises(GraphError, match="declared"):
        verify(g)


def test_verifier_catches_use_before_definition() -> None:
    g = small_conv_graph()
    g.add_tensor(Tensor("z", (1, 3, 3, 3), "float32"))
    g.ops.insert(0, Op("CLAMP", "relu", ["y"], ["z"], {"min": 0.0, "max": np.inf}))
    with pytest.raises(GraphError, match="not defined before use"):
        verify(g)


def test_verifier_catches_missing_attribute() -> None:
    g = small_conv_graph()
    del g.ops[0].attrs["strides"]
    with pytest.raises(GraphError, match="missing attributes"):
        verify(g)


@pytest.mark.parametrize(("size", "k", "s", "d"), [(8, 3, 2, 1), (7, 3, 2, 1), (49, 10, 2, 1), (9, 3, 1, 2)])
def test_same_pads_give_ceil_output(size: int, k: int, s: int, d: int) -> None:
    lo, hi = same_pads(size, k, s, d)
    assert hi - lo in (0, 1)
    assert window_out_size(size, k, s, d, lo, hi) == -(-size // s)


def test_quant_params_broadcast_shape() -> None:
    q = QuantParams(np.array([0.1, 0.2, 0.3]), 0, axis=0)
    assert q.per_channel and q.zero_point.tolist() == [0, 0, 0]
    assert q.broadcast_shape(4) == (3, 1, 1, 1)
