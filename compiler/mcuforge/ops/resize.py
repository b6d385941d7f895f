"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR over NHWC (N, H, W, C) -> (N, OH, OW, C).

attrs: size (OH, OW), align_corners, half_pixel_centers (TFLite's options). Both ops move values
without rescaling: the output keeps the input's quantization, as TFLite's int8 kernels require.

Nearest: output row y reads input row `rows[y]`. Without a `rows`/`cols` attr the rows follow
TFLite's GetNearestNeighbor in float32: scale = in/out (or (in-1)/(out-1) with align_corners),
offset 0.5 with half_pixel_centers, floor (round half away from zero with align_corners), cut to
[0, in-1]. ONNX Resize/Upsample modes TFLite lacks (half_pixel with round_prefer_floor, ceil, ...)
come as explicit `rows`/`cols` tables that the importer computed with ONNX's own formula; the
integer op is then the same gather, so int8 and float agree exactly with onnxruntime's indices.

Bilinear: TFLM's ResizeBilinearInteger. Each output coordinate maps to a source position in
1/1024 steps (scale_10 = round(1024 * in / out), or from (in-1)/(out-1) with align_corners;
half_pixel_centers adds scale_10/2 - 512); lo = max(pos / 1024, 0) (C division), hi =
min(ceil(pos / 1024), in-1), frac = pos - 1024 * lo. The four neighbours are weighted by
(1024 - frac) / frac per axis, summed in 2**20 units and divided by 2**20 rounding half away from
zero. The float reference is TFLite's float ResizeBilinear with the same geometry. int16
(16x8): TFLite Micro has no int16 RESIZE_BILINEAR; TFLite's ResizeBilinearInteger<int16_t> is
the same definition with int64 sums, which this follows.
"""

from __future__ import annotations

import math

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register

ONE = 1 << 10  # bilinear fractions are in 1/1024ths


def resize_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    if len(x) != 4:
        raise ValueError(f"resize takes a 4-D NHWC tensor, got shape {x}")
    oh, ow = (int(v) for v in op.attrs["size"])
    if oh < 1 or ow < 1:
        raise ValueError(f"output size {(oh, ow)} must be positive")
    return [(x[0], oh, ow, x[3])]


# -- nearest ----------------------------------------------------------------------------------


def nearest_indices(in_size: int, out_size: int, align_corners: bool, half_pixel: bool) -> np.ndarray:
    """TFLite's GetNearestNeighbor for every output index, in float32 as TFLM computes it."""
    f = np.float32
    aligned = align_corners and out_size > 1
    scale = f(in_size - 1) / f(out_size - 1) if aligned else f(in_size) / f(out_size)
    pos = (np.arange(out_size, dtype=np.float32) + f(0.5 if half_pixel else 0.0)) * scale
    # TfLiteRound (half away from zero) with align_corners, else floor
    idx = np.sign(pos) * np.floor(np.abs(pos) + f(0.5)) if align_corners else np.floor(pos)
    idx = np.minimum(idx.astype(np.int64), in_size - 1)
    if half_pixel:
        idx = np.maximum(idx, 0)
    return idx


def nearest_tables(op: Op, in_h: int, in_w: int) -> tuple[np.ndarray, np.ndarray]:
    a = op.attrs
    oh, ow = (int(v) for v in a["size"])
    if a.get("rows") is not None:
        return np.asarray(a["rows"], dtype=np.int64), np.asarray(a["cols"], dtype=np.int64)
    align, half = bool(a["align_corners"]), bool(a["half_pixel_centers"])
    return nearest_indices(in_h, oh, align, half), nearest_indices(in_w, ow, align, half)


def nearest_ref(ctx: Ctx, xs: Arrays) -> Arrays:
    x = xs[0]
    rows, cols = nearest_tables(ctx.op, x.shape[1], x.shape[2])
    return [np.ascontiguousarray(x[:, rows][:, :, cols])]


# -- bilinear ---------------------------------------------------------------------------------


def _cdiv(a: np.ndarray, b: int) -> np.ndarray:
    """C integer division (truncation toward zero)."""
    return np.sign(a) * (np.abs(a) // b)


def bilinear_table(in_size: int, out_size: int, align_corners: bool,
                   half_pixel: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, frac) per output index, in TFLM's 10-bit fixed point (see the module doc)."""
    if align_corners and out_size > 1:
        scale = (ONE * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale = (ONE * in_size + out_size // 2) // out_size
    v = np.arange(out_size, dtype=np.int64)
    pos = v * scale + (scale // 2 - (1 << 9) if half_pixel else 0)
    lo = np.maximum(_cdiv(pos, ONE), 0)
    hi = np.minimum(_cdiv(pos + ONE - 1, ONE), in_size - 1)
    return lo, hi, pos - ONE * lo


def bilinear_tables(op: Op, in_h: int, in_w: int) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    a = op.attrs
    oh, ow = (int(v) for v in a["size"])
    align, half = bool(a["align_corners"]), bool(a["half_pixel_centers"])
    return bilinear_table(in_h, oh, align, half), bilinear_table(in_w, ow, align, half)


def bilinear_int(ctx: Ctx, xs: Arrays) -> Arrays:
    x = xs[0]
    (y0, y1, fy), (x0, x1, fx) = bilinear_tables(ctx.op, x.shape[1], x.shape[2])
    v = x.astype(np.int64)
    wy0, wy1 = (ONE - fy)[None, :, None, None], fy[None, :, None, None]
    wx0, wx1 = (ONE - fx)[None, None, :, None], fx[None, None, :, None]
    top, bot = v[:, y0], v[:, y1]
    total = (top[:, :, x0] * wy0 * wx0 + bot[:, :, x0] * wy1 * wx0
             + top[:, :, x1] * wy0 * wx1 + bot[:, :, x1] * wy1 * wx1)
    half = np.where(total > 0, 1 << 19, -(1 << 19))
    y = _cdiv(total + half, 1 << 20)
    return [y.astype(ctx.outs[0].dtype)]


def _float_axis(in_size: int, out_size: int, align: bool, half: bool) -> tuple[np.ndarray, ...]:
    """TFLite's float ComputeInterpolationValues: source position, lower and upper index."""
    f = np.float32
    scale = f(in_size - 1) / f(out_size - 1) if align and out_size > 1 else f(in_size) / f(out_size)
    v = np.arange(out_size, dtype=np.float32)
    pos = (v + f(0.5)) * scale - f(0.5) if half else v * scale
    lo = np.maximum(np.floor(pos), 0).astype(np.int64)
    hi = np.minimum(np.ceil(pos).astype(np.int64), in_size - 1)
    return pos, lo, hi


def bilinear_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x = xs[0]
    a = ctx.op.attrs
    oh, ow = (int(v) for v in a["size"])
    align, half = bool(a["align_corners"]), bool(a["half_pixel_centers"])
    py, y0, y1 = _float_axis(x.shape[1], oh, align, half)
    px, x0, x1 = _float_axis(x.shape[2], ow, align, half)
    dy = (py - y0)[None, :, None, None]
    dx = (px - x0)[None, None, :, None]
    top, bot = x[:, y0], x[:, y1]
    y = (top[:, :, x0] * (1 - dy) * (1 - dx) + bot[:, :, x0] * dy * (1 - dx)
         + top[:, :, x1] * (1 - dy) * dx + bot[:, :, x1] * dy * dx)
    return [y.astype(np.float32)]


def resize_macs(op: Op, ins: list[Shape | None], outs: list[Shape]) -> int:
    return 4 * math.prod(outs[0])


RESIZE_ATTRS = ("size", "align_corners", "half_pixel_centers")

RESIZE_NEAREST_NEIGHBOR = register(OpDef(
    kind="RESIZE_NEAREST_NEIGHBOR", shape=resize_shape, ref_float=nearest_ref, ref_int=nearest_ref,
    attrs=RESIZE_ATTRS, out_quant="same_as_input", int16=True,
    doc="nearest-neighbour resize of H and W (TFLite geometry, or explicit index tables)",
))
RESIZE_BILINEAR = register(OpDef(
    kind="RESIZE_BILINEAR", shape=resize_shape, ref_float=bilinear_float, ref_int=bilinear_int,
    macs=resize_macs, attrs=RESIZE_ATTRS, out_quant="same_as_input", int16=True,
    doc="bilinear resize of H and W, TFLM's 10-bit fixed-point weights",
))
