"""AVERAGE_POOL_2D and MAX_POOL_2D over NHWC. attrs: kernel, strides, pads, activation.

Padded cells never count: an average divides by the number of real cells under the window
(TFLite's rule, ONNX's count_include_pad=0), a max ignores them.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import apply_activation, patches, quantized_activation_range, window_output_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register

POOL_ATTRS = ("kernel", "strides", "pads", "activation")


def pool_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    a = op.attrs
    return [window_output_shape(x, a["kernel"], a["strides"], (1, 1), a["pads"], x[3])]


def pool_windows(x: np.ndarray, attrs: dict, pad_value: float | int) -> tuple[np.ndarray, np.ndarray]:
    """(windows of x, windows of a validity mask), each (N, OH, OW, C, KH, KW)."""
    win = patches(x, attrs["kernel"], attrs["strides"], (1, 1), attrs["pads"], pad_value)
    ones = np.ones((1, *x.shape[1:3], 1), dtype=np.int64)
    mask = patches(ones, attrs["kernel"], attrs["strides"], (1, 1), attrs["pads"], 0)
    return win, mask


def avg_pool_float(ctx: Ctx, xs: Arrays) -> Arrays:
    win, mask = pool_windows(xs[0], ctx.op.attrs, 0.0)
    y = win.sum(axis=(4, 5)) / mask.sum(axis=(4, 5))
    return [apply_activation(y.astype(np.float32), ctx.op.attrs["activation"])]


def max_pool_float(ctx: Ctx, xs: Arrays) -> Arrays:
    win, _ = pool_windows(xs[0], ctx.op.attrs, -np.inf)
    y = win.max(axis=(4, 5))
    return [apply_activation(y.astype(np.float32), ctx.op.attrs["activation"])]


def _activation_range(ctx: Ctx) -> tuple[int, int]:
    scale, zero_point = ctx.out_quant()
    return quantized_activation_range(ctx.op.attrs["activation"], scale, zero_point, ctx.outs[0].dtype)


def avg_pool_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLM's integer AveragePool: the raw sum divided by the count of real cells, rounding half
    away from zero; input and output share quantization, so no zero point enters."""
    win, mask = pool_windows(xs[0], ctx.op.attrs, 0)
    total = win.sum(axis=(4, 5), dtype=np.int64)
    count = mask.sum(axis=(4, 5))
    y = np.sign(total) * ((np.abs(total) + count // 2) // count)
    lo, hi = _activation_range(ctx)
    return [np.clip(y, lo, hi).astype(ctx.outs[0].dtype)]


def max_pool_int(ctx: Ctx, xs: Arrays) -> Arrays:
    x = xs[0]
    win, _ = pool_windows(x, ctx.op.attrs, np.iinfo(x.dtype).min)
    lo, hi = _activation_range(ctx)
    return [np.clip(win.max(axis=(4, 5)), lo, hi).astype(ctx.outs[0].dtype)]


AVERAGE_POOL_2D = register(OpDef(
    kind="AVERAGE_POOL_2D", shape=pool_shape, ref_float=avg_pool_float, ref_int=avg_pool_int,
    attrs=POOL_ATTRS, out_quant="same_as_input", int16=True,
    doc="average over each window, padding not counted",
    fused_activation=True,
))
MAX_POOL_2D = register(OpDef(
    kind="MAX_POOL_2D", shape=pool_shape, ref_float=max_pool_float, ref_int=max_pool_int,
    attrs=POOL_ATTRS, out_quant="same_as_input", int16=True, doc="maximum over each window",
    fused_activation=True,
))
