"""TFLite's int16 (16x8 mode) SOFTMAX, LOGISTIC and TANH: interpolated lookup tables instead of
gemmlowp fixed point (issue 11). The C kernels (mf_softmax_s16, mf_logistic_s16, mf_tanh_s16)
take the tables the host builds here, so the definitions live in one place.

  - SOFTMAX (TFLM softmax_common.cc, reference SoftmaxInt16): x - row max is scaled by
    input_scale * beta / (10 / 65535) so that [-65535, 0] spans [-10, 0], recentred by +32767,
    and looked up in a 513-entry exp table over [-10, 0] (Q0.15); the row sum (Q16.15) is
    normalised by its leading zeros and looked up in a 1 / (1 + x) table over [0, 1]; each exp
    times that reciprocal, rounded right by 31 - leading zeros, clamped to [0, 32767].
  - Both tables come from TFLite's gen_lut in float32: a sample per step of (max - min) / 512
    with half the interpolation error at the step's midpoint taken off, plus the value at max.
    The lookup takes 9 index bits and interpolates the low 7.
  - LOGISTIC and TANH (TFLM logistic_common.cc / TFLite's tanh prepare, reference integer_ops
    Logistic and Tanh): the input is brought to the table's scale 1 / (3 * 4096) by an integer
    multiplier and a rounding right shift, then the 256-entry sigmoid(i / 24) table of
    ops/lstm.py is interpolated on |x| (9 fraction bits for sigmoid, 8 for tanh, since
    tanh(x) = 2 sigmoid(2x) - 1), the sign folded back, output Q0.15.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcuforge.ops.lstm import SIGMOID_TABLE

LUT_SIZE = 513
F32 = np.float32


def _round(v: np.float32) -> np.float32:
    """TfLiteRound in float: half away from zero."""
    return F32(np.sign(v) * np.floor(np.abs(v) + F32(0.5)))


def gen_lut(func: Callable[[np.float32], np.float32], in_min: float, in_max: float,
            out_min: float, out_max: float) -> np.ndarray:
    """TFLite's gen_lut<float, int16_t, int16_t>: 513 int16 values, every step in float32."""
    steps = 512
    lo, hi = F32(in_min), F32(in_max)
    step = F32((hi - lo) / F32(steps))
    half = F32(step / F32(2))
    inv = F32(F32(65536) / F32(F32(out_max) - F32(out_min)))
    lut = np.zeros(LUT_SIZE, np.int64)
    for i in range(steps):
        at = F32(lo + F32(F32(i) * step))
        val = func(at)
        mid = func(F32(at + half))
        nxt = func(F32(lo + F32(F32(i + 1) * step)))
        sample = _round(F32(val * inv))
        interp = _round(F32(F32(F32(nxt * inv) + sample) / F32(2)))
        err = F32(interp - _round(F32(mid * inv)))
        bias = _round(F32(err / F32(2)))
        lut[i] = int(np.clip(F32(sample - bias), -32768, 32767))
    lut[steps] = int(np.clip(_round(F32(func(hi) * inv)), -32768, 32767))
    return lut.astype(np.int16)


def _exp(v: np.float32) -> np.float32:
    return F32(np.exp(np.float64(v)))  # expf, correctly rounded


def _one_over_one_plus(v: np.float32) -> np.float32:
    return F32(F32(1) / F32(F32(1) + v))


EXP_LUT = gen_lut(_exp, -10.0, 0.0, -1.0, 1.0)
RECIPROCAL_LUT = gen_lut(_one_over_one_plus, 0.0, 1.0, -1.0, 1.0)


def lut_lookup(value: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """TFLite's int16 table lookup with interpolation: index 256 + (v >> 7), 7 fraction bits."""
    v = np.asarray(value, np.int64)
    table = lut.astype(np.int64)
    index = 256 + (v >> 7)
    base = table[index]
    slope = ((table[index + 1] - base + 32768) & 0xFFFF) - 32768  # int16 difference
    out = base + ((slope * (v & 0x7F) + 64) >> 7)
    return ((out + 32768) & 0xFFFF) - 32768


def softmax_params(input_scale: float, beta: float) -> tuple[int, int]:
    """(input_multiplier, input_left_shift): input_scale * beta / (10 / 65535), QuantizeMultiplier."""
    from mcuforge.reference import qmath

    real = float(np.float32(input_scale)) * float(np.float32(beta)) / (10.0 / 65535.0)
    return qmath.quantize_multiplier(real)


def softmax_s16(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """TFLM's SoftmaxInt16 over the last axis, output Q0.15 (scale 1/32768, zero point 0)."""
    from mcuforge.reference import qmath

    v = np.asarray(x, np.int64)
    diff = v - v.max(axis=-1, keepdims=True)
    scaled = qmath.multiply_by_quantized_multiplier(diff, multiplier, shift)
    exps = lut_lookup(np.clip(scaled + 32767, -32768, 32767), EXP_LUT)
    total = exps.sum(axis=-1, keepdims=True)
    clz = 32 - np.frexp(total.astype(np.float64))[1].astype(np.int64)  # CountLeadingZeros; total >= 1
    shifted = ((total << (clz - 1)) + (1 << 13)) >> 14
    recip = lut_lookup(np.clip(shifted - ((1 << 15) + (1 << 16)), -32768, 32767), RECIPROCAL_LUT)
    right = 31 - clz
    y = (exps * recip + (np.int64(1) << (right - 1))) >> right
    return np.clip(y, 0, 32767).astype(np.int16)


def activation_params(input_scale: float, tanh: bool) -> tuple[int, int]:
    """(input_multiplier, input_left_shift) of TFLite's int16 LOGISTIC / TANH prepare: a power-of-two
    input scale of 2**-12 (TANH also 2**-11) gives multiplier 3 << shift and no shift; any other
    scale an integer multiplier of scale * 3 * 4096 doubled until above 32767 / 2."""
    scale = float(np.float32(input_scale))
    # TFLite's CheckedLog2, in float: a power of two when log2 is within 1e-3 of an integer.
    log2 = F32(F32(np.log(F32(scale))) * F32(F32(1) / F32(np.log(F32(2)))))
    rounded = _round(log2)
    pot = abs(float(F32(log2 - rounded))) < 1e-3
    shift = 12 + int(rounded)
    if pot and (shift == 0 or (tanh and shift == 1)):
        return 3 << shift, 0
    multiplier, shift = scale * 4096.0 * 3.0, 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    return int(multiplier), shift


def _scaled(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    rounding = (1 << (shift - 1)) if shift > 0 else 0
    return (np.asarray(x, np.int64) * multiplier + rounding) >> shift


def logistic_s16(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """TFLite's int16 Logistic: output Q0.15."""
    v = _scaled(x, multiplier, shift)
    a = np.abs(v)
    uh = a >> 9
    idx = np.minimum(uh, 254)
    ua, ub = SIGMOID_TABLE[idx], SIGMOID_TABLE[idx + 1]
    r = np.where(uh >= 255, 0x7FFF << 10, (ua << 9) + (a & 0x1FF) * (ub - ua))
    r = np.where(v >= 0, r + (1 << 9), (1 << 25) - r + (1 << 9) - 1)
    return (r >> 10).astype(np.int16)


def tanh_s16(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """TFLite's int16 Tanh: output Q0.15."""
    v = _scaled(x, multiplier, shift)
    a = np.abs(v)
    uh = a >> 8
    idx = np.minimum(uh, 254)
    ua, ub = SIGMOID_TABLE[idx], SIGMOID_TABLE[idx + 1]
    r = np.where(uh >= 255, 0xFFFF << 8, (ua << 8) + (a & 0xFF) * (ub - ua))
    r = np.where(v >= 0, r - (1 << 23) + (1 << 7), -r + (1 << 23) + (1 << 7) - 1)
    return (r >> 8).astype(np.int16)
