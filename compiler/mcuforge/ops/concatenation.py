"""CONCATENATION along `axis` of any number of inputs. attrs: axis, activation."""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import apply_activation
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def concat_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    shapes = [s for s in ins if s is not None]
    axis = op.attrs["axis"] % len(shapes[0])
    for s in shapes[1:]:
        if len(s) != len(shapes[0]) or any(
            a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != axis
        ):
            raise ValueError(f"CONCATENATION '{op.name}': shapes {shapes} differ off axis {axis}")
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    return [tuple(out)]


def concat_float(ctx: Ctx, xs: Arrays) -> Arrays:
    y = np.concatenate(xs, axis=ctx.op.attrs["axis"])
    return [apply_activation(y.astype(np.float32), ctx.op.attrs["activation"])]


def concat_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLM copies int8 inputs byte for byte: the converter gives every input the output's
    quantization, and TFLM applies no fused activation to integer concatenation."""
    return [np.concatenate(xs, axis=ctx.op.attrs["axis"]).astype(ctx.outs[0].dtype)]


CONCATENATION = register(OpDef(
    kind="CONCATENATION", shape=concat_shape, ref_float=concat_float, ref_int=concat_int,
    num_inputs=(1, 1 << 16), attrs=("axis", "activation"), inputs_share_quant=True,
    int16=True, doc="join tensors along an axis",
    fused_activation=True, data_operands=True,
))
