"""Ops of shape arithmetic (tflite-import area): they compute on small integer tensors (shapes,
sizes, index ranges) and are evaluated at import when their inputs are constant
(`importers/fold.py`), which they are once every dimension is static. They have no C kernel: one
left in a graph is refused by codegen with its name.

Definitions follow TFLite's builtins on unquantized tensors: FLOOR_DIV and FLOOR_MOD round towards
minus infinity (numpy's floor_divide/mod), CAST converts with C semantics (numpy astype), FILL
(inputs: dims, value), RANGE (inputs: start, limit, delta), REDUCE_PROD (attrs: axes, keepdims).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.elementwise import broadcast_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def _const_attr_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    return [tuple(int(d) for d in op.attrs["shape"])]


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[[Ctx, Arrays], Arrays]:
    def ref(ctx: Ctx, xs: Arrays) -> Arrays:
        return [fn(xs[0], xs[1]).astype(ctx.outs[0].dtype)]

    return ref


def _cast(ctx: Ctx, xs: Arrays) -> Arrays:
    return [xs[0].astype(ctx.outs[0].dtype)]


def _fill(ctx: Ctx, xs: Arrays) -> Arrays:
    return [np.full(ctx.op.attrs["shape"], xs[1].reshape(-1)[0], dtype=ctx.outs[0].dtype)]


def _range(ctx: Ctx, xs: Arrays) -> Arrays:
    start, limit, delta = (x.reshape(-1)[0] for x in xs)
    return [np.arange(start, limit, delta).astype(ctx.outs[0].dtype)]


def _reduce_prod_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    axes = {a % len(x) for a in op.attrs["axes"]}
    if op.attrs["keepdims"]:
        return [tuple(1 if i in axes else d for i, d in enumerate(x))]
    return [tuple(d for i, d in enumerate(x) if i not in axes)]


def _reduce_prod(ctx: Ctx, xs: Arrays) -> Arrays:
    a = ctx.op.attrs
    return [np.prod(xs[0], axis=tuple(a["axes"]), keepdims=a["keepdims"]).astype(ctx.outs[0].dtype)]


for _kind, _fn in (("FLOOR_DIV", np.floor_divide), ("FLOOR_MOD", np.mod)):
    register(OpDef(kind=_kind, shape=broadcast_shape, ref_float=_binary(_fn), ref_int=_binary(_fn),
                   num_inputs=(2, 2), data_operands=True,
                   doc=f"elementwise {_kind.lower()} (shape arithmetic)"))

CAST = register(OpDef(
    kind="CAST", shape=lambda op, ins: [tuple(ins[0] or ())], ref_float=_cast, ref_int=_cast,
    same_dtype=False, doc="convert the element type (shape arithmetic)",
))
FILL = register(OpDef(
    kind="FILL", shape=_const_attr_shape, ref_float=_fill, ref_int=_fill, num_inputs=(2, 2),
    attrs=("shape",), same_dtype=False, data_operands=True,
    doc="a tensor of one value (attrs: shape; inputs: dims, value)",
))
RANGE = register(OpDef(
    kind="RANGE", shape=_const_attr_shape, ref_float=_range, ref_int=_range, num_inputs=(3, 3),
    attrs=("shape",), data_operands=True, doc="start, start + delta, ... below limit",
))
REDUCE_PROD = register(OpDef(
    kind="REDUCE_PROD", shape=_reduce_prod_shape, ref_float=_reduce_prod, ref_int=_reduce_prod,
    attrs=("axes", "keepdims"), doc="product over axes (shape arithmetic)",
))
