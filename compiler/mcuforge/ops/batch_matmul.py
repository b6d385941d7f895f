"""BATCH_MATMUL: a batch of matrix products of two run-time tensors. attrs: adj_x, adj_y.

Shapes: lhs (..., M, K), or (..., K, M) with adj_x; rhs (..., K, N), or (..., N, K) with adj_y;
out (..., M, N). Ranks 2 to 4 in the C runtime. The batch axes (all but the last two) broadcast as
in numpy after the lower-rank operand is padded with leading 1s: each pair of batch sizes is equal
or one of them is 1 (TFLite's BatchMatMul and ONNX MatMul alike).

Integer definition, TFLite Micro's int8 BatchMatMul (kernels/batch_matmul.cc with the reference
kernel it calls): out = clamp(zp_out + MultiplyByQuantizedMultiplier(sum_k (lhs - zp_lhs) *
(rhs - zp_rhs), M, shift), -128, 127) with (M, shift) from lhs_scale * rhs_scale / out_scale in
double, per-tensor quantization, no fused activation. The sum is exact in int32. In 16x8 mode
(int16 operands, zero points 0) the sums are int64 and the requantization TFLite's int64
MultiplyByQuantizedMultiplier; the C runtime runs the int8 form only.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import INT_RANGES
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import (
    multiply_by_quantized_multiplier_int64,
    quantize_multiplier,
    requantize,
)


def _matrix(shape: Shape, adjoint: bool) -> tuple[int, int]:
    """(rows, cols) of an operand as it takes part in the product."""
    r, c = shape[-2], shape[-1]
    return (c, r) if adjoint else (r, c)


def batch_dims(a: Shape, b: Shape) -> Shape:
    """The broadcast batch axes of two operands (ValueError when they do not broadcast)."""
    rank = max(len(a), len(b))
    pa = (1,) * (rank - len(a)) + tuple(a[:-2])
    pb = (1,) * (rank - len(b)) + tuple(b[:-2])
    out = []
    for x, y in zip(pa[: rank - 2], pb[: rank - 2]):
        if x != y and 1 not in (x, y):
            raise ValueError(f"batch axes {tuple(a[:-2])} and {tuple(b[:-2])} do not broadcast")
        out.append(max(x, y))
    return tuple(out)


def batch_matmul_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    a, b = ins[0], ins[1]
    assert a is not None and b is not None
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"operands need rank >= 2, got {a} and {b}")
    m, ka = _matrix(a, bool(op.attrs["adj_x"]))
    kb, n = _matrix(b, bool(op.attrs["adj_y"]))
    if ka != kb:
        raise ValueError(f"inner dimensions differ: {a} (adj_x={op.attrs['adj_x']}) times {b} "
                         f"(adj_y={op.attrs['adj_y']})")
    return [(*batch_dims(a, b), m, n)]


def _operands(ctx: Ctx, xs: Arrays) -> tuple[np.ndarray, np.ndarray]:
    a, b = xs[0], xs[1]
    if ctx.op.attrs["adj_x"]:
        a = np.swapaxes(a, -1, -2)
    if ctx.op.attrs["adj_y"]:
        b = np.swapaxes(b, -1, -2)
    return a, b


def batch_matmul_float(ctx: Ctx, xs: Arrays) -> Arrays:
    a, b = _operands(ctx, xs)
    return [np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(np.float32)]


def batch_matmul_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLite Micro's int8 BatchMatMul (see the module docstring)."""
    (sa, za), (sb, zb), (so, zo) = ctx.in_quant(0), ctx.in_quant(1), ctx.out_quant()
    a, b = _operands(ctx, xs)
    # Exact: float64 holds every partial sum of int8 products over any realistic depth.
    acc = np.matmul(a.astype(np.float64) - za, b.astype(np.float64) - zb)
    multiplier, shift = quantize_multiplier(float(sa) * float(sb) / float(so))
    dtype = ctx.outs[0].dtype
    lo, hi = INT_RANGES[dtype]
    total = np.rint(acc).astype(np.int64)
    if dtype == "int16":  # int64 sums and TFLite's int64 MultiplyByQuantizedMultiplier
        scaled = multiply_by_quantized_multiplier_int64(total, multiplier, shift)
        return [np.clip(scaled + zo, lo, hi).astype(dtype)]
    return [requantize(total, multiplier, shift, zo, lo, hi).astype(dtype)]


def batch_matmul_macs(op: Op, ins: list[Shape | None], outs: list[Shape]) -> int:
    a = ins[0]
    assert a is not None
    return int(np.prod(outs[0])) * _matrix(a, bool(op.attrs["adj_x"]))[1]


BATCH_MATMUL = register(OpDef(
    kind="BATCH_MATMUL", shape=batch_matmul_shape, ref_float=batch_matmul_float,
    ref_int=batch_matmul_int, macs=batch_matmul_macs, num_inputs=(2, 2), attrs=("adj_x", "adj_y"),
    doc="batched matrix product of two tensors (attention scores, attention-weighted values)",
    data_operands=True, int16=True,
))
