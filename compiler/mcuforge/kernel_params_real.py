"""Bindings that TFLite Micro's own example models need beyond the int8 and int16 tables (real
models area): QUANTIZE from int8 or int16 to an int32 output, as keyword_scrambled_8bit ends
(its int16 softmax requantized to int32). The table `BINDINGS_BY_TYPES` is keyed by the op kind and
its data types (first input, output): kernel_params.kernel_call looks an op up there before the
int16 and int8 tables, which are keyed by kind alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcuforge.ops.registry import Ctx
from mcuforge.reference import qmath

BITS = {"int8": 8, "int16": 16}


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


BINDINGS_BY_TYPES: dict[tuple[str, str, str], Callable[[Ctx], Any]] = {
    ("QUANTIZE", "int8", "int32"): quantize_to_int32,
    ("QUANTIZE", "int16", "int32"): quantize_to_int32,
}


def type_key(ctx: Ctx) -> tuple[str, str, str] | None:
    """(kind, first input dtype, output dtype), the key of BINDINGS_BY_TYPES; None without both."""
    x = ctx.ins[0] if ctx.ins else None
    if x is None or not ctx.outs:
        return None
    return ctx.op.kind, x.dtype, ctx.outs[0].dtype


def binding(ctx: Ctx) -> Callable[[Ctx], Any] | None:
    """The op's entry in BINDINGS_BY_TYPES, or None (the op is bound by the other tables)."""
    key = type_key(ctx)
    return None if key is None else BINDINGS_BY_TYPES.get(key)


def int32_output(ctx: Ctx) -> bool:
    """Whether the op is a requantization from int8 or int16 to int32 (bound here)."""
    key = type_key(ctx)
    return key is not None and key[2] == "int32" and key in BINDINGS_BY_TYPES
