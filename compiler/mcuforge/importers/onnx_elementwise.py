"""ONNX converters of the elementwise-math ops (same conventions as `onnx_ops`: one function per
ONNX op, named like it, inputs positionally, attributes as keywords): unary math, Max/Min, Div,
Softmax/LogSoftmax over any axis and with the opset < 13 meaning, LpNormalization (p=2).
`onnx_ops.TABLE` registers them.
"""

from __future__ import annotations

import numpy as np

import mcuforge.importers.onnx_ops as onnx_ops
from mcuforge.importers.onnx_builder import Builder, Operand, Value, identity


def Abs(b: Builder, x: Operand) -> Value:
    return b.unary("ABS", x)


def Neg(b: Builder, x: Operand) -> Value:
    return b.unary("NEG", x)


def Exp(b: Builder, x: Operand) -> Value:
    return b.unary("EXP", x)


def Log(b: Builder, x: Operand) -> Value:
    return b.unary("LOG", x)


def Sqrt(b: Builder, x: Operand) -> Value:
    return b.unary("SQRT", x)


def Softplus(b: Builder, x: Operand) -> Value:
    return b.unary("SOFTPLUS", x)


def Erf(b: Builder, x: Operand) -> Value:
    """Kept for the GELU it usually belongs to (passes/fuse_gelu.py); alone it is a table too."""
    return b.unary("ERF", x)


def Pow(b: Builder, x: Operand, y: Operand) -> Value:
    exponent = np.unique(b.need_const(y, "exponent").astype(np.float64))
    if exponent.size != 1:
        raise b.fail(f"the exponent must be one constant value, got {exponent.tolist()[:4]}")
    return b.unary("POW", x, {"exponent": float(exponent[0])})


def HardSigmoid(b: Builder, x: Operand, *, alpha: float = 0.2, beta: float = 0.5) -> Value:
    return b.unary("HARD_SIGMOID", x, {"alpha": float(alpha), "beta": float(beta)})


def Gelu(b: Builder, x: Operand, *, approximate: str = "none") -> Value:
    if approximate not in ("none", "tanh"):
        raise b.fail(f"approximate='{approximate}' is not defined; use 'none' or 'tanh'")
    return b.unary("GELU", x, {"approximate": approximate == "tanh"})


def Elu(b: Builder, x: Operand, *, alpha: float = 1.0) -> Value:
    return b.unary("ELU", x, {"alpha": float(alpha)})


def _variadic(b: Builder, kind: str, xs: tuple[Operand, ...]) -> Operand:
    if not any(isinstance(v, Value) for v in xs):
        raise b.fail("every input is a constant")
    out: Operand = xs[0]
    for v in xs[1:]:
        out = onnx_ops._binary(b, kind, out, v)
    return out


def Max(b: Builder, *xs: Operand) -> Operand:
    return _variadic(b, "MAXIMUM", xs)


def Min(b: Builder, *xs: Operand) -> Operand:
    return _variadic(b, "MINIMUM", xs)


def Div(b: Builder, a: Operand, c: Operand) -> Value:
    """A constant divisor becomes MUL by its float32 reciprocal: the float result moves by at
    most one float32 rounding, and a scalar reciprocal quantizes to an exact int8 code. A
    divisor computed at run time is DIV (TFLite Micro's int8 kernel)."""
    if isinstance(c, np.ndarray):
        return onnx_ops._binary(b, "MUL", a, np.asarray(np.float32(1.0) / c.astype(np.float32)))
    return onnx_ops._binary(b, "DIV", a, c)


def _last_axis(b: Builder, kind: str, x: Operand, axis: int | None, attrs: dict) -> Value:
    """`kind` over ONNX axis `axis`: from opset 13 that one axis (moved last by a transpose
    when needed); before 13, ONNX flattens the input to 2-D at `axis` (default 1) and
    normalizes over the second dimension, which is a reshape around a last-axis op."""
    v = b.runtime(x)
    if axis is None:
        axis = -1 if b.opset >= 13 else 1
    if not -v.rank <= axis < v.rank:
        raise b.fail(f"axis {axis} is out of range for rank {v.rank}")
    axis %= v.rank
    if b.opset < 13 and axis != v.rank - 1:
        shape = b.onnx_shape(v)
        v = b.as_layout(v, identity(v.rank))
        t = b.tensor(v)
        flat_shape = [int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))]
        flat = b.emit("RESHAPE", [v.name], {"shape": flat_shape}, identity(2), "flat", t.dtype, t.quant)
        y = b.emit(kind, [flat.name], attrs, identity(2), kind.lower(), t.dtype)
        return b.reshape(y, shape)
    if v.perm.index(axis) != v.rank - 1:
        v = b.as_layout(v, (*(a for a in range(v.rank) if a != axis), axis))
    return b.emit(kind, [v.name], attrs, v.perm)


def Softmax(b: Builder, x: Operand, *, axis: int | None = None) -> Value:
    return _last_axis(b, "SOFTMAX", x, axis, {"beta": 1.0})


def LogSoftmax(b: Builder, x: Operand, *, axis: int | None = None) -> Value:
    return _last_axis(b, "LOG_SOFTMAX", x, axis, {})


def LpNormalization(b: Builder, x: Operand, *, axis: int = -1, p: int = 2) -> Value:
    if p != 2:
        raise b.fail(f"p={p} is not supported, only p=2 (L2_NORMALIZATION)")
    v = b.runtime(x)
    axis %= v.rank
    if v.perm.index(axis) != v.rank - 1:
        v = b.as_layout(v, (*(a for a in range(v.rank) if a != axis), axis))
    return b.emit("L2_NORMALIZATION", [v.name], {"axis": -1, "epsilon": 0.0}, v.perm)


ELEMENTWISE_TABLE = {f.__name__: f for f in (
    Abs, Neg, Exp, Log, Sqrt, Erf, Softplus, Pow, HardSigmoid, Gelu, Elu, Max, Min, Div, Softmax, LogSoftmax,
    LpNormalization,
)}
