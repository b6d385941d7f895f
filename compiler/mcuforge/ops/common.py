"""Helpers shared by op definitions: fused activations, window geometry, patch extraction."""

from __future__ import annotations

import math

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.reference.qmath import quantize_real

# Fused activations as TFLite names them, with the real-valued range each clamps to.
ACTIVATIONS: dict[str, tuple[float, float]] = {
    "NONE": (-math.inf, math.inf),
    "RELU": (0.0, math.inf),
    "RELU6": (0.0, 6.0),
    "RELU_N1_TO_1": (-1.0, 1.0),
    "RELU_0_TO_1": (0.0, 1.0),
}

INT_RANGES: dict[str, tuple[int, int]] = {
    "int8": (-128, 127),
    "int16": (-32768, 32767),
    "uint8": (0, 255),
    "int32": (-(2**31), 2**31 - 1),
}


def activation_range(name: str) -> tuple[float, float]:
    return ACTIVATIONS[name]


def apply_activation(x: np.ndarray, name: str) -> np.ndarray:
    lo, hi = ACTIVATIONS[name]
    if name == "NONE":
        return x
    return np.clip(x, lo, hi).astype(x.dtype)


def quantized_activation_range(name: str, scale: float, zero_point: int, dtype: str) -> tuple[int, int]:
    """TFLite's CalculateActivationRangeQuantized: the real range quantized, cut to the dtype."""
    qmin, qmax = INT_RANGES[dtype]
    lo, hi = ACTIVATIONS[name]
    if lo != -math.inf:
        qmin = max(qmin, quantize_real(lo, scale, zero_point))
    if hi != math.inf:
        qmax = min(qmax, quantize_real(hi, scale, zero_point))
    return qmin, qmax


def pair(v: int | tuple[int, ...] | list[int]) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    a, b = v
    return (int(a), int(b))


def window_out_size(size: int, k: int, stride: int, dilation: int, pad_lo: int, pad_hi: int) -> int:
    effective = (k - 1) * dilation + 1
    return (size + pad_lo + pad_hi - effective) // stride + 1


def same_pads(size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """TFLite/Keras SAME padding: the extra pixel goes after (bottom/right)."""
    effective = (k - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def window_output_shape(
    in_shape: Shape, kernel: tuple[int, int], strides: tuple[int, int],
    dilations: tuple[int, int], pads: tuple[int, int, int, int], channels: int,
) -> Shape:
    n, h, w, _ = in_shape
    pt, pl, pb, pr = pads
    oh = window_out_size(h, kernel[0], strides[0], dilations[0], pt, pb)
    ow = window_out_size(w, kernel[1], strides[1], dilations[1], pl, pr)
    return (n, oh, ow, channels)


def patches(
    x: np.ndarray, kernel: tuple[int, int], strides: tuple[int, int],
    dilations: tuple[int, int], pads: tuple[int, int, int, int], pad_value: float | int = 0,
) -> np.ndarray:
    """Sliding windows of an NHWC array: shape (N, OH, OW, C, KH, KW), a strided view."""
    pt, pl, pb, pr = pads
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=pad_value)
    ekh = (kernel[0] - 1) * dilations[0] + 1
    ekw = (kernel[1] - 1) * dilations[1] + 1
    win = np.lib.stride_tricks.sliding_window_view(xp, (ekh, ekw), axis=(1, 2))
    return win[:, :: strides[0], :: strides[1], :, :: dilations[0], :: dilations[1]]


def exact_dot(a: np.ndarray, b: np.ndarray, axes: tuple[list[int], list[int]]) -> np.ndarray:
    """Integer tensordot through float64 BLAS: exact while every partial sum stays below 2**53,
    which int8/int16 products over any realistic kernel do."""
    return np.rint(np.tensordot(a.astype(np.float64), b.astype(np.float64), axes=axes)).astype(
        np.int64
    )


def same_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    """Shape rule of ops whose output has the shape of their first input."""
    x = ins[0]
    assert x is not None
    return [x]
