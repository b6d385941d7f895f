"""One function per ONNX op, named like the op: inputs positionally (a `Value`, a numpy constant
in the ONNX layout, or None when omitted), ONNX attributes as keyword arguments.

A function returns the op's outputs (a `Value` or a constant each). Ops whose inputs are all
constant never get here: the importer folds them with ONNX's reference evaluator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mcuforge.importers.onnx_builder import (
    Builder,
    Operand,
    Value,
    channels_last,
    identity,
    inverse,
)
from mcuforge.ir.graph import QuantParams

Ints = Sequence[int]
Result = Operand | list[Operand]

# -- window geometry (Conv, pools) -----------------------------------------------------------


def _to_2d(values: Ints, fill: int) -> tuple[int, int]:
    """ONNX 1-D attributes become 2-D with H = 1."""
    v = [int(a) for a in values]
    return (fill, v[0]) if len(v) == 1 else (v[0], v[1])


def _pads(
    b: Builder, x: Value, kernel: Ints, strides: Ints, dilations: Ints, pads: Ints | None, auto_pad: str
) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) in the IR's 2-D geometry."""
    spatial = b.onnx_shape(x)[2:]
    n = len(spatial)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        lo, hi = [], []
        for size, k, s, d in zip(spatial, kernel, strides, dilations):
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, big = total // 2, total - total // 2
            lo.append(small if auto_pad == "SAME_UPPER" else big)
            hi.append(big if auto_pad == "SAME_UPPER" else small)
    elif auto_pad in ("NOTSET", "VALID"):
        p = list(pads) if pads is not None and auto_pad == "NOTSET" else [0] * (2 * n)
        lo, hi = p[:n], p[n:]
    else:
        raise b.fail(f"auto_pad '{auto_pad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
    if min(lo + hi) < 0:
        raise b.fail(f"negative pads {list(lo) + list(hi)} are not supported")
    top, left = _to_2d(lo, 0)
    bottom, right = _to_2d(hi, 0)
    return (top, left, bottom, right)


def _window(
    b: Builder, x: Value, kernel: Ints, strides: Ints | None, dilations: Ints | None,
    pads: Ints | None, auto_pad: str,
) -> dict[str, Any]:
    n = len(kernel)
    if n not in (1, 2) or x.rank != n + 2:
        raise b.fail(f"only 1-D and 2-D windows over rank 3/4 inputs, got kernel {list(kernel)} "
                     f"over {b.onnx_shape(x)}")
    strides = strides or [1] * n
    dilations = dilations or [1] * n
    return {
        "strides": _to_2d(strides, 1),
        "dilations": _to_2d(dilations, 1),
        "pads": _pads(b, x, kernel, strides, dilations, pads, auto_pad),
        "kernel": _to_2d(kernel, 1),
    }


def _spatial_in(b: Builder, x: Value) -> str:
    """The IR NHWC tensor a 2-D kernel reads; a 1-D (N, C, W) tensor becomes (N, 1, W, C)."""
    v = b.as_layout(x, channels_last(x.rank))
    if x.rank == 4:
        return v.name
    n, w, c = b.ir_shape(v)
    return b.emit("RESHAPE", [v.name], {"shape": [n, 1, w, c]}, (0, 1, 2, 3), "nhwc").name


def _spatial_op(b: Builder, kind: str, inputs: list[str], attrs: dict[str, Any], rank: int) -> Value:
    if rank == 4:
        return b.emit(kind, inputs, attrs, channels_last(4))
    y = b.emit(kind, inputs, attrs, (0, 1, 2, 3), kind.lower())
    n, _, w, c = b.ir_shape(y)
    return b.emit("RESHAPE", [y.name], {"shape": [n, w, c]}, channels_last(3))


# -- convolution and dense ---------------------------------------------------------------------


def Conv(
    b: Builder, x: Operand, w: Operand, bias: Operand = None, *, auto_pad: str = "NOTSET",
    dilations: Ints | None = None, group: int = 1, kernel_shape: Ints | None = None,
    pads: Ints | None = None, strides: Ints | None = None,
) -> Value:
    x, w = b.runtime(x), b.need_const(w, "weights")
    c_in = b.onnx_shape(x)[1]
    if x.rank != w.ndim or w.shape[1] * group != c_in:
        raise b.fail(f"weights {list(w.shape)} with group={group} do not fit input "
                     f"{list(b.onnx_shape(x))} (weight channels x group must equal input channels)")
    geometry = _window(b, x, w.shape[2:], strides, dilations, pads, auto_pad)
    del geometry["kernel"]
    w4 = w if w.ndim == 4 else w[:, :, None, :]
    inputs = [_spatial_in(b, x)]
    if group == 1:
        kind, attrs = "CONV_2D", {}
        inputs.append(b.weight(1, w4.transpose(0, 2, 3, 1), 0, "weights"))
    elif group == c_in:
        kind, attrs = "DEPTHWISE_CONV_2D", {"depth_multiplier": w.shape[0] // c_in}
        inputs.append(b.weight(1, w4.transpose(1, 2, 3, 0), 3, "weights"))
    else:
        raise b.fail(f"grouped convolution (group={group}, {c_in} input channels) is not supported; "
                     "only group=1 and depthwise (group = input channels)")
    if bias is not None:
        inputs.append(b.weight(2, b.need_const(bias, "bias"), 0, "bias"))
    return _spatial_op(b, kind, inputs, {**geometry, **attrs, "activation": "NONE"}, x.rank)


def _fc(b: Builder, a: Value, w: np.ndarray, bias: np.ndarray | None) -> Value:
    a = b.as_layout(a, identity(a.rank))
    inputs = [a.name, b.weight(1, w, 0, "weights")]
    if bias is not None:
        inputs.append(b.weight(2, bias, 0, "bias"))
    return b.emit("FULLY_CONNECTED", inputs, {"activation": "NONE"}, a.perm)


def Gemm(
    b: Builder, a: Operand, w: Operand, c: Operand = None, *, alpha: float = 1.0, beta: float = 1.0,
    transA: int = 0, transB: int = 0,
) -> Value:
    a, w = b.runtime(a), b.need_const(w, "second input (B)")
    if transA:
        a = b.as_layout(a, (1, 0))
    weights = (w if transB else w.T) * np.float32(alpha)
    if alpha != 1.0 and b.node.input[1] in b.qconsts:
        raise b.fail(f"alpha={alpha} with quantized weights is not supported")
    bias = None
    if c is not None:
        c = b.need_const(c, "third input (C)")
        if c.size not in (1, weights.shape[0]) or (c.ndim == 2 and c.shape[0] != 1):
            raise b.fail(f"bias C {list(c.shape)} must broadcast to one row of {weights.shape[0]}")
        bias = np.broadcast_to(c.reshape(-1) * np.float32(beta), (weights.shape[0],))
    return _fc(b, a, weights, bias)


def MatMul(b: Builder, a: Operand, w: Operand) -> Value:
    a, w = b.runtime(a), b.need_const(w, "second input")
    if w.ndim != 2 or a.rank < 2:
        raise b.fail(f"only (..., K) x (K, N) with a constant 2-D second input, got {list(w.shape)}")
    return _fc(b, a, w.T, None)


# -- elementwise -------------------------------------------------------------------------------


def _binary(b: Builder, kind: str, a: Operand, c: Operand) -> Value:
    runtime = [v for v in (a, c) if isinstance(v, Value)]
    rank = max(v.rank if isinstance(v, Value) else v.ndim for v in (a, c))
    full = [v for v in runtime if v.rank == rank]
    # Follow a channels-last operand so conv-net tensors need no transposes.
    perm = next((v.perm for v in full if v.perm != identity(rank)), identity(rank))
    names = [b.aligned(v, rank, perm, f"in{i}") for i, v in enumerate((a, c))]
    return b.emit(kind, names, {"activation": "NONE"}, perm)


def Add(b: Builder, a: Operand, c: Operand) -> Value:
    return _binary(b, "ADD", a, c)


def Sub(b: Builder, a: Operand, c: Operand) -> Value:
    return _binary(b, "SUB", a, c)


def Mul(b: Builder, a: Operand, c: Operand) -> Value:
    return _binary(b, "MUL", a, c)


def Div(b: Builder, a: Operand, c: Operand) -> Value:
    divisor = b.need_const(c, "divisor")
    return _binary(b, "MUL", a, (np.float32(1.0) / divisor.astype(np.float32)))


def Relu(b: Builder, x: Operand) -> Value:
    return b.unary("CLAMP", x, {"min": 0.0, "max": float("inf")})


def Clip(
    b: Builder, x: Operand, lo: Operand = None, hi: Operand = None, *,
    min: float = -float("inf"), max: float = float("inf"),  # attributes before opset 11
) -> Value:
    if lo is not None:
        min = float(b.need_const(lo, "min"))
    if hi is not None:
        max = float(b.need_const(hi, "max"))
    return b.unary("CLAMP", x, {"min": float(min), "max": float(max)})


def LeakyRelu(b: Builder, x: Operand, *, alpha: float = 0.01) -> Value:
    return b.unary("LEAKY_RELU", x, {"alpha": float(alpha)})


def PRelu(b: Builder, x: Operand, slope: Operand) -> Value:
    v = b.runtime(x)
    alpha = b.aligned(b.need_const(slope, "slope"), v.rank, v.perm, "slope")
    return b.emit("PRELU", [v.name, alpha], {}, v.perm)


def Sigmoid(b: Builder, x: Operand) -> Value:
    return b.unary("LOGISTIC", x)


def Tanh(b: Builder, x: Operand) -> Value:
    return b.unary("TANH", x)


def HardSwish(b: Builder, x: Operand) -> Value:
    return b.unary("HARD_SWISH", x)


def Softmax(b: Builder, x: Operand, *, axis: int | None = None) -> Value:
    v = b.runtime(x)
    if axis is None:
        axis = -1 if b.opset >= 13 else 1
    axis %= v.rank
    if b.opset < 13 and axis != v.rank - 1:
        raise b.fail(f"opset {b.opset} Softmax flattens from axis {axis}; only the last axis is supported")
    if v.perm.index(axis) != v.rank - 1:
        v = b.as_layout(v, (*(a for a in range(v.rank) if a != axis), axis))
    return b.emit("SOFTMAX", [v.name], {"beta": 1.0}, v.perm)


def BatchNormalization(
    b: Builder, x: Operand, scale: Operand, bias: Operand, mean: Operand, var: Operand, *,
    epsilon: float = 1e-5, momentum: float = 0.9, training_mode: int = 0,
) -> Value:
    v = b.runtime(x)
    if training_mode:
        raise b.fail("training_mode=1 is not supported; export the model in inference mode")
    if v.perm.index(1) != v.rank - 1:
        v = b.as_layout(v, channels_last(v.rank))
    params = [b.const(b.need_const(p, n), n) for p, n in
              ((scale, "scale"), (bias, "bias"), (mean, "mean"), (var, "var"))]
    return b.emit("BATCH_NORM", [v.name, *params], {"epsilon": float(epsilon)}, v.perm)


# -- pooling and reductions --------------------------------------------------------------------


def _pool(
    b: Builder, kind: str, x: Operand, kernel_shape: Ints, strides: Ints | None, pads: Ints | None,
    auto_pad: str, ceil_mode: int,
) -> Value:
    v = b.runtime(x)
    geometry = _window(b, v, kernel_shape, strides, None, pads, auto_pad)
    del geometry["dilations"]
    if ceil_mode:
        raise b.fail("ceil_mode=1 is not supported; export with ceil_mode=0 or explicit pads")
    return _spatial_op(b, kind, [_spatial_in(b, v)], {**geometry, "activation": "NONE"}, v.rank)


def MaxPool(
    b: Builder, x: Operand, *, kernel_shape: Ints, strides: Ints | None = None, pads: Ints | None = None,
    auto_pad: str = "NOTSET", ceil_mode: int = 0, dilations: Ints | None = None, storage_order: int = 0,
) -> Value:
    if len(b.node.output) > 1 and b.node.output[1]:
        raise b.fail("the Indices output is not supported")
    if dilations is not None and any(d != 1 for d in dilations):
        raise b.fail(f"dilations {list(dilations)} are not supported for pooling")
    return _pool(b, "MAX_POOL_2D", x, kernel_shape, strides, pads, auto_pad, ceil_mode)


def AveragePool(
    b: Builder, x: Operand, *, kernel_shape: Ints, strides: Ints | None = None, pads: Ints | None = None,
    auto_pad: str = "NOTSET", ceil_mode: int = 0, count_include_pad: int = 0, dilations: Ints | None = None,
) -> Value:
    if count_include_pad and (any(pads or []) or auto_pad.startswith("SAME")):
        raise b.fail("count_include_pad=1 with padding is not supported (padded cells are never counted)")
    if dilations is not None and any(d != 1 for d in dilations):
        raise b.fail(f"dilations {list(dilations)} are not supported for pooling")
    return _pool(b, "AVERAGE_POOL_2D", x, kernel_shape, strides, pads, auto_pad, ceil_mode)


def _mean(b: Builder, v: Value, onnx_axes: Ints, keepdims: bool) -> Value:
    axes = sorted(v.perm.index(a % v.rank) for a in onnx_axes)
    attrs = {"axes": axes, "keepdims": keepdims}
    if keepdims:
        return b.emit("MEAN", [v.name], attrs, v.perm)
    kept = [p for p in v.perm if p not in {v.perm[k] for k in axes}]
    # Renumber the surviving ONNX axes 0..r-1, keeping their IR order.
    return b.emit("MEAN", [v.name], attrs, tuple(int(i) for i in np.argsort(np.argsort(kept))))


def GlobalAveragePool(b: Builder, x: Operand) -> Value:
    v = b.runtime(x)
    return _mean(b, v, range(2, v.rank), True)


def ReduceMean(
    b: Builder, x: Operand, axes_in: Operand = None, *, axes: Ints | None = None, keepdims: int = 1,
    noop_with_empty_axes: int = 0,
) -> Value:
    v = b.runtime(x)
    if axes_in is not None:
        axes = [int(a) for a in b.need_const(axes_in, "axes")]
    if not axes:
        if noop_with_empty_axes:
            return v
        axes = range(v.rank)
    return _mean(b, v, axes, bool(keepdims))


# -- shape and data movement -------------------------------------------------------------------


def Reshape(b: Builder, x: Operand, shape: Operand, *, allowzero: int = 0) -> Value:
    v = b.runtime(x)
    src = b.onnx_shape(v)
    target = [int(d) for d in b.need_const(shape, "shape")]
    if not allowzero:
        target = [src[i] if d == 0 else d for i, d in enumerate(target)]
    if -1 in target:
        known = int(np.prod([d for d in target if d != -1]))
        target[target.index(-1)] = int(np.prod(src)) // known
    return b.reshape(v, tuple(target))


def Flatten(b: Builder, x: Operand, *, axis: int = 1) -> Value:
    v = b.runtime(x)
    s = b.onnx_shape(v)
    axis %= v.rank + 1
    return b.reshape(v, (int(np.prod(s[:axis])), int(np.prod(s[axis:]))))


def Squeeze(b: Builder, x: Operand, axes_in: Operand = None, *, axes: Ints | None = None) -> Value:
    v = b.runtime(x)
    s = b.onnx_shape(v)
    if axes_in is not None:
        axes = [int(a) for a in b.need_const(axes_in, "axes")]
    drop = {a % v.rank for a in axes} if axes else {i for i, d in enumerate(s) if d == 1}
    return b.reshape(v, tuple(d for i, d in enumerate(s) if i not in drop))


def Unsqueeze(b: Builder, x: Operand, axes_in: Operand = None, *, axes: Ints | None = None) -> Value:
    v = b.runtime(x)
    if axes_in is not None:
        axes = [int(a) for a in b.need_const(axes_in, "axes")]
    assert axes is not None, "the checker requires axes"
    rank = v.rank + len(axes)
    new = {a % rank for a in axes}
    dims = iter(b.onnx_shape(v))
    return b.reshape(v, tuple(1 if i in new else next(dims) for i in range(rank)))


def Transpose(b: Builder, x: Operand, *, perm: Ints | None = None) -> Value:
    """Free: the IR tensor stays, only the ONNX-to-IR permutation changes."""
    v = b.runtime(x)
    t = tuple(perm) if perm is not None else tuple(reversed(range(v.rank)))
    back = inverse(t)
    return Value(v.name, tuple(back[p] for p in v.perm))


def Concat(b: Builder, *xs: Operand, axis: int) -> Value:
    first = next(v for v in xs if isinstance(v, Value))
    names = [b.aligned(v, first.rank, first.perm, f"in{i}") for i, v in enumerate(xs)]
    ir_axis = first.perm.index(axis % first.rank)
    return b.emit("CONCATENATION", names, {"axis": ir_axis, "activation": "NONE"}, first.perm)


def Pad(
    b: Builder, x: Operand, pads_in: Operand = None, value_in: Operand = None, axes_in: Operand = None,
    *, mode: str = "constant", pads: Ints | None = None, value: float = 0.0,
) -> Value:
    v = b.runtime(x)
    if mode != "constant":
        raise b.fail(f"mode '{mode}' is not supported, only 'constant'")
    if pads_in is not None:
        pads = [int(p) for p in b.need_const(pads_in, "pads")]
    if value_in is not None:
        value = float(b.need_const(value_in, "constant_value"))
    assert pads is not None, "the checker requires pads"
    axes = [int(a) % v.rank for a in b.need_const(axes_in, "axes")] if axes_in is not None else range(v.rank)
    per_axis = {a: (0, 0) for a in range(v.rank)}
    n = len(pads) // 2
    per_axis.update({a: (pads[i], pads[i + n]) for i, a in enumerate(axes)})
    if min(min(p) for p in per_axis.values()) < 0:
        raise b.fail(f"negative pads {list(pads)} (cropping) are not supported")
    ir_pads = [list(per_axis[p]) for p in v.perm]
    return b.emit("PAD", [v.name], {"pads": ir_pads, "value": value}, v.perm)


def Identity(b: Builder, x: Operand) -> Operand:
    return x


def Dropout(
    b: Builder, x: Operand, ratio_in: Operand = None, training: Operand = None, *,
    ratio: float = 0.5, seed: int = 0,
) -> Operand:
    if training is not None and bool(b.need_const(training, "training_mode")):
        raise b.fail("training_mode=True is not supported")
    if len(b.node.output) > 1 and b.node.output[1]:
        raise b.fail("the mask output is not supported")
    return x


def Cast(b: Builder, x: Operand, *, to: int, saturate: int = 1, round_mode: str = "up") -> Operand:
    if to != 1 or b.tensor(b.runtime(x)).dtype != "float32":
        raise b.fail("casts of run-time tensors are supported only from float to float")
    return x


def Shape(b: Builder, x: Operand, *, start: int = 0, end: int | None = None) -> np.ndarray:
    return np.array(b.onnx_shape(b.runtime(x))[start:end], dtype=np.int64)


# -- QDQ ---------------------------------------------------------------------------------------


def _quant(b: Builder, scale: Operand, zp: Operand) -> tuple[QuantParams, str]:
    s = b.need_const(scale, "scale")
    z = b.need_const(zp, "zero point") if zp is not None else np.zeros(s.shape, np.uint8)
    if s.size != 1:
        raise b.fail(f"per-channel quantization of run-time tensors is not supported (scale {s.shape})")
    return QuantParams(s.reshape(1), z.reshape(1)), str(z.dtype)


def QuantizeLinear(
    b: Builder, x: Operand, scale: Operand, zp: Operand = None, *, axis: int = 1, saturate: int = 1,
    block_size: int = 0, output_dtype: int = 0, precision: int = 0,
) -> Value:
    v = b.runtime(x)
    quant, dtype = _quant(b, scale, zp)
    if dtype not in ("int8", "uint8", "int16"):
        raise b.fail(f"quantization to {dtype} is not supported")
    return b.emit("QUANTIZE", [v.name], {}, v.perm, dtype=dtype, quant=quant)


def DequantizeLinear(
    b: Builder, x: Operand, scale: Operand, zp: Operand = None, *, axis: int = 1, block_size: int = 0,
    output_dtype: int = 0,
) -> Value:
    v = b.runtime(x)
    quant, _ = _quant(b, scale, zp)
    t = b.tensor(v)
    if t.quant is None:  # an integer model input: the DequantizeLinear is what describes it
        t.quant = quant
    elif t.scalar_quant() != (float(quant.scale[0]), int(quant.zero_point[0])):
        raise b.fail(f"dequantizes with {quant.scale[0]}, {quant.zero_point[0]} a tensor quantized "
                     f"with {t.scalar_quant()}")
    return b.emit("DEQUANTIZE", [v.name], {}, v.perm)


def dequantize_const(
    b: Builder, x: np.ndarray, scale: np.ndarray, zp: np.ndarray | None = None, *, axis: int = 1,
    block_size: int = 0, output_dtype: int = 0,
) -> np.ndarray:
    """A quantized weight or bias: its float value, with its integer encoding remembered."""
    if block_size:
        raise b.fail("blocked quantization (block_size) is not supported")
    z = zp if zp is not None else np.zeros(scale.shape, np.int64)
    quant = QuantParams(scale.reshape(-1), z.reshape(-1), axis % max(x.ndim, 1) if scale.size > 1 else None)
    b.qconsts[b.node.output[0]] = quant
    shape = quant.broadcast_shape(x.ndim)
    centered = (x.astype(np.int64) - quant.zero_point.reshape(shape)).astype(np.float32)
    return centered * quant.scale.reshape(shape)  # float32 arithmetic, like ONNX


OnnxOp = Callable[..., Result]
TABLE: dict[str, OnnxOp] = {f.__name__: f for f in (
    Conv, Gemm, MatMul, Add, Sub, Mul, Div, Relu, Clip, LeakyRelu, PRelu, Sigmoid, Tanh, HardSwish,
    Softmax, BatchNormalization, MaxPool, AveragePool, GlobalAveragePool, ReduceMean, Reshape, Flatten,
    Squeeze, Unsqueeze, Transpose, Concat, Pad, Identity, Dropout, Cast, Shape, QuantizeLinear,
    DequantizeLinear,
)}
# Constant forms computed here rather than by ONNX's reference evaluator, which lacks
# DequantizeLinear before opset 19 and could not remember the integer encoding anyway.
CONST_TABLE: dict[str, Callable[..., np.ndarray]] = {"DequantizeLinear": dequantize_const}
