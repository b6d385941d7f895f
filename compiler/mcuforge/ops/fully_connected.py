"""FULLY_CONNECTED: y[..., o] = sum_i x[..., i] * w[o, i] + b[o]; weights (O, I). attrs: activation."""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import apply_activation, exact_dot
from mcuforge.ops.conv_2d import requantize_channels
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def fc_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x, w = ins[0], ins[1]
    assert x is not None and w is not None
    return [(*x[:-1], w[0])]


def fc_float(ctx: Ctx, xs: Arrays) -> Arrays:
    y = xs[0] @ xs[1].T
    if len(xs) > 2 and xs[2] is not None:
        y = y + xs[2]
    return [apply_activation(y.astype(np.float32), ctx.op.attrs["activation"])]


def fc_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLM's FullyConnected (per tensor or per channel): sums of (x - x_zp) * (w - w_zp)."""
    w_t = ctx.ins[1]
    assert w_t is not None and w_t.quant is not None
    _, x_zp = ctx.in_quant(0)
    w_zp = w_t.quant.zero_point.reshape(-1, 1)  # zero for per-channel weights
    x = xs[0].astype(np.int64) - x_zp
    w = xs[1].astype(np.int64) - w_zp
    acc = exact_dot(x, w, axes=([x.ndim - 1], [1]))
    return [requantize_channels(ctx, acc, xs[2] if len(xs) > 2 else None)]


def fc_macs(op: Op, ins: list[Shape | None], outs: list[Shape]) -> int:
    w = ins[1]
    assert w is not None
    return int(np.prod(outs[0])) * w[1]


FULLY_CONNECTED = register(OpDef(
    kind="FULLY_CONNECTED", shape=fc_shape, ref_float=fc_float, ref_int=fc_int, macs=fc_macs,
    num_inputs=(2, 3), attrs=("activation",), weight_axes={1: 0}, bias_input=2,
    int16=True, doc="dense layer over the last axis",
    fused_activation=True, folds_batch_norm=True, weight_formats=frozenset({"int4", "cb4", "sparse", "b1"}),
))
