"""One-input elementwise math: ABS, NEG, EXP, LOG, SQRT, POW (by a constant), HARD_SIGMOID,
GELU, ELU, ERF, SILU, SOFTPLUS and MISH. Any shape, any layout; the output has the input's shape
and dtype (int8 when quantized, calibrated output quantization).

int8 definitions:
- ABS is TFLite Micro's int8 Abs (elementwise.cc): |x - x_zp|, requantized by
  x_scale / out_scale (double) unless the scales are equal, plus out_zp, clamped.
- NEG has no int8 kernel in TFLite Micro (its Neg is float only); ours is ABS's scheme with the
  sign flipped: -(x - x_zp) requantized the same way.
- ELU is TFLite Micro's int8 Elu (elu.cc): a 256-entry table filled in float32 by dequantizing
  each code, applying the function, multiplying by the float32 reciprocal of the output scale,
  rounding half away from zero and adding the output zero point.
- EXP, LOG, SQRT, POW, HARD_SIGMOID, GELU, SILU, SOFTPLUS, MISH and ERF have no int8 kernel in
  TFLite Micro. EXP, LOG, GELU (and the others, which TFLite has no int8 kernel for) follow the
  float32 table construction of ELU, which is also what TFLite's own int8 EXP, LOG and GELU
  kernels build (checked bit-exact against TFLite's BUILTIN_REF kernels). SQRT follows TFLite's
  int8 Sqrt: float32 square root, divided by the output scale and truncated, not rounded.
  Table functions are evaluated in float64 and rounded to float32 (ELU's in float32, as TFLM
  does), so the table does not depend on a C library's float32 transcendentals.
  Domain edges: LOG and SQRT apply to max(x, 0) (quantization can put a nominally non-negative
  tensor a step below zero), and LOG(0) = -inf gives the lowest code.

With attrs["float_island"] (a DEQUANTIZE -> op -> QUANTIZE that TF's converter left in float, folded
by passes/fold_float_island.py) the int8 reference instead follows TFLite Micro's three float steps.
All of these run as lookup tables in C (the `lut` trait).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.special import erf

from mcuforge.ops.common import INT_RANGES, same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, lookup, register
from mcuforge.reference import qmath

RealFn = Callable[[np.ndarray, dict], np.ndarray]  # float64 values, op attrs -> float64 values


def _float_ref(fn: RealFn) -> Callable[[Ctx, Arrays], Arrays]:
    def ref(ctx: Ctx, xs: Arrays) -> Arrays:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return [fn(xs[0].astype(np.float64), ctx.op.attrs).astype(np.float32)]

    return ref


def float_table_int(fn: RealFn) -> Callable[[Ctx, Arrays], Arrays]:
    """The integer reference of a function applied through TFLite's float32 lookup-table fill
    (TFLM's elu.cc PopulateLookupTable): dequantize, transform, scale, round, add zero point."""

    def ref(ctx: Ctx, xs: Arrays) -> Arrays:
        (x_scale, x_zp), (out_scale, out_zp) = ctx.in_quant(), ctx.out_quant()
        dtype = ctx.outs[0].dtype
        lo, hi = INT_RANGES[dtype]
        real = np.float32(x_scale) * (xs[0].astype(np.int64) - x_zp).astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            transformed = fn(real.astype(np.float64), ctx.op.attrs).astype(np.float32)
            scaled = transformed * (np.float32(1.0) / np.float32(out_scale))
        scaled = np.nan_to_num(scaled.astype(np.float64), nan=-np.inf)
        q = qmath.round_half_away(np.clip(scaled, -1e9, 1e9)) + out_zp
        return [np.clip(q, lo, hi).astype(dtype)]

    return ref


def sqrt_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLite's int8 Sqrt (kernels/elementwise.cc): the square root of the float32 dequantized
    input divided by the output scale in float32 and truncated toward zero (no rounding), plus
    the output zero point. TFLite refuses negative inputs; here they count as zero."""
    (x_scale, x_zp), (out_scale, out_zp) = ctx.in_quant(), ctx.out_quant()
    dtype = ctx.outs[0].dtype
    lo, hi = INT_RANGES[dtype]
    real = np.float32(x_scale) * (xs[0].astype(np.int64) - x_zp).astype(np.float32)
    root = np.sqrt(np.maximum(real, np.float32(0)))
    q = np.trunc((root / np.float32(out_scale)).astype(np.float64)) + out_zp
    return [np.clip(q, lo, hi).astype(dtype)]


def float_island_int(float_ref: Callable[[Ctx, Arrays], Arrays]) -> Callable[[Ctx, Arrays], Arrays]:
    """TFLite Micro's DEQUANTIZE -> float op -> QUANTIZE, which TF's converter writes for ops it
    leaves in float (passes/fold_float_island.py): the input dequantized in double and rounded to
    float32, the op in float32, then round(value / output_scale) in float32 plus the zero point."""

    def ref(ctx: Ctx, xs: Arrays) -> Arrays:
        (x_scale, x_zp), (out_scale, out_zp) = ctx.in_quant(), ctx.out_quant()
        dtype = ctx.outs[0].dtype
        lo, hi = INT_RANGES[dtype]
        real = (float(np.float32(x_scale)) * (xs[0].astype(np.int64) - x_zp)).astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            y = float_ref(ctx, [real])[0].astype(np.float32) / np.float32(out_scale)
        y = np.nan_to_num(y.astype(np.float64), nan=0.0)
        q = qmath.round_half_away(np.clip(y, -1e9, 1e9)) + out_zp
        return [np.clip(q, lo, hi).astype(dtype)]

    return ref


def _with_island(float_ref: Callable[[Ctx, Arrays], Arrays],
                 int_ref: Callable[[Ctx, Arrays], Arrays]) -> Callable[[Ctx, Arrays], Arrays]:
    island = float_island_int(float_ref)

    def ref(ctx: Ctx, xs: Arrays) -> Arrays:
        return (island if ctx.op.attrs.get("float_island") else int_ref)(ctx, xs)

    return ref


def _rescaled_int(sign: int) -> Callable[[Ctx, Arrays], Arrays]:
    """TFLM's int8 ABS (sign 0) and our NEG (sign -1): the centred input, made non-negative or
    negated, requantized by x_scale / out_scale when the scales differ."""

    def ref(ctx: Ctx, xs: Arrays) -> Arrays:
        (x_scale, x_zp), (out_scale, out_zp) = ctx.in_quant(), ctx.out_quant()
        dtype = ctx.outs[0].dtype
        lo, hi = INT_RANGES[dtype]
        d = xs[0].astype(np.int64) - x_zp
        v = np.abs(d) if sign == 0 else -d
        if np.float32(x_scale) != np.float32(out_scale):
            real = float(np.float32(x_scale)) / float(np.float32(out_scale))
            multiplier, shift = qmath.quantize_multiplier(real)
            v = qmath.multiply_by_quantized_multiplier(v, multiplier, shift)
        return [np.clip(v + out_zp, lo, hi).astype(dtype)]

    return ref


SQRT_HALF = 1.0 / math.sqrt(2.0)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x: np.ndarray, attrs: dict) -> np.ndarray:
    """GELU: x * Phi(x) exactly (erf), or the tanh approximation when attrs['approximate']."""
    if attrs.get("approximate", False):
        return 0.5 * x * (1.0 + np.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + erf(x * SQRT_HALF))


def elu(x: np.ndarray, attrs: dict) -> np.ndarray:
    return np.where(x < 0, attrs.get("alpha", 1.0) * np.expm1(np.minimum(x, 0.0)), x)


def elu_table(x: np.ndarray, attrs: dict) -> np.ndarray:
    """In float32 throughout, as TFLM's int8 table fill computes it: alpha * (exp(x) - 1)."""
    xf = x.astype(np.float32)
    neg = np.float32(attrs.get("alpha", 1.0)) * (np.exp(np.minimum(xf, np.float32(0))) - np.float32(1))
    return np.where(xf < 0, neg, xf)


def hard_sigmoid(x: np.ndarray, attrs: dict) -> np.ndarray:
    return np.clip(attrs["alpha"] * x + attrs["beta"], 0.0, 1.0)


def power(x: np.ndarray, attrs: dict) -> np.ndarray:
    return np.power(x, attrs["exponent"])


def _log(x: np.ndarray, attrs: dict) -> np.ndarray:
    return np.log(np.maximum(x, 0.0))


def _sqrt(x: np.ndarray, attrs: dict) -> np.ndarray:
    return np.sqrt(np.maximum(x, 0.0))


def _exp(x: np.ndarray, attrs: dict) -> np.ndarray:
    return np.exp(x)


FUNCTIONS: dict[str, tuple[RealFn, tuple[str, ...], str]] = {
    "EXP": (_exp, (), "e to the x"),
    "ERF": (lambda x, a: erf(x), (), "the error function (alone; inside a GELU it is fused away)"),
    "LOG": (_log, (), "natural logarithm (of max(x, 0) in int8)"),
    "POW": (power, ("exponent",), "x to a constant power; attrs: exponent (float)"),
    "HARD_SIGMOID": (hard_sigmoid, ("alpha", "beta"), "clip(alpha * x + beta, 0, 1); attrs: alpha, beta"),
    "GELU": (gelu, ("approximate",), "Gaussian error linear unit; attrs: approximate (tanh form)"),
    "ELU": (elu, ("alpha",), "x if x >= 0 else alpha * (exp(x) - 1); attrs: alpha"),
    "SILU": (lambda x, a: x / (1.0 + np.exp(-x)), (), "x * sigmoid(x) (Swish), fused from its pieces"),
    "SOFTPLUS": (lambda x, a: np.logaddexp(0.0, x), (), "log(1 + exp(x))"),
    "MISH": (lambda x, a: x * np.tanh(np.logaddexp(0.0, x)), (), "x * tanh(softplus(x)), fused"),
}

TABLE_FUNCTIONS: dict[str, RealFn] = {"ELU": elu_table}  # where the int8 table differs from the float op

for _kind, (_fn, _attrs, _doc) in FUNCTIONS.items():
    _table = float_table_int(TABLE_FUNCTIONS.get(_kind, _fn))
    register(OpDef(kind=_kind, shape=same_shape, ref_float=_float_ref(_fn),
                   ref_int=_with_island(_float_ref(_fn), _table), attrs=_attrs, doc=_doc, lut=True))

ABS = register(OpDef(kind="ABS", shape=same_shape, ref_float=_float_ref(lambda x, a: np.abs(x)),
                     ref_int=_with_island(_float_ref(lambda x, a: np.abs(x)), _rescaled_int(0)),
                     doc="absolute value", lut=True))
SQRT = register(OpDef(kind="SQRT", shape=same_shape, ref_float=_float_ref(_sqrt),
                      ref_int=_with_island(_float_ref(_sqrt), sqrt_int),
                      doc="square root (of max(x, 0) in int8)", lut=True))
NEG = register(OpDef(kind="NEG", shape=same_shape, ref_float=_float_ref(lambda x, a: -x),
                     ref_int=_with_island(_float_ref(lambda x, a: -x), _rescaled_int(-1)),
                     doc="negation", lut=True))

EXP, ERF, LOG, POW, HARD_SIGMOID, GELU, ELU, SILU, SOFTPLUS, MISH = (lookup(k) for k in (
    "EXP", "ERF", "LOG", "POW", "HARD_SIGMOID", "GELU", "ELU", "SILU", "SOFTPLUS", "MISH"))

# Ops whose integer reference knows attrs["float_island"] (TFLite Micro's dequantize, float op,
# quantize; passes/fold_float_island.py folds those islands into them).
FLOAT_ISLAND_KINDS = frozenset(op.kind for op in (NEG, POW, ELU, EXP, LOG, SQRT, ABS, GELU,
                                                  HARD_SIGMOID, ERF))
