"""MAXIMUM, MINIMUM: elementwise max/min of two tensors with numpy broadcasting (ranks up to 4
in C). int8 as TFLite Micro's maximum_minimum.cc: the raw codes are compared, which is right
because both inputs and the output share one quantization (TFLite's converter gives them one;
our quantizer does the same through `inputs_share_quant`, constants included)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcuforge.errors import MfError
from mcuforge.ops.elementwise import broadcast_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register


def _float(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[[Ctx, Arrays], Arrays]:
    def ref(ctx: Ctx, xs: Arrays) -> Arrays:
        return [fn(xs[0], xs[1]).astype(np.float32)]

    return ref


def _int(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[[Ctx, Arrays], Arrays]:
    def ref(ctx: Ctx, xs: Arrays) -> Arrays:
        check_shared_quant(ctx)
        return [fn(xs[0], xs[1]).astype(ctx.outs[0].dtype)]

    return ref


def check_shared_quant(ctx: Ctx) -> None:
    out = ctx.out_quant()
    for i, t in enumerate(ctx.ins):
        if t is not None and t.scalar_quant() != out:
            raise MfError(f"{ctx.op.kind} '{ctx.op.name}': input {i} ('{t.name}') is quantized with "
                          f"{t.scalar_quant()}, the output with {out}; the integer kernel compares "
                          "codes, so every input needs the output's scale and zero point "
                          "(quantize the float model with mcuforge, which arranges that)")


MAXIMUM = register(OpDef(kind="MAXIMUM", shape=broadcast_shape, ref_float=_float(np.maximum),
                         ref_int=_int(np.maximum), num_inputs=(2, 2), inputs_share_quant=True,
                         int16=True, doc="elementwise max(a, b), broadcasting", data_operands=True))
MINIMUM = register(OpDef(kind="MINIMUM", shape=broadcast_shape, ref_float=_float(np.minimum),
                         ref_int=_int(np.minimum), num_inputs=(2, 2), inputs_share_quant=True,
                         int16=True, doc="elementwise min(a, b), broadcasting", data_operands=True))
