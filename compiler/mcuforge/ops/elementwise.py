"""ADD, SUB, MUL: numpy broadcasting over NHWC tensors, fused activation. attrs: activation.

Quantized ADD and SUB follow TFLite's scheme: both inputs are shifted left (20 bits for int8, 15
for int16), brought to a common scale of twice the larger input scale, summed, and requantized.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import apply_activation, quantized_activation_range
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import multiply_by_quantized_multiplier, quantize_multiplier, requantize

LEFT_SHIFT = {"int8": 20, "int16": 15}


def broadcast_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    a, b = ins[0], ins[1]
    assert a is not None and b is not None
    try:
        return [tuple(np.broadcast_shapes(a, b))]
    except ValueError:
        raise ValueError(f"{op.kind} '{op.name}': shapes {a} and {b} do not broadcast") from None


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[[Ctx, Arrays], Arrays]:
    def ref(ctx: Ctx, xs: Arrays) -> Arrays:
        y = fn(xs[0], xs[1]).astype(np.float32)
        return [apply_activation(y, ctx.op.attrs["activation"])]

    return ref


def add_reals(s1: float, s2: float, so: float, left_shift: int) -> tuple[float, float, float]:
    """ADD's three real multipliers, computed in double as TFLM's add_common.cc does."""
    twice_max = 2.0 * max(s1, s2)
    return s1 / twice_max, s2 / twice_max, twice_max / ((1 << left_shift) * so)


def sub_reals(s1: float, s2: float, so: float, left_shift: int) -> tuple[float, float, float]:
    """SUB's three real multipliers: TFLM's sub_common.cc divides in float32, not double, which
    can move the 31-bit multipliers by one."""
    f1, f2, fo = np.float32(s1), np.float32(s2), np.float32(so)
    twice_max = np.float32(2) * max(f1, f2)
    return float(f1 / twice_max), float(f2 / twice_max), float(twice_max / (np.float32(1 << left_shift) * fo))


def _add_sub_int(ctx: Ctx, xs: Arrays, sign: int) -> Arrays:
    (s1, z1), (s2, z2), (so, zo) = ctx.in_quant(0), ctx.in_quant(1), ctx.out_quant()
    out = ctx.outs[0]
    left_shift = LEFT_SHIFT[out.dtype]
    reals = (add_reals if sign > 0 else sub_reals)(s1, s2, so, left_shift)
    (m1, e1), (m2, e2), (mo, eo) = (quantize_multiplier(r) for r in reals)
    a = multiply_by_quantized_multiplier((xs[0].astype(np.int64) - z1) << left_shift, m1, e1)
    b = multiply_by_quantized_multiplier((xs[1].astype(np.int64) - z2) << left_shift, m2, e2)
    lo, hi = quantized_activation_range(ctx.op.attrs["activation"], so, zo, out.dtype)
    return [requantize(a + sign * b, mo, eo, zo, lo, hi).astype(out.dtype)]


def add_int(ctx: Ctx, xs: Arrays) -> Arrays:
    return _add_sub_int(ctx, xs, 1)


def sub_int(ctx: Ctx, xs: Arrays) -> Arrays:
    return _add_sub_int(ctx, xs, -1)


def mul_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """(a - a_zp) * (b - b_zp) requantized by a_scale * b_scale / out_scale (double)."""
    (s1, z1), (s2, z2), (so, zo) = ctx.in_quant(0), ctx.in_quant(1), ctx.out_quant()
    out = ctx.outs[0]
    multiplier, shift = quantize_multiplier(s1 * s2 / so)
    acc = (xs[0].astype(np.int64) - z1) * (xs[1].astype(np.int64) - z2)
    lo, hi = quantized_activation_range(ctx.op.attrs["activation"], so, zo, out.dtype)
    return [requantize(acc, multiplier, shift, zo, lo, hi).astype(out.dtype)]


ADD = register(OpDef(
    kind="ADD", shape=broadcast_shape, ref_float=_binary(np.add), ref_int=add_int, num_inputs=(2, 2),
    attrs=("activation",), int16=True, doc="elementwise a + b",
    fused_activation=True, data_operands=True,
))
SUB = register(OpDef(
    kind="SUB", shape=broadcast_shape, ref_float=_binary(np.subtract), ref_int=sub_int, num_inputs=(2, 2),
    attrs=("activation",), int16=True, doc="elementwise a - b",
    fused_activation=True, data_operands=True,
))
MUL = register(OpDef(
    kind="MUL", shape=broadcast_shape, ref_float=_binary(np.multiply), ref_int=mul_int, num_inputs=(2, 2),
    attrs=("activation",), int16=True, doc="elementwise a * b",
    fused_activation=True, data_operands=True,
))
