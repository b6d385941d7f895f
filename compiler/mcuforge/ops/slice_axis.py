"""SLICE_AXIS: a contiguous window of one axis, y = x[..., begin:begin+size, ...] (recurrent area).

attrs: axis (IR axis, any rank), begin, size. The bytes are copied unchanged, so the output keeps
the input's quantization (int8 or float). The recurrent importers use it to take the input of one
time step out of a sequence tensor (and ONNX Gather with a constant scalar index). It is the
one-axis, unit-step case of TFLite's STRIDED_SLICE; where a general STRIDED_SLICE op exists this
op can be emitted as one of those.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def slice_axis_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    axis, begin, size = op.attrs["axis"] % len(x), int(op.attrs["begin"]), int(op.attrs["size"])
    if size < 1 or begin < 0 or begin + size > x[axis]:
        raise ValueError(f"SLICE_AXIS '{op.name}': [{begin}, {begin + size}) leaves axis {axis} "
                         f"of {x}")
    out = list(x)
    out[axis] = size
    return [tuple(out)]


def slice_axis_ref(ctx: Ctx, xs: Arrays) -> Arrays:
    a = ctx.op.attrs
    x = xs[0]
    index = [slice(None)] * x.ndim
    index[a["axis"] % x.ndim] = slice(int(a["begin"]), int(a["begin"]) + int(a["size"]))
    return [np.ascontiguousarray(x[tuple(index)])]


def slice_axis_is_identity(op: Op, ins: list[Shape | None], outs: list[Shape]) -> bool:
    return ins[0] == outs[0]


SLICE_AXIS = register(OpDef(
    kind="SLICE_AXIS", shape=slice_axis_shape, ref_float=slice_axis_ref, ref_int=slice_axis_ref,
    attrs=("axis", "begin", "size"), out_quant="same_as_input", int16=True,
    doc="a contiguous window of one axis (copies bytes)", identity=slice_axis_is_identity,
))
