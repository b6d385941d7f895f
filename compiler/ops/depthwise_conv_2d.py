"""DEPTHWISE_CONV_2D: NHWC input, weights (1, KH, KW, C*M), output channel c*M+m reads input c.

attrs: strides, dilations, pads, activation, depth_multiplier.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import apply_activation, patches, window_output_shape
from mcuforge.ops.conv_2d import WINDOW_ATTRS
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


def depthwise_macs(op: Op, ins: list[Shape | None], outs: list[Shape]) -> int:
    w = ins[1]
    assert w is not None
    return int(np.prod(outs[0])) * w[1] * w[2]


DEPTHWISE_CONV_2D = register(OpDef(
    kind="DEPTHWISE_CONV_2D", shape=depthwise_shape, ref_float=depthwise_float,
    macs=depthwise_macs, num_inputs=(2, 3), attrs=(*WINDOW_ATTRS, "depth_multiplier"),
    doc="depthwise 2-D convolution with channel multiplier",
))
