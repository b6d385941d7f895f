"""Bindings that TFLite Micro's own example models need beyond the int8 and int16 tables (real
models area): QUANTIZE from int8 or int16 to an int32 output, as keyword_scrambled_8bit ends
(its int16 softmax requantized to int32). kernel_params.kernel_call asks `binding` first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcuforge.ops.registry import Ctx
from mcuforge.reference import qmath

BITS = {"int8": 8, "int16": 16}
INT32_OUTPUT_KINDS = frozenset({"QUANTIZE"})  # ops whose int32 output the C runtime computes


def int32_output(ctx: Ctx) -> bool:
    """Whether the op is a requantization from int8 or int16 to int32."""
    x = ctx.ins[0] if ctx.ins else None
    return (ctx.op.kind in INT32_OUTPUT_KINDS and x is not None and x.dtype in BITS
            and ctx.outs[0].dtype == "int32")


def quantize_to_int32(ctx: Ctx) -> Any:
    """QUANTIZE int8/int16 -> int32: TFLite Micro's Requantize (multiplier of input_scale /
    output_scale, computed in double as its Prepare does)."""
    from mcuforge.kernel_params import KernelCall

    x, y = ctx.ins[0], ctx.outs[0]
    assert x is not None
    (xs, xz), (ys, yz) = x.scalar_quant(), y.scalar_quant()
    m, sh = qmath.quantize_multiplier(xs / ys)
    params = {"input_offset": -xz, "output_offset": yz, "multiplier": m, "shift": sh,
              "input_bits": BITS[x.dtype], "output_bits": 32, "size": int(x.size)}
    return KernelCall("mf_requantize_s32", params, {}, {})


def binding(ctx: Ctx) -> Callable[[Ctx], Any] | None:
    """This module's binding of the op, or None (the op is bound by the other tables)."""
    return quantize_to_int32 if int32_output(ctx) else None
