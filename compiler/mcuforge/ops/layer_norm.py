"""LAYER_NORM: normalization over the last axis with per-channel gamma and beta (ONNX
LayerNormalization with axis = -1, PyTorch nn.LayerNorm over the last dim). attrs: epsilon,
gamma, beta (tuples of floats, one per channel of the last axis).

Float: (x - mean) / sqrt(var + epsilon) * gamma + beta, the variance biased (divided by C).

Integer definition (mcuforge's own: TFLite has no fused int8 layer norm; its decomposition loses
too much in int8). int8 in, int8 out, int32/int64 arithmetic, rounding half away from zero; C is
the channel count, per row:
    d_i = x_i - x_zp;   c_i = C * d_i - sum_j d_j                 exact, C * (x_i - mean)
    v   = sum_i c_i^2 + E,   E = round(epsilon * C^3 / x_scale^2)  int64 (v = C^3 * (var + eps))
    k   = the number of bit pairs that bring v into [2^60, 2^62);  s = isqrt(v * 4^k)
    r   = round(2^62 / s);   z_i = round(c_i * r / 2^(32 - k))     z_i = c_i / sqrt(v) in Q30
    y_i = round((MBQM(z_i, M_i, S_i) + B_i) / 256) + out_zp, saturated to int8,
where MBQM is TFLite's MultiplyByQuantizedMultiplier, (M_i, S_i) represent
gamma_i * sqrt(C) / out_scale * 2^-22 (the result in 1/256 output steps) and
B_i = round(beta_i / out_scale * 256). The C kernel mf_layer_norm_s8 does exactly this.
"""

from __future__ import annotations

import math

import numpy as np

from mcuforge.ops.common import same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import multiply_by_quantized_multiplier, quantize_multiplier

MAX_DEPTH = 4096
BIAS_BITS = 8


def _round_shift(x: np.ndarray, n: int) -> np.ndarray:
    half = np.int64(1) << (n - 1)
    return np.where(x >= 0, (x + half) >> n, -((-x + half) >> n))


def layer_norm_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x = xs[0].astype(np.float32)
    a = ctx.op.attrs
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    y = (x - mean) / np.sqrt(var + np.float32(a["epsilon"]))
    return [(y * np.asarray(a["gamma"], np.float32) + np.asarray(a["beta"], np.float32)).astype(np.float32)]


def layer_norm_constants(ctx: Ctx, depth: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """E, and per channel M, S, B of the definition above."""
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"LAYER_NORM '{ctx.op.name}': {depth} channels; "
                         f"the int8 kernel takes 1..{MAX_DEPTH}")
    (x_scale, _), (out_scale, _) = ctx.in_quant(), ctx.out_quant()
    a = ctx.op.attrs
    eps = round(float(a["epsilon"]) * depth**3 / float(x_scale) ** 2)
    eps = min(eps, 1 << 60)
    mults, shifts = [], []
    for g in np.asarray(a["gamma"], np.float64).reshape(-1):
        real = float(g) * math.sqrt(depth) / float(out_scale) * 2.0 ** (BIAS_BITS - 30)
        m, s = quantize_multiplier(real) if real != 0 else (0, 0)
        if s < -31:  # below what the multiply can represent: the channel is just beta
            m, s = 0, 0
        if s > 0:  # a left shift would wrap in int32
            raise ValueError(f"LAYER_NORM '{ctx.op.name}': gamma {g} too large for the "
                             f"output scale {out_scale}")
        mults.append(m)
        shifts.append(s)
    beta = np.asarray(a["beta"], np.float64).reshape(-1) / float(out_scale) * (1 << BIAS_BITS)
    bias = np.clip(np.sign(beta) * np.floor(np.abs(beta) + 0.5), -(2**31), 2**31 - 1)
    return eps, np.array(mults, np.int64), np.array(shifts, np.int64), bias.astype(np.int64)


def layer_norm_int(ctx: Ctx, xs: Arrays) -> Arrays:
    x = xs[0]
    depth = x.shape[-1]
    (_, x_zp), (_, out_zp) = ctx.in_quant(), ctx.out_quant()
    eps, mult, shift, bias = layer_norm_constants(ctx, depth)
    d = x.reshape(-1, depth).astype(np.int64) - x_zp
    c = depth * d - d.sum(axis=1, keepdims=True)
    v = (c * c).sum(axis=1) + eps
    recip = np.zeros(len(v), np.int64)
    k = np.zeros(len(v), np.int64)
    for r, vr in enumerate(v.tolist()):
        if vr == 0:
            continue
        kr = 0
        while vr < 1 << 60:
            vr <<= 2
            kr += 1
        s = math.isqrt(vr)
        recip[r], k[r] = ((1 << 62) + s // 2) // s, kr
    prod = c * recip[:, None]
    z = np.stack([_round_shift(prod[r], int(32 - k[r])) for r in range(len(v))]) if len(v) else prod
    acc = multiply_by_quantized_multiplier(z, mult, shift) + bias
    y = _round_shift(acc, BIAS_BITS) + out_zp
    return [np.clip(y, -128, 127).astype(np.int8).reshape(x.shape)]


LAYER_NORM = register(OpDef(
    kind="LAYER_NORM", shape=same_shape, ref_float=layer_norm_float, ref_int=layer_norm_int,
    attrs=("epsilon", "gamma", "beta"), doc="layer normalization over the last axis",
))
