"""The encoding rules of TFLite's quantization spec.

int8 mode: asymmetric per-tensor int8 activations, symmetric per-channel int8 weights in
[-127, 127], int32 biases at input scale x weight scale. 16x8 mode: symmetric int16 activations
(zero point 0), the same int8 weights, int64 biases.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import QuantParams

QMIN, QMAX = -128, 127
INT16_MAX = 32767
ACTIVATION_DTYPE = {"int8": "int8", "16x8": "int16"}
BIAS_DTYPE = {"int8": "int32", "16x8": "int64"}


def activation_params(lo: float, hi: float, mode: str = "int8") -> QuantParams:
    """Parameters covering [lo, hi], widened to contain 0 so that zero (padding, ReLU) is exact:
    affine int8, or symmetric int16 in 16x8 mode."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < 1e-30:
        # A constant zero tensor: any scale represents it; this one keeps multipliers finite.
        return QuantParams(np.array([1.0 / 255]), np.array([0]))
    if mode == "16x8":
        return QuantParams(np.array([max(-lo, hi) / INT16_MAX]), np.array([0]))
    scale = (hi - lo) / (QMAX - QMIN)
    zp = int(np.clip(np.round(QMIN - lo / scale), QMIN, QMAX))
    return QuantParams(np.array([scale]), np.array([zp]))


def quantize_values(x: np.ndarray, q: QuantParams, dtype: str = "int8") -> np.ndarray:
    info = np.iinfo(dtype)
    shape = q.broadcast_shape(x.ndim)
    v = np.round(x.astype(np.float64) / q.scale.reshape(shape).astype(np.float64))
    return np.clip(v + q.zero_point.reshape(shape), info.min, info.max).astype(dtype)


def dequantize_values(q: np.ndarray, params: QuantParams) -> np.ndarray:
    shape = params.broadcast_shape(q.ndim)
    zp = params.zero_point.reshape(shape)
    return ((q.astype(np.int64) - zp) * params.scale.reshape(shape).astype(np.float64)).astype(np.float32)


def weight_params(w: np.ndarray, axis: int) -> QuantParams:
    """Symmetric per-channel scales along `axis`; an all-zero channel gets scale 1 (its
    weights quantize to 0 whatever the scale, and 1 keeps the bias scale well defined)."""
    other = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.max(np.abs(w), axis=other).astype(np.float64)
    scale = np.where(amax > 0, amax / QMAX, 1.0)
    return QuantParams(scale, np.zeros_like(scale, dtype=np.int64), axis=axis)


def bias_values(
    b: np.ndarray, input_scale: float, weight_scale: np.ndarray, mode: str = "int8"
) -> tuple[np.ndarray, QuantParams]:
    dtype = BIAS_DTYPE[mode]
    scale = np.float64(np.float32(input_scale)) * weight_scale.astype(np.float32).astype(np.float64)
    info = np.iinfo(dtype)
    q = np.clip(np.round(b.astype(np.float64) / scale), info.min, info.max).astype(dtype)
    return q, QuantParams(scale, np.zeros_like(scale, dtype=np.int64), axis=0)
