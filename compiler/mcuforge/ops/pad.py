"""PAD with a constant. attrs: pads ((before, after) per axis), value (real value, float).
MIRROR_PAD with the tensor's own elements. attrs: pads, mode (REFLECT, SYMMETRIC, EDGE, WRAP)."""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.common import INT_RANGES
from mcuforge.ops.registry import Arrays, Ctx, OpDef, register
from mcuforge.reference.qmath import quantize_real


def pad_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    return [tuple(d + lo + hi for d, (lo, hi) in zip(x, op.attrs["pads"]))]


def pad_float(ctx: Ctx, xs: Arrays) -> Arrays:
    a = ctx.op.attrs
    return [np.pad(xs[0], a["pads"], constant_values=np.float32(a["value"]))]


def quantized_pad_value(ctx: Ctx) -> int:
    """The real pad value quantized with the output's parameters: the output zero point for PAD,
    PADV2's own quantized constant back for PADV2."""
    scale, zero_point = ctx.out_quant()
    lo, hi = INT_RANGES[ctx.outs[0].dtype]
    return int(np.clip(quantize_real(ctx.op.attrs["value"], scale, zero_point), lo, hi))


def pad_int(ctx: Ctx, xs: Arrays) -> Arrays:
    value = quantized_pad_value(ctx)
    return [np.pad(xs[0], ctx.op.attrs["pads"], constant_values=value).astype(ctx.outs[0].dtype)]


PAD = register(OpDef(
    kind="PAD", shape=pad_shape, ref_float=pad_float, ref_int=pad_int, attrs=("pads", "value"),
    out_quant="same_as_input", int16=True, doc="pad with a constant value",
))


# -- MIRROR_PAD: borders copied from the tensor itself ---------------------------------------------

# Mode -> numpy's np.pad mode. REFLECT and SYMMETRIC are TFLite's MIRROR_PAD modes (REFLECT leaves
# the edge element out of the mirror, SYMMETRIC repeats it); EDGE and WRAP are ONNX Pad's "edge"
# (replicate the edge element) and "wrap" (circular) modes (ONNX operator spec, Pad-19).
MIRROR_MODES = {"REFLECT": "reflect", "SYMMETRIC": "symmetric", "EDGE": "edge", "WRAP": "wrap"}


def max_mirror_pad(mode: str, d: int) -> int:
    """The largest pad one side of an axis of `d` elements takes in `mode` (TFLite: at most
    d - 1 for REFLECT, d for SYMMETRIC; ONNX edge repeats one element as often as asked)."""
    return {"REFLECT": d - 1, "SYMMETRIC": d, "EDGE": 1 << 30 if d else 0, "WRAP": d}[mode]


def mirror_pad_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x = ins[0]
    assert x is not None
    mode = op.attrs["mode"]
    if mode not in MIRROR_MODES:
        raise ValueError(f"MIRROR_PAD '{op.name}': mode {mode!r}; the modes are {', '.join(MIRROR_MODES)}")
    for axis, (d, (lo, hi)) in enumerate(zip(x, op.attrs["pads"], strict=True)):
        limit = max_mirror_pad(mode, d)
        if min(lo, hi) < 0 or max(lo, hi) > limit:
            raise ValueError(f"MIRROR_PAD '{op.name}': pads ({lo}, {hi}) on axis {axis} of {d} elements; "
                             f"{mode} takes 0 to {limit} on each side")
    return pad_shape(op, ins)


def mirror_pad_ref(ctx: Ctx, xs: Arrays) -> Arrays:
    """Float and integer reference alike: elements move, values do not change."""
    a = ctx.op.attrs
    return [np.pad(xs[0], a["pads"], mode=MIRROR_MODES[a["mode"]])]  # type: ignore[call-overload]


MIRROR_PAD = register(OpDef(
    kind="MIRROR_PAD", shape=mirror_pad_shape, ref_float=mirror_pad_ref, ref_int=mirror_pad_ref,
    attrs=("pads", "mode"), out_quant="same_as_input", int16=True,
    doc="pad with the tensor's own elements: mirrored (REFLECT, SYMMETRIC), repeated edge (EDGE) or "
        "wrapped around (WRAP)",
))
