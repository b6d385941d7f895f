"""Each optimization pass alone and the whole pipeline: float outputs unchanged within 1e-5,
and the graph actually got simpler."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from mcuforge.ir.graph import Graph, Op, Tensor
from mcuforge.ir.verify import verify
from mcuforge.passes import PIPELINE, optimize
from mcuforge.passes.dead_code import remove_dead_code
from mcuforge.passes.fold_batch_norm import fold_batch_norm
from mcuforge.passes.fold_constants import fold_constants
from mcuforge.passes.fold_pad import fold_pad
from mcuforge.passes.fold_transpose_fc import fold_transpose_into_fc
from mcuforge.passes.fuse_activation import fuse_activation
from mcuforge.passes.remove_identity import remove_identity
from mcuforge.reference import run

RNG = np.random.default_rng(7)
WIN = {"strides": (1, 1), "dilations": (1, 1), "pads": (1, 1, 1, 1), "activation": "NONE"}


class Builder:
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.g = Graph()
        self.g.add_tensor(Tensor("x", shape, "float32"))
        self.g.inputs = ["x"]
        self.cur = "x"

    def const(self, name: str, shape: tuple[int, ...], positive: bool = False) -> str:
        data = RNG.standard_normal(shape).astype(np.float32)
        return self.g.add_const(name, np.abs(data) + 0.5 if positive else data)

    def op(self, kind: str, extra: list[str], attrs: dict, out_shape: tuple[int, ...] | None = None) -> str:
        from mcuforge.ops.registry import infer_shapes

        name = self.g.unique_name(kind.lower())
        op = Op(kind, name, [self.cur, *extra], [name], attrs)
        shape = out_shape or infer_shapes(op, [self.g.tensors[n].shape for n in op.inputs])[0]
        self.g.add_tensor(Tensor(name, shape, "float32"))
        self.g.add_op(op)
        self.cur = name
        return name

    def done(self) -> Graph:
        self.g.outputs = [self.cur]
        verify(self.g)
        return self.g

    def bn(self, c: int) -> str:
        return self.op("BATCH_NORM", [self.const("s", (c,)), self.const("b", (c,)), self.const("m", (c,)),
                                      self.const("v", (c,), positive=True)], {"epsilon": 1e-3})


def conv_bn_relu6() -> Graph:
    b = Builder((1, 6, 6, 3))
    b.op("CONV_2D", [b.const("w", (4, 3, 3, 3)), b.const("bias", (4,))], dict(WIN))
    b.bn(4)
    b.op("CLAMP", [], {"min": 0.0, "max": 6.0})
    return b.done()


def dw_bn_relu() -> Graph:
    b = Builder((1, 5, 5, 3))
    b.op("DEPTHWISE_CONV_2D", [b.const("w", (1, 3, 3, 6))], {**WIN, "depth_multiplier": 2})
    b.bn(6)
    b.op("CLAMP", [], {"min": 0.0, "max": math.inf})
    return b.done()


def standalone_bn() -> Graph:
    b = Builder((1, 4, 4, 5))
    b.bn(5)
    return b.done()


def pad_then_conv() -> Graph:
    b = Builder((1, 5, 5, 2))
    b.op("PAD", [], {"pads": ((0, 0), (1, 2), (2, 1), (0, 0)), "value": 0.0})
    b.op("CONV_2D", [b.const("w", (3, 3, 3, 2))], {**WIN, "pads": (0, 0, 0, 0)})
    return b.done()


def nchw_flatten_fc() -> Graph:
    b = Builder((1, 3, 4, 5))
    b.op("TRANSPOSE", [], {"perm": (0, 3, 1, 2)})
    b.op("RESHAPE", [], {"shape": (1, 60)})
    b.op("FULLY_CONNECTED", [b.const("w", (7, 60)), b.const("bias", (7,))], {"activation": "NONE"})
    return b.done()


def identities_and_constants() -> Graph:
    b = Builder((1, 2, 3, 4))
    b.op("RESHAPE", [], {"shape": (1, 6, 4)})
    b.op("RESHAPE", [], {"shape": (1, 2, 3, 4)})
    b.op("TRANSPOSE", [], {"perm": (0, 1, 2, 3)})
    b.op("CLAMP", [], {"min": -math.inf, "max": math.inf})
    wt = b.g.add_const("w_t", RNG.standard_normal((4, 5)).astype(np.float32))
    b.g.add_tensor(Tensor("w", (5, 4), "float32"))
    b.g.add_op(Op("TRANSPOSE", "w_transpose", [wt], ["w"], {"perm": (1, 0)}))
    b.op("FULLY_CONNECTED", ["w"], {"activation": "NONE"})
    dead = b.g.add_tensor(Tensor("unused", (1, 2, 3, 5), "float32")).name
    b.g.add_op(Op("CLAMP", "dead", [b.cur], [dead], {"min": 0.0, "max": 1.0}))
    return b.done()


CASES = {
    "conv_bn_relu6": (conv_bn_relu6, [fold_batch_norm, fuse_activation], ["CONV_2D"]),
    "dw_bn_relu": (dw_bn_relu, [fold_batch_norm, fuse_activation], ["DEPTHWISE_CONV_2D"]),
    "standalone_bn": (standalone_bn, [fold_batch_norm], ["MUL", "ADD"]),
    "pad_then_conv": (pad_then_conv, [fold_pad], ["CONV_2D"]),
    "nchw_flatten_fc": (nchw_flatten_fc, [fold_transpose_into_fc], ["RESHAPE", "FULLY_CONNECTED"]),
    "identities": (identities_and_constants, [fold_constants, remove_identity, remove_dead_code],
                   ["FULLY_CONNECTED"]),
}


def outputs(g: Graph, x: np.ndarray) -> np.ndarray:
    return run(g, {"x": x})[g.outputs[0]]


@pytest.mark.parametrize("case", sorted(CASES))
def test_pass_preserves_outputs_and_simplifies(case: str) -> None:
    make, passes, kinds_after = CASES[case]
    g = make()
    x = RNG.standard_normal(g.tensors["x"].shape).astype(np.float32)
    expect = outputs(g, x)
    h = copy.deepcopy(g)
    for p in passes:
        h = p(h)
        verify(h)
    assert [op.kind for op in h.ops] == kinds_after
    np.testing.assert_allclose(outputs(h, x), expect, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", sorted(CASES))
def test_pipeline_reaches_same_result(case: str) -> None:
    make, _, kinds_after = CASES[case]
    g = make()
    x = RNG.standard_normal(g.tensors["x"].shape).astype(np.float32)
    h = optimize(g)
    assert [op.kind for op in h.ops] == kinds_after
    np.testing.assert_allclose(outputs(h, x), outputs(g, x), rtol=1e-5, atol=1e-5)


def test_fused_activation_names() -> None:
    h = optimize(conv_bn_relu6())
    assert h.ops[0].attrs["activation"] == "RELU6"
    assert optimize(dw_bn_relu()).ops[0].attrs["activation"] == "RELU"


def test_pipeline_lists_every_pass_once() -> None:
    assert len(PIPELINE) == len(set(PIPELINE)) == 10  # + depthwise_one_channel_as_conv (real models)
