"""NEG: -x elementwise (minimal; the elementwise-ops area owns the full version: dedup at merge).

TFLite's converter leaves NEG in float between DEQUANTIZE and QUANTIZE (LayerNormalization's
decomposition), and TFLite Micro runs it that way; importers fold that triple into one int8 NEG
whose integer reference repeats TFLM's float steps: x_scale * (x - x_zp) in double cast to
float, negated, divided by the output scale in float32, rounded half away from zero, offset,
saturated. One byte in, one out: a lookup table in C.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ops.common import INT_RANGES, same_shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import round_half_away


def neg_float(ctx: Ctx, xs: Arrays) -> Arrays:
    return [(-xs[0]).astype(np.float32)]


def neg_int(ctx: Ctx, xs: Arrays) -> Arrays:
    (x_scale, x_zp), (out_scale, out_zp) = ctx.in_quant(), ctx.out_quant()
    real = (float(np.float32(x_scale)) * (xs[0].astype(np.int64) - x_zp)).astype(np.float32)
    q = round_half_away(-real / np.float32(out_scale)).astype(np.int64) + out_zp
    lo, hi = INT_RANGES[ctx.outs[0].dtype]
    return [np.clip(q, lo, hi).astype(ctx.outs[0].dtype)]


NEG = register(OpDef(kind="NEG", shape=same_shape, ref_float=neg_float, ref_int=neg_int, doc="-x",
                    lut=True))
