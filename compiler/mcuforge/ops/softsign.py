"""SOFTSIGN: x / (1 + |x|), elementwise (ONNX Softsign). Any shape and layout; the output has the
input's shape and dtype, with calibrated output quantization.

TFLite has no Softsign builtin, so there is no TFLite Micro kernel to follow. The int8 op is the
256-entry table TFLite fills for its int8 ELU and EXP (`unary.float_table_int`): each code is
dequantized in float32, transformed, divided by the output scale, rounded half away from zero and
offset by the output zero point. It needs no C kernel of its own (the `lut` trait).
"""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.ops.unary import float_table_int


def softsign(x: np.ndarray, attrs: dict) -> np.ndarray:
    """x / (1 + |x|) in the dtype of x (float64 for the table)."""
    return x / (1.0 + np.abs(x))


def softsign_float(ctx: Ctx, xs: Arrays) -> Arrays:
    return [softsign(xs[0].astype(np.float64), ctx.op.attrs).astype(np.float32)]


SOFTSIGN = register(OpDef(
    kind="SOFTSIGN", shape=same_shape, ref_float=softsign_float, ref_int=float_table_int(softsign),
    doc="x / (1 + |x|)", lut=True,
))
