"""DEPTHWISE_CONV_2D: NHWC input, weights (1, KH, KW, C*M), output channel c*M+m reads input c.

attrs: strides, dilations, pads, activation, depth_multiplier.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import apply_activation, patches, window_output_shape
from mcuforge.ops.conv_2d import WINDOW_ATTRS, requantize_channels
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def depthwise_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x, w = ins[0], ins[1]
    assert x is not None and w is not None
    a = op.attrs
    return [window_output_shape(x, (w[1], w[2]), a["strides"], a["dilations"], a["pads"], w[3])]


def depthwise_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x, w = xs[0], xs[1]
    a = ctx.op.attrs
    kh, kw, cm = w.shape[1:]
    c = x.shape[3]
    p = patches(x, (kh, kw), a["strides"], a["dilations"], a["pads"], 0.0)
    wk = w.reshape(kh, kw, c, cm // c)
    y = np.einsum("nhwcij,ijcm->nhwcm", p, wk).reshape(*p.shape[:3], cm)
    if len(xs) > 2 and xs[2] is not None:
        y = y + xs[2]
    return [apply_activation(y.astype(np.float32), a["activation"])]


def depthwise_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLM's DepthwiseConvPerChannel: per output channel c*M+m, sums of (x[c] - x_zp) * w."""
    x, w = xs[0], xs[1]
    a = ctx.op.attrs
    kh, kw, cm = w.shape[1:]
    c = x.shape[3]
    _, x_zp = ctx.in_quant(0)
    p = patches(x, (kh, kw), a["strides"], a["dilations"], a["pads"], x_zp)
    wk = w.reshape(kh, kw, c, cm // c).astype(np.float64)
    # float64 sums of int8 products are exact; padding holds x_zp and so adds nothing.
    acc = np.einsum("nhwcij,ijcm->nhwcm", p.astype(np.float64) - x_zp, wk)
    acc = np.rint(acc).astype(np.int64).reshape(*p.shape[:3], cm)
    return [requantize_channels(ctx, acc, xs[2] if len(xs) > 2 else None)]


def depthwise_macs(op: Op, ins: list[Shape | None], outs: list[Shape]) -> int:
    w = ins[1]
    assert w is not None
    return int(np.prod(outs[0])) * w[1] * w[2]


DEPTHWISE_CONV_2D = register(OpDef(
    kind="DEPTHWISE_CONV_2D", shape=depthwise_shape, ref_float=depthwise_float, ref_int=depthwise_int,
    macs=depthwise_macs, num_inputs=(2, 3), attrs=(*WINDOW_ATTRS, "depth_multiplier"),
    weight_axes={1: 3}, bias_input=2,
    int16=True, doc="depthwise 2-D convolution with channel multiplier",
    fused_activation=True, absorbs_pad=True, folds_batch_norm=True,
))
