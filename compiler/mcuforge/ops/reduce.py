"""SUM, REDUCE_MAX, REDUCE_MIN over any axes (attrs: axes, keepdims; shape rule of MEAN), and
ARG_MAX / ARG_MIN over one axis (attrs: axis; optional keepdims, select_last; output int32 or
int64 indices: the op's output is not quantized, out_quant "none").

Integer definitions follow TFLite Micro's reduce.cc (SUM: QuantizedMeanOrSum with compute_sum;
MAX/MIN: ReduceGeneric on the raw int8 values, input and output quantization equal) and
arg_min_max.cc (first index of the extreme value; ONNX's select_last_index takes the last).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.mean import mean_shape, reduced_axes, sum_int
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def _float(fn: Callable[..., np.ndarray]) -> Callable[[Ctx, Arrays], Arrays]:
    def ref(ctx: Ctx, xs: Arrays) -> Arrays:
        axes = reduced_axes(ctx.op, xs[0].ndim)
        return [fn(xs[0], axis=axes, keepdims=ctx.op.attrs["keepdims"]).astype(np.float32)]

    return ref


def _extreme_int(fn: Callable[..., np.ndarray]) -> Callable[[Ctx, Arrays], Arrays]:
    def ref(ctx: Ctx, xs: Arrays) -> Arrays:
        axes = reduced_axes(ctx.op, xs[0].ndim)
        y = fn(xs[0], axis=axes, keepdims=ctx.op.attrs["keepdims"])
        return [np.asarray(y).reshape(ctx.outs[0].shape).astype(ctx.outs[0].dtype)]

    return ref


SUM = register(OpDef(
    kind="SUM", shape=mean_shape, ref_float=_float(np.sum), ref_int=sum_int,
    attrs=("axes", "keepdims"), doc="sum over axes",
))
REDUCE_MAX = register(OpDef(
    kind="REDUCE_MAX", shape=mean_shape, ref_float=_float(np.max), ref_int=_extreme_int(np.max),
    attrs=("axes", "keepdims"), out_quant="same_as_input", doc="maximum over axes",
))
REDUCE_MIN = register(OpDef(
    kind="REDUCE_MIN", shape=mean_shape, ref_float=_float(np.min), ref_int=_extreme_int(np.min),
    attrs=("axes", "keepdims"), out_quant="same_as_input", doc="minimum over axes",
))


# -- ARG_MAX / ARG_MIN --------------------------------------------------------------------------


def arg_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    """The input's shape without `axis` (TFLite), or with it as 1 (ONNX keepdims=1)."""
    x = ins[0]
    assert x is not None
    axis = int(op.attrs["axis"]) % len(x)
    if op.attrs.get("keepdims", False):
        return [tuple(1 if i == axis else d for i, d in enumerate(x))]
    return [tuple(d for i, d in enumerate(x) if i != axis)]


def arg_index(x: np.ndarray, axis: int, largest: bool, last: bool) -> np.ndarray:
    """Index of the largest (smallest) value along axis: the first one on ties, the last one
    when `last` (ONNX select_last_index)."""
    v = x.astype(np.float64) if x.dtype.kind == "f" else x.astype(np.int64)
    v = -v if not largest else v
    if last:
        flipped = np.flip(v, axis=axis)
        return x.shape[axis] - 1 - np.argmax(flipped, axis=axis)
    return np.argmax(v, axis=axis)


def _arg(largest: bool) -> Callable[[Ctx, Arrays], Arrays]:
    def ref(ctx: Ctx, xs: Arrays) -> Arrays:
        axis = int(ctx.op.attrs["axis"]) % xs[0].ndim
        y = arg_index(xs[0], axis, largest, bool(ctx.op.attrs.get("select_last", False)))
        return [y.reshape(ctx.outs[0].shape).astype(ctx.outs[0].dtype)]

    return ref


ARG_MAX = register(OpDef(
    kind="ARG_MAX", shape=arg_shape, ref_float=_arg(True), ref_int=_arg(True), attrs=("axis",),
    same_dtype=False, out_quant="none", doc="index of the maximum along an axis (int32/int64 out)",
))
ARG_MIN = register(OpDef(
    kind="ARG_MIN", shape=arg_shape, ref_float=_arg(False), ref_int=_arg(False), attrs=("axis",),
    same_dtype=False, out_quant="none", doc="index of the minimum along an axis (int32/int64 out)",
))
