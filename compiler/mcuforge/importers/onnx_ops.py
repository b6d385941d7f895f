"""One function per ONNX op, named like the op: inputs positionally (a `Value`, a numpy constant
in the ONNX layout, or None when omitted), ONNX attributes as keyword arguments.

A function returns the op's outputs (a `Value` or a constant each). Conv, Gemm, MatMul, pooling
and means live in `onnx_nn_ops`; `TABLE` here registers them all. Ops whose inputs are all
constant never get here: the importer folds them with ONNX's reference evaluator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mcuforge.importers.onnx_builder import Builder, Operand, Value, channels_last, identity, inverse
from mcuforge.importers.onnx_elementwise import ELEMENTWISE_TABLE, Div, Softmax
from mcuforge.importers.onnx_nn_ops import (
    ArgMax,
    ArgMin,
    AveragePool,
    Conv,
    Einsum,
    Gemm,
    GlobalAveragePool,
    GlobalMaxPool,
    LayerNormalization,
    MatMul,
    MaxPool,
    ReduceMax,
    ReduceMean,
    ReduceMin,
    ReduceSum,
)
from mcuforge.importers.onnx_norm_ops import GroupNormalization, InstanceNormalization
from mcuforge.importers.onnx_recurrent import TABLE_RECURRENT, gather_with  # recurrent area
from mcuforge.importers.onnx_spatial_ops import SPATIAL_TABLE
from mcuforge.ir.graph import QuantParams

Ints = Sequence[int]
Result = Operand | list[Operand]

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


# ONNX Pad's modes -> the IR: PAD for "constant", MIRROR_PAD's modes for the others.
ONNX_PAD_MODES = {"constant": "CONSTANT", "reflect": "REFLECT", "edge": "EDGE", "wrap": "WRAP"}


def Pad(
    b: Builder, x: Operand, pads_in: Operand = None, value_in: Operand = None, axes_in: Operand = None,
    *, mode: str = "constant", pads: Ints | None = None, value: float = 0.0,
) -> Value:
    v = b.runtime(x)
    if mode not in ONNX_PAD_MODES:
        raise b.fail(f"mode '{mode}' is not supported; the modes are {', '.join(ONNX_PAD_MODES)}")
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
    if mode != "constant":  # the borders come from the tensor itself
        return b.emit("MIRROR_PAD", [v.name], {"pads": ir_pads, "mode": ONNX_PAD_MODES[mode]}, v.perm)
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
    # area reductions
    ReduceSum, ReduceMax, ReduceMin, GlobalMaxPool, ArgMax, ArgMin, LayerNormalization,
    InstanceNormalization, GroupNormalization,
    *SPATIAL_TABLE,  # spatial-ops area: ConvTranspose, Resize, Upsample
)}
# tflite-import: data movement (onnx_data_ops.py)
from mcuforge.importers.onnx_data_ops import DATA_OPS  # noqa: E402

TABLE.update(DATA_OPS)
TABLE["Einsum"] = Einsum  # attention (issue 11)
TABLE.update(ELEMENTWISE_TABLE)  # elementwise-ops: unary math, Max/Min, Div, (Log)Softmax, LpNormalization
# recurrent area: GRU, LSTM (unrolled); Gather reads one step of an unrolled sequence directly and
# leaves any other case to onnx_data_ops' Gather
TABLE.update(TABLE_RECURRENT)
TABLE["Gather"] = gather_with(TABLE["Gather"])
# Constant forms computed here rather than by ONNX's reference evaluator, which lacks
# DequantizeLinear before opset 19 and could not remember the integer encoding anyway.
CONST_TABLE: dict[str, Callable[..., np.ndarray]] = {"DequantizeLinear": dequantize_const}
