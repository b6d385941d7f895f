"""The int8 encoding rules of TFLite's quantization spec: asymmetric per-tensor activations,
symmetric per-channel weights in [-127, 127], int32 biases at input scale x weight scale."""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import QuantParams

QMIN, QMAX = -128, 127


def activation_params(lo: float, hi: float) -> QuantParams:
    """Affine int8 parameters covering [lo, hi], widened to contain 0 so that zero (padding,
    ReLU) is exact."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < 1e-30:
        return QuantParams(np.array([1.0 / 255]), np.array([0]))  # a constant zero tensor
    scale = (hi - lo) / (QMAX - QMIN)
    zp = int(np.clip(np.round(QMIN - lo / scale), QMIN, QMAX))
    return QuantParams(np.array([scale]), np.array([zp]))


def quantize_values(x: np.ndarray, q: QuantParams, dtype: str = "int8") -> np.ndarray:
    info = np.iinfo(dtype)
    shape = q.broadcast_shape(x.ndim)
    v = np.round(x.astype(np.float64) / q.scale.reshape(shape).astype(np.float64))
    return np.clip(v + q.zero_point.reshape(shape), info.min, info.max).astype(dtype)


def weight_params(w: np.ndarray, axis: int) -> QuantParams:
    """Symmetric per-channel scales along `axis`; an all-zero channel gets scale 1 (its
    weights quantize to 0 whatever the scale, and 1 keeps the bias scale well defined)."""
    other = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.max(np.abs(w), axis=other).astype(np.float64)
    scale = np.where(amax > 0, amax / QMAX, 1.0)
    return QuantParams(scale, np.zeros_like(scale, dtype=np.int64), axis=axis)


def bias_values(
    b: np.ndarray, input_scale: float, weight_scale: np.ndarray
) -> tuple[np.ndarray, QuantParams]:
    scale = np.float64(np.float32(input_scale)) * weight_scale.astype(np.float32).astype(np.float64)
    q = np.clip(np.round(b.astype(np.float64) / scale), -(2**31), 2**31 - 1).astype(np.int32)
    return q, QuantParams(scale, np.zeros_like(scale, dtype=np.int64), axis=0)
