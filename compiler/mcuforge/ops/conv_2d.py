"""CONV_2D: NHWC input, OHWI weights, optional bias, fused activation.

Grouped when the weights have fewer input channels than the input (TFLite/TFLM's rule):
groups = C_in / filter depth, output channel o reads input channels
[g * depth, (g + 1) * depth) of its group g = o / (C_out / groups).

attrs: strides (sh, sw), dilations (dh, dw), pads (top, left, bottom, right), activation.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Graph, Op, Shape
from mcuforge.ops.common import (
    apply_activation,
    exact_dot,
    patches,
    quantized_activation_range,
    window_output_shape,
)
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import (
    channel_multipliers,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_int64,
)

WINDOW_ATTRS = ("strides", "dilations", "pads", "activation")


def conv_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x, w = ins[0], ins[1]
    assert x is not None and w is not None
    a = op.attrs
    if w[3] < 1 or x[3] < w[3] or x[3] % w[3] or w[0] % (x[3] // w[3]):  # groups = C_in / depth
        raise ValueError(f"weights {w} (OHWI) do not divide input {x} into groups")
    return [window_output_shape(x, (w[1], w[2]), a["strides"], a["dilations"], a["pads"], w[0])]


def is_grouped(graph: Graph, op: Op) -> bool:
    """A CONV_2D whose filter depth is below its input depth (a grouped convolution)."""
    if op.kind != "CONV_2D":
        return False
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    return x.shape[-1] != w.shape[-1]


def grouped(x: np.ndarray, w: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(input channels, weights) of each group, per TFLM's groups = C_in / filter depth."""
    depth = w.shape[3]
    groups = x.shape[3] // depth
    per = w.shape[0] // groups
    return [(x[..., g * depth:(g + 1) * depth], w[g * per:(g + 1) * per]) for g in range(groups)]


def conv_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x, w = xs[0], xs[1]
    a = ctx.op.attrs
    y = np.concatenate([
        np.tensordot(patches(xg, (wg.shape[1], wg.shape[2]), a["strides"], a["dilations"], a["pads"], 0.0),
                     wg.transpose(3, 1, 2, 0), axes=([3, 4, 5], [0, 1, 2]))
        for xg, wg in grouped(x, w)], axis=-1)
    if len(xs) > 2 and xs[2] is not None:
        y = y + xs[2]
    return [apply_activation(y.astype(np.float32), a["activation"])]


def conv_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLM's ConvPerChannel: int32 sums of (x - x_zp) * w, padding contributing nothing, plus the
    int32 bias, requantized per output channel."""
    x, w = xs[0], xs[1]
    a = ctx.op.attrs
    _, x_zp = ctx.in_quant(0)
    acc = np.concatenate([
        exact_dot(patches(xg, (wg.shape[1], wg.shape[2]), a["strides"], a["dilations"], a["pads"], x_zp),
                  wg.transpose(3, 1, 2, 0), axes=([3, 4, 5], [0, 1, 2]))
        for xg, wg in grouped(x, w)], axis=-1)
    # Padding holds x_zp, so subtracting x_zp * sum(w) zeroes it as TFLM's skipped taps are.
    acc -= x_zp * w.sum(axis=(1, 2, 3), dtype=np.int64)
    return [requantize_channels(ctx, acc, xs[2] if len(xs) > 2 else None)]


def requantize_channels(ctx: Ctx, acc: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """Bias, per-channel requantization and fused activation of an accumulator whose last axis is
    the output channel (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED). int16 activations (TFLite's
    16x8 mode) accumulate in int64 and requantize with TFLite's int64 variant."""
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    x_t, w_t, out = ctx.ins[0], ctx.ins[1], ctx.outs[0]
    assert x_t is not None and w_t is not None and w_t.quant is not None
    x_scale, _ = x_t.scalar_quant()
    out_scale, out_zp = out.scalar_quant()
    multiplier, shift = channel_multipliers(x_scale, w_t.quant.scale, out_scale, acc.shape[-1])
    lo, hi = quantized_activation_range(ctx.op.attrs["activation"], out_scale, out_zp, out.dtype)
    wide = x_t.dtype == "int16"
    scale = multiply_by_quantized_multiplier_int64 if wide else multiply_by_quantized_multiplier
    return np.clip(scale(acc, multiplier, shift) + out_zp, lo, hi).astype(out.dtype)


def conv_macs(op: Op, ins: list[Shape | None], outs: list[Shape]) -> int:
    w = ins[1]
    assert w is not None
    return int(np.prod(outs[0])) * w[1] * w[2] * w[3]


CONV_2D = register(OpDef(
    kind="CONV_2D", shape=conv_shape, ref_float=conv_float, ref_int=conv_int, macs=conv_macs,
    num_inputs=(2, 3), attrs=WINDOW_ATTRS, weight_axes={1: 0}, bias_input=2,
    int16=True, doc="2-D convolution, NHWC x OHWI",
    fused_activation=True, absorbs_pad=True, folds_batch_norm=True,
    weight_formats=frozenset({"int4", "cb4", "sparse", "b1"}),
))
