"""TRANSPOSE_CONV: the gradient of a strided convolution. NHWC input (N, H, W, C_in), weights
OHWI (C_out, KH, KW, C_in), optional bias (C_out,), output (N, OH, OW, C_out).

attrs: strides (sh, sw), padding (top, left): how many leading rows/columns of the full
transposed result are cropped, output_hw (OH, OW), activation.

Input pixel (y, x) adds x * w[o, ky, kx, :] to output pixel (y*sh - top + ky, x*sw - left + kx)
when that lies inside (OH, OW); output cells that no tap reaches get the bias alone. This is
TFLite's TRANSPOSE_CONV (its output_shape input becomes `output_hw`, its SAME padding the
top/left crop TFLM computes) and ONNX ConvTranspose (pads begin = crop, output_padding and pads
end decide OH/OW) alike; the weights are not flipped.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import apply_activation
from mcuforge.ops.conv_2d import requantize_channels
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def transpose_conv_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x, w = ins[0], ins[1]
    assert x is not None and w is not None
    if x[3] != w[3]:
        raise ValueError(f"input has {x[3]} channels, weights {w} (OHWI) expect {w[3]}")
    oh, ow = op.attrs["output_hw"]
    return [(x[0], int(oh), int(ow), w[0])]


def scatter(x: np.ndarray, w: np.ndarray, attrs: dict, out_hw: tuple[int, int]) -> np.ndarray:
    """sum over taps of x[n, y, x, i] * w[o, ky, kx, i] placed at (y*sh - top + ky, x*sw - left + kx),
    cropped to out_hw; float64 (exact for integer inputs: int8 products summed stay below 2**53)."""
    sh, sw = attrs["strides"]
    top, left = attrs["padding"]
    n, h, wd, _ = x.shape
    co, kh, kw, _ = w.shape
    oh, ow = out_hw
    full_h = max((h - 1) * sh + kh, top + oh)
    full_w = max((wd - 1) * sw + kw, left + ow)
    full = np.zeros((n, full_h, full_w, co), dtype=np.float64)
    # (N, H, W, KH, KW, C_out): every input pixel times every tap
    taps = np.einsum("nyxi,okli->nyxklo", x.astype(np.float64), w.astype(np.float64))
    for ky in range(kh):
        for kx in range(kw):
            full[:, ky:ky + (h - 1) * sh + 1:sh, kx:kx + (wd - 1) * sw + 1:sw, :] += taps[:, :, :, ky, kx, :]
    return full[:, top:top + oh, left:left + ow, :]


def transpose_conv_float(ctx: Ctx, xs: Arrays) -> Arrays:
    a = ctx.op.attrs
    y = scatter(xs[0], xs[1], a, tuple(a["output_hw"]))
    if len(xs) > 2 and xs[2] is not None:
        y = y + xs[2]
    return [apply_activation(y.astype(np.float32), a["activation"])]


def transpose_conv_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLM's reference_integer_ops::TransposeConv: every input pixel scatters
    (x - x_zp) * w into an int32 scratch the size of the output, then bias, per-channel
    requantization, output zero point and the activation clamp. The sums here are the same
    integers in another order, so the result is bit-exact."""
    a = ctx.op.attrs
    _, x_zp = ctx.in_quant(0)
    acc = scatter(xs[0].astype(np.int64) - x_zp, xs[1], a, tuple(a["output_hw"]))
    acc = np.rint(acc).astype(np.int64)
    return [requantize_channels(ctx, acc, xs[2] if len(xs) > 2 else None)]


def transpose_conv_macs(op: Op, ins: list[Shape | None], outs: list[Shape]) -> int:
    x, w = ins[0], ins[1]
    assert x is not None and w is not None
    return int(np.prod(x[:3])) * w[0] * w[1] * w[2] * w[3]


TRANSPOSE_CONV = register(OpDef(
    kind="TRANSPOSE_CONV", shape=transpose_conv_shape, ref_float=transpose_conv_float,
    ref_int=transpose_conv_int, macs=transpose_conv_macs, num_inputs=(2, 3),
    attrs=("strides", "padding", "output_hw", "activation"), weight_axes={1: 0}, bias_input=2,
    doc="transposed 2-D convolution, NHWC x OHWI, top/left crop and explicit output size",
    # Its crop is `padding`, not input padding, so a PAD before it does not fold in
    # (absorbs_pad=False); no packed weight formats (the kernel reads int8 weights only).
    fused_activation=True,
))
