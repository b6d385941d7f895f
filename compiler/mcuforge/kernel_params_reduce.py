"""C bindings of the reductions and normalization ops (area: reductions): which mf_nn kernel
runs each and with which parameter values (see kernel_params.py for the conventions).

Reductions over any axes of a rank <= 5 tensor go to mf_reduce_s8: the shape is padded to five
dims with leading 1s and neighbouring axes that are all kept or all reduced are merged.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcuforge.kernel_params import KernelCall, _activation, _binary_dims, _multiplier, _tensor
from mcuforge.ops.layer_norm import layer_norm_constants
from mcuforge.ops.mean import mean_multiplier, reduced_axes
from mcuforge.ops.registry import Ctx
from mcuforge.ops.squared_difference import LEFT_SHIFT, squared_difference_reals

RANK = 5
REDUCE_KINDS = {"MEAN": 0, "SUM": 0, "REDUCE_MAX": 1, "REDUCE_MIN": 2}  # mf_reduce_kind
INDEX_BYTES = {"int32": 4, "int64": 8}
MAX_SUMMED = 1 << 22  # values per output of a sum or mean: the int32 accumulator's headroom


def reduce_geometry(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[list[int], list[int]]:
    """(shape, reduced flags) of five dims: runs of kept or reduced axes merged, leading 1s."""
    dims: list[int] = []
    flags: list[int] = []
    for i, d in enumerate(shape):
        flag = int(i in axes)
        if d == 1:
            continue  # a unit axis changes nothing, kept or reduced
        if flags and flags[-1] == flag:
            dims[-1] *= int(d)
        else:
            dims.append(int(d))
            flags.append(flag)
    if len(dims) > RANK:
        raise ValueError(f"shape {shape} reduced over {axes} needs {len(dims)} loop levels; "
                         f"the kernel has {RANK}")
    pad = RANK - len(dims)
    return [1] * pad + dims, [0] * pad + flags


def reduce_call(ctx: Ctx) -> KernelCall:
    x = _tensor(ctx, 0)
    kind = ctx.op.kind
    axes = reduced_axes(ctx.op, len(x.shape))
    try:
        shape, flags = reduce_geometry(tuple(x.shape), axes)
    except ValueError as e:
        raise ValueError(f"{kind} '{ctx.op.name}': {e}") from None
    in_scale, in_zp = x.scalar_quant()
    out_scale, out_zp = ctx.out_quant()
    count = int(np.prod([x.shape[i] for i in axes], dtype=np.int64))
    if kind in ("MEAN", "SUM") and count > MAX_SUMMED:
        raise ValueError(f"{kind} '{ctx.op.name}': {count} values per output; the int32 sum takes at "
                         f"most {MAX_SUMMED}")
    params = {"kind": REDUCE_KINDS[kind], "input_offset": -in_zp, "output_offset": out_zp,
              "multiplier": 0, "shift": 0, "act_min": -128, "act_max": 127,
              "shape": shape, "reduced": flags}
    if kind == "MEAN":
        params["multiplier"], params["shift"] = mean_multiplier(in_scale, out_scale, count)
    elif kind == "SUM":
        params["multiplier"], params["shift"] = _multiplier(in_scale / out_scale)
    elif (in_scale, in_zp) != (out_scale, out_zp):
        raise ValueError(f"{kind} '{ctx.op.name}': input and output quantization differ "
                         f"({(in_scale, in_zp)} vs {(out_scale, out_zp)}); TFLite requires them equal")
    return KernelCall("mf_reduce_s8", params)


def arg_call(ctx: Ctx) -> KernelCall:
    x = _tensor(ctx, 0)
    out = ctx.outs[0]
    if out.dtype not in INDEX_BYTES:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': index output {out.dtype}; int32 or int64 work")
    axis = int(ctx.op.attrs["axis"]) % len(x.shape)
    params = {"outer": int(np.prod(x.shape[:axis], dtype=np.int64)), "axis_len": int(x.shape[axis]),
              "inner": int(np.prod(x.shape[axis + 1:], dtype=np.int64)),
              "largest": int(ctx.op.kind == "ARG_MAX"),
              "select_last": int(bool(ctx.op.attrs.get("select_last", False))),
              "index_bytes": INDEX_BYTES[out.dtype]}
    return KernelCall("mf_arg_s8", params)


def squared_difference(ctx: Ctx) -> KernelCall:
    s1, z1 = _tensor(ctx, 0).scalar_quant()
    s2, z2 = _tensor(ctx, 1).scalar_quant()
    so, zo = ctx.out_quant()
    (m1, sh1), (m2, sh2), (mo, sho) = (_multiplier(r) for r in squared_difference_reals(s1, s2, so))
    params = {"input1_offset": -z1, "input2_offset": -z2, "output_offset": zo,
              "left_shift": LEFT_SHIFT, "input1_multiplier": m1, "input1_shift": sh1,
              "input2_multiplier": m2, "input2_shift": sh2, "output_multiplier": mo,
              "output_shift": sho, **_activation(ctx)}
    return KernelCall("mf_squared_difference_s8", params, {}, _binary_dims(ctx))


def layer_norm(ctx: Ctx) -> KernelCall:
    x = _tensor(ctx, 0)
    depth = int(x.shape[-1])
    eps, mult, shift, bias = layer_norm_constants(ctx, depth)
    _, in_zp = x.scalar_quant()
    _, out_zp = ctx.out_quant()
    params = {"input_offset": -in_zp, "output_offset": out_zp, "eps": eps, "act_min": -128,
              "act_max": 127, "rows": int(np.prod(x.shape[:-1], dtype=np.int64)), "depth": depth}
    arrays = {"multiplier": mult.astype(np.int32), "shift": shift.astype(np.int32),
              "bias": bias.astype(np.int32)}
    return KernelCall("mf_layer_norm_s8", params, arrays)


BINDINGS: dict[str, Callable[[Ctx], KernelCall]] = {
    "SUM": reduce_call,
    "REDUCE_MAX": reduce_call,
    "REDUCE_MIN": reduce_call,
    "ARG_MAX": arg_call,
    "ARG_MIN": arg_call,
    "SQUARED_DIFFERENCE": squared_difference,
    "LAYER_NORM": layer_norm,
}
