"""CONV_2D: NHWC input, OHWI weights, optional bias, fused activation.

attrs: strides (sh, sw), dilations (dh, dw), pads (top, left, bottom, right), activation.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import apply_activation, patches, window_output_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register

WINDOW_ATTRS = ("strides", "dilations", "pads", "activation")


def conv_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x, w = ins[0], ins[1]
    assert x is not None and w is not None
    a = op.attrs
    return [window_output_shape(x, (w[1], w[2]), a["strides"], a["dilations"], a["pads"], w[0])]


def conv_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x, w = xs[0], xs[1]
    a = ctx.op.attrs
    p = patches(x, (w.shape[1], w.shape[2]), a["strides"], a["dilations"], a["pads"], 0.0)
    y = np.tensordot(p, w.transpose(3, 1, 2, 0), axes=([3, 4, 5], [0, 1, 2]))
    if len(xs) > 2 and xs[2] is not None:
        y = y + xs[2]
    return [apply_activation(y.astype(np.float32), a["activation"])]


def conv_macs(op: Op, ins: list[Shape | None], outs: list[Shape]) -> int:
    w = ins[1]
    assert w is not None
    return int(np.prod(outs[0])) * w[1] * w[2] * w[3]


CONV_2D = register(OpDef(
    kind="CONV_2D", shape=conv_shape, ref_float=conv_float, macs=conv_macs,
    num_inputs=(2, 3), attrs=WINDOW_ATTRS, doc="2-D convolution, NHWC x OHWI",
))
