"""ONNX ConvTranspose, Resize and Upsample into the IR's TRANSPOSE_CONV and RESIZE_* ops.
Conventions as in `onnx_ops`: NCHW tensors become NHWC through the builder's layouts.

Resize in linear mode maps onto TFLite's RESIZE_BILINEAR geometry (asymmetric: neither option,
align_corners: align_corners, half_pixel / pytorch_half_pixel: half_pixel_centers), so the int8
result is TFLM's fixed-point bilinear; the source positions use in/out (TFLite's ratio) where
onnxruntime uses 1 / scale, which differ only when the scales do not give whole sizes.
Resize in nearest mode becomes a gather by index tables computed here with ONNX's own
coordinate transformation and nearest_mode (in float32, as onnxruntime does), so int8 and
float pick the same pixels as onnxruntime for every mode.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mcuforge.importers.onnx_builder import Builder, Operand, Value
from mcuforge.importers.onnx_nn_ops import _spatial_in, _spatial_op, _to_2d

Ints = Sequence[int]

# -- ConvTranspose ---------------------------------------------------------------------------


def _transpose_pads(
    b: Builder, size: int, k: int, s: int, out_pad: int, pads: tuple[int, int], auto_pad: str,
    out_shape: int | None,
) -> tuple[int, int]:
    """(crop at the start, output size) of one spatial axis, per the ONNX spec."""
    full = s * (size - 1) + out_pad + k
    if out_shape is not None or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        target = out_shape if out_shape is not None else size * s
        total = full - target
        head = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
        if total < 0:
            raise b.fail(f"output_shape {target} is larger than the full result {full}")
        return head, target
    lo, hi = pads if auto_pad == "NOTSET" else (0, 0)
    if lo < 0 or hi < 0:
        raise b.fail(f"negative pads {[lo, hi]} are not supported")
    return lo, full - lo - hi


def ConvTranspose(
    b: Builder, x: Operand, w: Operand, bias: Operand = None, *, auto_pad: str = "NOTSET",
    dilations: Ints | None = None, group: int = 1, kernel_shape: Ints | None = None,
    output_padding: Ints | None = None, output_shape: Ints | None = None, pads: Ints | None = None,
    strides: Ints | None = None,
) -> Value:
    """Weights (C_in, C_out / group, *k). Groups > 1 become one TRANSPOSE_CONV with a
    block-diagonal filter (zero taps across groups): exact, group times the MACs."""
    x, w = b.runtime(x), b.need_const(w, "weights")
    n = w.ndim - 2
    c_in = b.onnx_shape(x)[1]
    if n not in (1, 2) or x.rank != n + 2 or w.shape[0] != c_in or c_in % group:
        raise b.fail(f"weights {list(w.shape)} with group={group} do not fit input {list(b.onnx_shape(x))} "
                     "(1-D or 2-D, weights (C_in, C_out/group, *kernel))")
    if dilations is not None and any(d != 1 for d in dilations):
        raise b.fail(f"dilations {list(dilations)} are not supported; only 1")
    strides = list(strides or [1] * n)
    out_pad = list(output_padding or [0] * n)
    p = list(pads or [0] * (2 * n))
    sizes = b.onnx_shape(x)[2:]
    geometry = [
        _transpose_pads(b, sizes[i], w.shape[2 + i], strides[i], out_pad[i], (p[i], p[n + i]), auto_pad,
                        None if output_shape is None else int(output_shape[-n + i]))
        for i in range(n)
    ]
    heads, outs = [g[0] for g in geometry], [g[1] for g in geometry]
    per_in, per_out = c_in // group, w.shape[1]
    full = np.zeros((per_out * group, *w.shape[2:], c_in), dtype=np.float32)
    for g in range(group):  # (C_in/g, C_out/g, *k) -> (C_out/g, *k, C_in/g) in its diagonal block
        block = np.moveaxis(w[g * per_in:(g + 1) * per_in], 0, -1).astype(np.float32)
        full[g * per_out:(g + 1) * per_out, ..., g * per_in:(g + 1) * per_in] = block
    w4 = full if n == 2 else full[:, None]
    q = b.qconsts.get(b.node.input[1])
    if q is not None and group != 1:
        raise b.fail(f"group={group} with quantized (QDQ) weights is not supported")
    if q is not None and q.per_channel and q.axis != 1:
        raise b.fail(f"weights quantized per channel along axis {q.axis}; only along the output "
                     "channels (axis 1) is supported")
    inputs = [_spatial_in(b, x), b.weight(1, w4, 0, "weights")]
    if bias is not None:
        inputs.append(b.weight(2, b.need_const(bias, "bias"), 0, "bias"))
    attrs = {"strides": _to_2d(strides, 1), "padding": _to_2d(heads, 0), "output_hw": _to_2d(outs, 1),
             "activation": "NONE"}
    return _spatial_op(b, "TRANSPOSE_CONV", inputs, attrs, x.rank)


# -- Resize / Upsample -----------------------------------------------------------------------


def _source_positions(mode: str, out_size: int, in_size: int, scale: float) -> np.ndarray:
    """ONNX's coordinate_transformation_mode: each output index's position in the input, float32."""
    f = np.float32
    x = np.arange(out_size, dtype=np.float32)
    r = f(scale)
    if mode == "half_pixel":
        return (x + f(0.5)) / r - f(0.5)
    if mode == "pytorch_half_pixel":
        return (x + f(0.5)) / r - f(0.5) if out_size > 1 else np.zeros(1, np.float32)
    if mode == "align_corners":
        return x * (f(in_size - 1) / f(out_size - 1)) if out_size > 1 else np.zeros(1, np.float32)
    if mode == "asymmetric":
        return x / r
    if mode == "tf_half_pixel_for_nn":
        return (x + f(0.5)) / r
    raise ValueError(mode)


def onnx_nearest_indices(mode: str, nearest: str, out_size: int, in_size: int, scale: float) -> np.ndarray:
    if np.float32(scale) == 1:  # onnxruntime copies an axis of scale 1 untransformed
        # (the formula would shift it by one with tf_half_pixel_for_nn and ceil / round_prefer_ceil)
        return np.arange(out_size, dtype=np.int64)
    pos = _source_positions(mode, out_size, in_size, scale)
    frac = pos - np.floor(pos)
    if nearest == "floor":
        idx = np.floor(pos)
    elif nearest == "ceil":
        idx = np.ceil(pos)
    elif nearest == "round_prefer_floor":
        idx = np.where(frac == np.float32(0.5), np.floor(pos), np.round(pos))
    elif nearest == "round_prefer_ceil":
        idx = np.where(frac == np.float32(0.5), np.ceil(pos), np.round(pos))
    elif nearest == "simple":  # Upsample and Resize-10: truncate, or ceil when shrinking
        idx = np.ceil(pos) if scale < 1 else np.trunc(pos)
    else:
        raise ValueError(nearest)
    return np.clip(idx.astype(np.int64), 0, in_size - 1)


COORDINATE_MODES = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")
LINEAR_AS_TFLITE = {  # coordinate_transformation_mode -> (align_corners, half_pixel_centers)
    "asymmetric": (False, False), "align_corners": (True, False),
    "half_pixel": (False, True), "pytorch_half_pixel": (False, True),
}


def _resize(
    b: Builder, x: Operand, scales: np.ndarray | None, sizes: np.ndarray | None, mode: str,
    coordinate: str, nearest: str,
) -> Value:
    v = b.runtime(x)
    shape = b.onnx_shape(v)
    if v.rank != 4:
        raise b.fail(f"only 4-D NCHW inputs can be resized, got {list(shape)}")
    if sizes is not None and sizes.size:
        if sizes.size != 4:
            raise b.fail(f"sizes {sizes.tolist()} must give all 4 axes")
        out = [int(s) for s in sizes]
        ratio = [o / i for o, i in zip(out, shape, strict=True)]
    elif scales is not None and scales.size:
        if scales.size != 4:
            raise b.fail(f"scales {scales.tolist()} must give all 4 axes")
        ratio = [float(s) for s in scales.astype(np.float32)]
        out = [int(np.floor(i * np.float32(r))) for i, r in zip(shape, ratio, strict=True)]
    else:
        raise b.fail("neither scales nor sizes is given")
    if out[:2] != list(shape[:2]):
        raise b.fail(f"only H and W can be resized; the output would be {out} from {list(shape)}")
    if coordinate not in COORDINATE_MODES:
        raise b.fail(f"coordinate_transformation_mode '{coordinate}' is not supported; "
                     f"supported: {', '.join(COORDINATE_MODES)}")
    size = (out[2], out[3])
    base = {"size": size, "align_corners": False, "half_pixel_centers": False}
    if mode == "nearest":
        if nearest not in (*NEAREST_MODES, "simple"):
            raise b.fail(f"nearest_mode '{nearest}' is not supported; supported: {', '.join(NEAREST_MODES)}")
        rows, cols = (onnx_nearest_indices(coordinate, nearest, out[a], shape[a], ratio[a]) for a in (2, 3))
        attrs = {**base, "rows": tuple(int(i) for i in rows), "cols": tuple(int(i) for i in cols)}
        kind = "RESIZE_NEAREST_NEIGHBOR"
    elif mode in ("linear", "bilinear"):
        if coordinate not in LINEAR_AS_TFLITE:
            raise b.fail(f"linear mode with coordinate_transformation_mode '{coordinate}' is not supported; "
                         f"supported: {', '.join(LINEAR_AS_TFLITE)}")
        align, half = LINEAR_AS_TFLITE[coordinate]
        attrs, kind = {**base, "align_corners": align, "half_pixel_centers": half}, "RESIZE_BILINEAR"
    else:
        raise b.fail(f"mode '{mode}' is not supported; only nearest and linear")
    return _spatial_op(b, kind, [_spatial_in(b, v)], attrs, 4)


def _const_or_none(b: Builder, x: Operand, what: str) -> np.ndarray | None:
    return None if x is None else b.need_const(x, what)


def Resize(
    b: Builder, x: Operand, roi: Operand = None, scales: Operand = None, sizes: Operand = None, *,
    mode: str = "nearest", coordinate_transformation_mode: str = "half_pixel",
    nearest_mode: str = "round_prefer_floor", cubic_coeff_a: float = -0.75, exclude_outside: int = 0,
    extrapolation_value: float = 0.0, antialias: int = 0, axes: Ints | None = None,
    keep_aspect_ratio_policy: str = "stretch",
) -> Value:
    if antialias or axes is not None or keep_aspect_ratio_policy != "stretch":
        raise b.fail("antialias, axes and keep_aspect_ratio_policy are not supported")
    if b.opset < 11:  # Resize-10: (X, scales), asymmetric coordinates, truncating nearest
        return _resize(b, x, _const_or_none(b, roi, "scales"), None, mode, "asymmetric", "simple")
    return _resize(b, x, _const_or_none(b, scales, "scales"), _const_or_none(b, sizes, "sizes"), mode,
                   coordinate_transformation_mode, nearest_mode)


def Upsample(b: Builder, x: Operand, scales_in: Operand = None, *, mode: str = "nearest",
             scales: Ints | None = None) -> Value:
    """Opset 7-9 upsampling: asymmetric coordinates, truncating nearest (onnxruntime's rule)."""
    factors = _const_or_none(b, scales_in, "scales")
    if factors is None and scales is not None:
        factors = np.asarray(scales, dtype=np.float32)
    return _resize(b, x, factors, None, mode, "asymmetric", "simple")


SPATIAL_TABLE = (ConvTranspose, Resize, Upsample)
