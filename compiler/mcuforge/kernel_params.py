"""The C binding of each int8 op: which mf_nn kernel runs it and with which parameter values.

One function per IR op kind turns an op with its tensors (a `Ctx`) into a `KernelCall`: the
kernel's name and the values of its parameter structs (runtime_c/include/mf_nn.h), computed the
way TFLite Micro's prepare functions compute them, so that the C kernel is bit-exact with the
integer reference (`ref_int`). Codegen renders these values from templates; the host tests pass
them through ctypes. Shapes are 4-D NHWC (lower ranks padded with leading 1s).

The C interface of each kernel (argument order, struct fields and their C types, scratch,
in-place rule, variants) is its spec in mcuforge.kernels; `kernel_call` checks every binding's
values against it, so a missing or extra field is a compile-time error, never a zero in C.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mcuforge.errors import MfError
from mcuforge.ir.graph import Tensor
from mcuforge.kernels import SPECS, check_call
from mcuforge.kernels.convolution import conv_kernel, dw_rows_taken, transpose_phases
from mcuforge.kernels.fully_connected import fc_kernel
from mcuforge.kernels.target import FILTER_LAYOUTS, for_target  # kernel choice by core family (issue 12)
from mcuforge.ops import div as div_op  # elementwise-ops
from mcuforge.ops import elementwise, packed_weights, resize
from mcuforge.ops import log_softmax as log_softmax_op  # elementwise-ops
from mcuforge.ops import minimum_maximum as minimum_maximum_op  # elementwise-ops
from mcuforge.ops.common import quantized_activation_range
from mcuforge.ops.lstm import integer_params  # recurrent area
from mcuforge.ops.pad import quantized_pad_value
from mcuforge.ops.registry import REGISTRY, Ctx, lookup
from mcuforge.ops.svdf import multipliers as svdf_multipliers  # stateful area
from mcuforge.ops.svdf import svdf_dims
from mcuforge.reference import qmath

Dims = tuple[int, int, int, int]
# (scale1, scale2, out_scale, left_shift) -> real multipliers of input1, input2, output
RealMultipliers = Callable[[float, float, float, int], tuple[float, float, float]]

ADD_LEFT_SHIFT = elementwise.LEFT_SHIFT["int8"]  # TFLite's headroom for int8 ADD/SUB (20)
SOFTMAX_DIFF_BITS = 5  # integer bits of softmax's scaled differences (kScaledDiffIntegerBits)


@dataclass
class KernelCall:
    """`kernel` is the C function; `params` the scalar fields of its parameter structs, by C
    field name (`act_min`/`act_max` for the activation), and its scalar arguments; `arrays`
    per-channel tables and lookup tables; `dims` the mf_dims arguments. `kernel_call` checks
    all three against the kernel's spec (mcuforge.kernels)."""

    kernel: str
    params: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    dims: dict[str, Dims] = field(default_factory=dict)


def dims4(shape: tuple[int, ...]) -> Dims:
    """An IR shape as mf_dims (n, h, w, c): leading 1s fill ranks below 4."""
    if len(shape) > 4:
        raise ValueError(f"shape {shape} has rank {len(shape)}; the kernels take at most 4")
    n, h, w, c = (1,) * (4 - len(shape)) + tuple(int(d) for d in shape)
    return (n, h, w, c)


def _tensor(ctx: Ctx, i: int) -> Tensor:
    t = ctx.ins[i]
    if t is None:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': input {i} is missing")
    return t


def _activation(ctx: Ctx) -> dict[str, int]:
    scale, zp = ctx.out_quant()
    lo, hi = quantized_activation_range(ctx.op.attrs.get("activation", "NONE"), scale, zp, "int8")
    return {"act_min": lo, "act_max": hi}


def _multiplier(real: float) -> tuple[int, int]:
    return qmath.quantize_multiplier(real)


# -- convolutions and dense ----------------------------------------------------------------------


def _weighted(ctx: Ctx, channels: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Offsets, clamp range and per-channel multipliers shared by CONV/DEPTHWISE/FC."""
    x, w = _tensor(ctx, 0), _tensor(ctx, 1)
    in_scale, in_zp = x.scalar_quant()
    out_scale, out_zp = ctx.out_quant()
    assert w.quant is not None, f"{ctx.op.name}: weights are not quantized"
    mult, shift = qmath.channel_multipliers(in_scale, w.quant.scale, out_scale, channels)
    params = {"input_offset": -in_zp, "output_offset": out_zp, **_activation(ctx)}
    arrays = {"multiplier": mult.astype(np.int32), "shift": shift.astype(np.int32)}
    bias = ctx.ins[2] if len(ctx.ins) > 2 else None
    if bias is not None and bias.data is not None:
        arrays["bias"] = bias.data.astype(np.int32)
    return params, arrays


def _fold_input_offset(ctx: Ctx, arrays: dict[str, np.ndarray], input_offset: int,
                       row_sums: np.ndarray) -> None:
    """bias + input_offset * (sum of each output channel's weights), so that the int8 kernels
    multiply raw inputs (TinyEngine's precomputation): sum (x + off) * w = sum x * w + off * sum w.
    Padded cells, which TFLite skips, must then hold the input zero point (the kernels do that)."""
    bias = arrays.get("bias", np.zeros(row_sums.shape, np.int64)).astype(np.int64)
    folded = bias + np.int64(input_offset) * row_sums.astype(np.int64)
    if folded.min(initial=0) < -(1 << 31) or folded.max(initial=0) >= 1 << 31:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': bias with the input offset folded in "
                         f"leaves int32 ({int(folded.min())}..{int(folded.max())})")
    arrays["bias"] = folded.astype(np.int32)


def conv_2d(ctx: Ctx) -> KernelCall:
    w = _tensor(ctx, 1)
    a = ctx.op.attrs
    depth = _tensor(ctx, 0).shape[-1]
    if depth != w.shape[3] and a.get("weight_encoding"):
        raise ValueError(f"CONV_2D '{ctx.op.name}': packed weights ({a['weight_encoding']}) are not "
                         "supported for grouped convolution")
    params, arrays = _weighted(ctx, w.shape[0])
    pt, pl, _, _ = a["pads"]
    params.update(stride=tuple(a["strides"]), padding=(pt, pl), dilation=tuple(a["dilations"]))
    kernel = conv_kernel(w.shape, tuple(a["strides"]), tuple(a["pads"]), a.get("weight_encoding"), depth)
    if a.get("weight_encoding"):
        _packed(ctx, w, params, arrays)
        if a["weight_encoding"] == "b1":  # 1-bit weights (issue 16): offset in the bias
            _fold_b1_offset(ctx, w, params, arrays)
    else:
        assert w.data is not None
        _fold_input_offset(ctx, arrays, params["input_offset"], w.data.sum(axis=(1, 2, 3), dtype=np.int64))
    dims = {"input": dims4(_tensor(ctx, 0).shape), "filter": dims4(w.shape),
            "output": dims4(ctx.outs[0].shape)}
    return KernelCall(kernel, params, arrays, dims)


def _packed(ctx: Ctx, w: Tensor, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """The packed filter of an op with a weight_encoding (ops/packed_weights.py) as call arrays
    (and the mask of the nonzero values for "sparse", the codebook for "cb4")."""
    assert w.data is not None and w.quant is not None
    if np.any(w.quant.zero_point != 0):
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': packed ({ctx.op.attrs['weight_encoding']}) "
                         "weights must be symmetric")
    if ctx.op.attrs["weight_encoding"] == "sparse":
        arrays["mask"], arrays["filter"] = packed_weights.pack_sparse(w.data)
        return
    try:
        packed, book = packed_weights.packed_filter(w.data, ctx.op.attrs)
    except ValueError as e:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': {e}") from None
    arrays["filter"] = packed
    if book is not None:
        arrays["codebook"] = book.reshape(-1)
        params["codebook_per_channel"] = int(book.ndim == 2)


def _fold_b1_offset(ctx: Ctx, w: Tensor, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """The b1 kernels (runtime_c/include/mf_binary.h) sum u = x + 128 over each row's set bits:
    sum s * (x + off) = 2 * S(u) - T(u) + (off - 128) * sum s, and the last term goes into the bias."""
    assert w.data is not None
    rows = w.data.reshape(w.shape[0], -1).sum(axis=1, dtype=np.int64)
    _fold_input_offset(ctx, arrays, params["input_offset"] - 128, rows)


def depthwise_conv_2d(ctx: Ctx) -> KernelCall:
    w = _tensor(ctx, 1)
    a = ctx.op.attrs
    params, arrays = _weighted(ctx, w.shape[3])
    pt, pl, _, _ = a["pads"]
    params.update(stride=tuple(a["strides"]), padding=(pt, pl), dilation=tuple(a["dilations"]),
                  ch_mult=int(a["depth_multiplier"]))
    assert w.data is not None
    _fold_input_offset(ctx, arrays, params["input_offset"], w.data.sum(axis=(0, 1, 2), dtype=np.int64))
    dims = {"input": dims4(_tensor(ctx, 0).shape), "filter": dims4(w.shape),
            "output": dims4(ctx.outs[0].shape)}
    # speed-m4 (issue 12): the rows kernel where it measures faster
    rows = dw_rows_taken(dims["input"], dims["filter"], dims["output"], params["stride"][1],
                         params["dilation"][1])
    return KernelCall("mf_depthwise_conv_rows_s8" if rows else "mf_depthwise_conv_s8", params, arrays, dims)


def fully_connected(ctx: Ctx) -> KernelCall:
    x, w = _tensor(ctx, 0), _tensor(ctx, 1)
    assert w.quant is not None
    params, arrays = _weighted(ctx, w.shape[0])
    per_channel = w.quant.per_channel
    if per_channel and np.any(w.quant.zero_point != 0):
        raise ValueError(f"FULLY_CONNECTED '{ctx.op.name}': per-channel weights must be symmetric "
                         f"(zero points {w.quant.zero_point.tolist()})")
    if not per_channel:
        arrays["multiplier"], arrays["shift"] = arrays["multiplier"][:1], arrays["shift"][:1]
    params.update(filter_offset=-int(w.quant.zero_point[0]), per_channel=int(per_channel),
                  batches=int(np.prod(x.shape[:-1], dtype=np.int64)), accum_depth=int(w.shape[1]),
                  output_depth=int(w.shape[0]))
    if ctx.op.attrs.get("weight_encoding"):
        _packed(ctx, w, params, arrays)
        if ctx.op.attrs["weight_encoding"] == "b1":  # 1-bit weights (issue 16): offset in the bias
            _fold_b1_offset(ctx, w, params, arrays)
    else:  # sum (x + off) * (w + f_off) = sum x * w + f_off * sum x + off * (sum w + depth * f_off)
        assert w.data is not None
        sums = w.data.sum(axis=1, dtype=np.int64) + int(w.shape[1]) * params["filter_offset"]
        _fold_input_offset(ctx, arrays, params["input_offset"], sums)
    return KernelCall(fc_kernel(ctx.op.attrs.get("weight_encoding")), params, arrays)


# -- pooling and reductions ----------------------------------------------------------------------


def _pool(ctx: Ctx, kernel: str) -> KernelCall:
    a = ctx.op.attrs
    x = _tensor(ctx, 0)
    if x.scalar_quant() != ctx.out_quant():
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': input and output quantization differ "
                         f"({x.scalar_quant()} vs {ctx.out_quant()}); the kernel does not rescale")
    pt, pl, _, _ = a["pads"]
    params = {"stride": tuple(a["strides"]), "padding": (pt, pl), **_activation(ctx)}
    kh, kw = a["kernel"]
    dims = {"input": dims4(x.shape), "filter": (1, kh, kw, 1), "output": dims4(ctx.outs[0].shape)}
    return KernelCall(kernel, params, {}, dims)


def average_pool_2d(ctx: Ctx) -> KernelCall:
    return _pool(ctx, "mf_avgpool_s8")


def max_pool_2d(ctx: Ctx) -> KernelCall:
    return _pool(ctx, "mf_maxpool_s8")


def mean(ctx: Ctx) -> KernelCall:
    x = _tensor(ctx, 0)
    axes = sorted({a % len(x.shape) for a in ctx.op.attrs["axes"]}) if x.shape else []
    if len(x.shape) != 4 or axes != [1, 2]:
        return reduction.reduce_call(ctx)
    in_scale, in_zp = x.scalar_quant()
    out_scale, out_zp = ctx.out_quant()
    mult, shift = _multiplier(in_scale / out_scale)
    # TFLM folds 1 / count into the multiplier, using up to log2(count) bits of headroom
    # (capped so the final shift stays >= -31), and truncates the quotient.
    count = x.shape[1] * x.shape[2]
    headroom = min(count.bit_length() - 1, 32, 31 + shift)
    params = {"input_offset": -in_zp, "output_offset": out_zp,
              "multiplier": (mult << headroom) // count, "shift": shift - headroom,
              "act_min": -128, "act_max": 127}
    return KernelCall("mf_mean_s8", params, {}, {"input": dims4(x.shape)})


# -- elementwise ---------------------------------------------------------------------------------


def _binary_dims(ctx: Ctx) -> dict[str, Dims]:
    return {"input1": dims4(_tensor(ctx, 0).shape), "input2": dims4(_tensor(ctx, 1).shape),
            "output": dims4(ctx.outs[0].shape)}


def _add_sub(ctx: Ctx, kernel: str, reals: RealMultipliers) -> KernelCall:
    s1, z1 = _tensor(ctx, 0).scalar_quant()
    s2, z2 = _tensor(ctx, 1).scalar_quant()
    so, zo = ctx.out_quant()
    (m1, sh1), (m2, sh2), (mo, sho) = (_multiplier(r) for r in reals(s1, s2, so, ADD_LEFT_SHIFT))
    if max(sh1, sh2, sho) > 0:  # found by mcuforge fuzz: x - x has a near-zero output scale
        raise MfError(f"{ctx.op.kind} '{ctx.op.name}': output scale {so:.3g} is too small for input scales "
                      f"{s1:.3g} and {s2:.3g}; TFLite Micro needs every rescaling multiplier below 1")
    params = {"input1_offset": -z1, "input2_offset": -z2, "output_offset": zo,
              "left_shift": ADD_LEFT_SHIFT, "input1_multiplier": m1, "input1_shift": sh1,
              "input2_multiplier": m2, "input2_shift": sh2, "output_multiplier": mo,
              "output_shift": sho, **_activation(ctx)}
    return KernelCall(kernel, params, {}, _binary_dims(ctx))


def add(ctx: Ctx) -> KernelCall:
    return _add_sub(ctx, "mf_elementwise_add_s8", elementwise.add_reals)


def sub(ctx: Ctx) -> KernelCall:
    return _add_sub(ctx, "mf_elementwise_sub_s8", elementwise.sub_reals)


def mul(ctx: Ctx) -> KernelCall:
    s1, z1 = _tensor(ctx, 0).scalar_quant()
    s2, z2 = _tensor(ctx, 1).scalar_quant()
    so, zo = ctx.out_quant()
    m, sh = _multiplier(s1 * s2 / so)
    params = {"input1_offset": -z1, "input2_offset": -z2, "output_offset": zo,
              "output_multiplier": m, "output_shift": sh, **_activation(ctx)}
    return KernelCall("mf_elementwise_mul_s8", params, {}, _binary_dims(ctx))


def prelu(ctx: Ctx) -> KernelCall:
    x, alpha = _tensor(ctx, 0), _tensor(ctx, 1)
    si, zi = x.scalar_quant()
    sa, za = alpha.scalar_quant()
    so, zo = ctx.out_quant()
    m1, sh1 = _multiplier(float(np.float32(si)) / float(np.float32(so)))
    m2, sh2 = _multiplier(float(np.float32(si)) * float(np.float32(sa)) / float(np.float32(so)))
    params = {"input_offset": -zi, "alpha_offset": -za, "output_offset": zo,
              "identity_multiplier": m1, "identity_shift": sh1, "alpha_multiplier": m2,
              "alpha_shift": sh2, "act_min": -128, "act_max": 127}
    # A constant alpha is a data input like a computed one (codegen stores it once).
    return KernelCall("mf_prelu_s8", params, {},
                      {"input": dims4(x.shape), "alpha": dims4(alpha.shape)})


def softmax(ctx: Ctx) -> KernelCall:
    x = _tensor(ctx, 0)
    in_scale, _ = x.scalar_quant()
    beta = float(ctx.op.attrs["beta"])
    real = min(beta * float(np.float32(in_scale)) * float(1 << (31 - SOFTMAX_DIFF_BITS)),
               float((1 << 31) - 1))
    mult, left_shift = _multiplier(real)
    if left_shift < 0:
        raise ValueError(f"SOFTMAX '{ctx.op.name}': beta * input scale {real} is below 2**-26")
    diff_min = -qmath.calculate_input_radius(SOFTMAX_DIFF_BITS, left_shift, 31)
    params = {"input_multiplier": mult, "input_left_shift": left_shift, "diff_min": diff_min,
              "rows": int(np.prod(x.shape[:-1], dtype=np.int64)), "depth": int(x.shape[-1])}
    return KernelCall("mf_softmax_s8", params)


def lut(ctx: Ctx) -> KernelCall:
    """Any int8 -> int8 op of one value: the table is the integer reference run on all 256."""
    x = _tensor(ctx, 0)
    ref = lookup(ctx.op.kind).ref_int
    if ref is None:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': no integer reference to build a table")
    values = np.arange(-128, 128, dtype=np.int8).reshape(1, 1, 1, 256)
    x256 = replace(x, shape=values.shape, data=None)
    out256 = replace(ctx.outs[0], shape=values.shape, data=None)
    table = ref(Ctx(ctx.op, [x256, *ctx.ins[1:]], [out256]), [values])[0]
    params = {"size": int(np.prod(x.shape, dtype=np.int64))}
    return KernelCall("mf_lut_s8", params, {"table": np.asarray(table, dtype=np.int8).reshape(256)})


# -- elementwise-ops: min/max, division, L2 normalization ------------------------------------------


def minimum_maximum(ctx: Ctx) -> KernelCall:
    minimum_maximum_op.check_shared_quant(ctx)
    return KernelCall(f"mf_elementwise_{ctx.op.kind.lower()}_s8", {}, {}, _binary_dims(ctx))


def div(ctx: Ctx) -> KernelCall:
    s1, z1 = _tensor(ctx, 0).scalar_quant()
    s2, z2 = _tensor(ctx, 1).scalar_quant()
    so, zo = ctx.out_quant()
    m, sh = div_op.div_multiplier(s1, s2, so)
    params = {"input1_offset": -z1, "input2_offset": -z2, "output_offset": zo,
              "output_multiplier": m, "output_shift": sh, **_activation(ctx)}
    return KernelCall("mf_elementwise_div_s8", params, {}, _binary_dims(ctx))


def l2_normalization(ctx: Ctx) -> KernelCall:
    x = _tensor(ctx, 0)
    params = {"input_offset": -x.scalar_quant()[1], "rows": int(np.prod(x.shape[:-1], dtype=np.int64)),
              "depth": int(x.shape[-1])}
    return KernelCall("mf_l2_normalization_s8", params)


def log_softmax(ctx: Ctx) -> KernelCall:
    x = _tensor(ctx, 0)
    params = log_softmax_op.log_softmax_params(x.scalar_quant()[0])
    params.update(rows=int(np.prod(x.shape[:-1], dtype=np.int64)), depth=int(x.shape[-1]))
    return KernelCall("mf_log_softmax_s8", params)


# -- data movement -------------------------------------------------------------------------------


def pad(ctx: Ctx) -> KernelCall:
    x = _tensor(ctx, 0)
    pads = [tuple(p) for p in ctx.op.attrs["pads"]]
    pads = [(0, 0)] * (4 - len(pads)) + pads
    params = {"before": [int(p[0]) for p in pads], "after": [int(p[1]) for p in pads],
              "value": quantized_pad_value(ctx)}
    return KernelCall("mf_pad_s8", params, {}, {"input": dims4(x.shape)})


def concatenation(ctx: Ctx) -> KernelCall:
    ins = [t for t in ctx.ins if t is not None]
    if len(ctx.outs[0].shape) > 4:  # tflite-import: rank 5 and more as strided copies
        return strided_copy(ctx)
    quant = ctx.out_quant()
    for t in ins:
        if t.scalar_quant() != quant:
            raise ValueError(f"CONCATENATION '{ctx.op.name}': input '{t.name}' has quantization "
                             f"{t.scalar_quant()}, the output {quant}; the kernel only copies")
    rank = len(ctx.outs[0].shape)
    axis = ctx.op.attrs["axis"] % rank + (4 - rank)
    params = {"num_inputs": len(ins), "axis": axis}
    dims = {f"input{i}": dims4(t.shape) for i, t in enumerate(ins)}
    return KernelCall("mf_concat_s8", params, {}, dims)


def transpose(ctx: Ctx) -> KernelCall:
    x = _tensor(ctx, 0)
    if len(x.shape) > 4:  # tflite-import: rank 5 and 6 (channel shuffles) as a strided copy
        return strided_copy(ctx)
    k = 4 - len(x.shape)
    perm = list(range(k)) + [int(p) + k for p in ctx.op.attrs["perm"]]
    return KernelCall("mf_transpose_s8", {"perm": perm}, {}, {"input": dims4(x.shape)})


# -- attention (issue 11) ------------------------------------------------------------------------


# sum |a b| + |oa colsum b| + |ob rowsum a| + K |oa ob| <= K (128^2 + 2 * 255 * 128 + 255^2) < 2^31
BATCH_MATMUL_MAX_DEPTH = 14000


def batch_matmul(ctx: Ctx) -> KernelCall:
    """TFLM's BatchMatMul prepare: one multiplier lhs_scale * rhs_scale / out_scale (double)."""
    lhs, rhs = _tensor(ctx, 0), _tensor(ctx, 1)
    depth = lhs.shape[-2] if ctx.op.attrs["adj_x"] else lhs.shape[-1]
    if depth > BATCH_MATMUL_MAX_DEPTH:
        raise ValueError(f"BATCH_MATMUL '{ctx.op.name}': inner dimension {depth} exceeds "
                         f"{BATCH_MATMUL_MAX_DEPTH}, where the kernel's int32 offset terms could overflow")
    (sa, za), (sb, zb) = lhs.scalar_quant(), rhs.scalar_quant()
    so, zo = ctx.out_quant()
    mult, shift = _multiplier(float(sa) * float(sb) / float(so))
    params = {"lhs_offset": -za, "rhs_offset": -zb, "output_offset": zo, "output_multiplier": mult,
              "output_shift": shift, "adj_x": int(bool(ctx.op.attrs["adj_x"])),
              "adj_y": int(bool(ctx.op.attrs["adj_y"])), "act_min": -128, "act_max": 127}
    dims = {"lhs": dims4(lhs.shape), "rhs": dims4(rhs.shape), "output": dims4(ctx.outs[0].shape)}
    return KernelCall("mf_batch_matmul_s8", params, {}, dims)


# -- spatial ops (spatial-ops area): transposed convolution, resize (grouped CONV_2D: conv_2d) -----


def transpose_conv(ctx: Ctx) -> KernelCall:
    w = _tensor(ctx, 1)
    a = ctx.op.attrs
    params, arrays = _weighted(ctx, w.shape[0])  # the bias stays the layer's own: not folded
    params.update(stride=tuple(a["strides"]), padding=tuple(a["padding"]), dilation=(1, 1))
    assert w.data is not None
    arrays["filter"] = transpose_phases(w.data, tuple(a["strides"]))
    dims = {"input": dims4(_tensor(ctx, 0).shape), "filter": dims4(w.shape),
            "output": dims4(ctx.outs[0].shape)}
    return KernelCall("mf_transpose_conv_s8", params, arrays, dims)


def _same_quant(ctx: Ctx) -> Tensor:
    x = _tensor(ctx, 0)
    if x.scalar_quant() != ctx.out_quant():
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': input and output quantization differ "
                         f"({x.scalar_quant()} vs {ctx.out_quant()}); the kernel does not rescale")
    return x


def resize_nearest_neighbor(ctx: Ctx) -> KernelCall:
    x = _same_quant(ctx)
    rows, cols = resize.nearest_tables(ctx.op, x.shape[1], x.shape[2])
    arrays = {"rows": rows.astype(np.int32), "cols": cols.astype(np.int32)}
    return KernelCall("mf_resize_nearest_s8", {}, arrays,
                      {"input": dims4(x.shape), "output": dims4(ctx.outs[0].shape)})


def resize_bilinear(ctx: Ctx) -> KernelCall:
    x = _same_quant(ctx)
    ys, xs = resize.bilinear_tables(ctx.op, x.shape[1], x.shape[2])
    arrays = {"y_table": np.stack(ys, axis=1).reshape(-1).astype(np.int32),
              "x_table": np.stack(xs, axis=1).reshape(-1).astype(np.int32)}
    return KernelCall("mf_resize_bilinear_s8", {}, arrays,
                      {"input": dims4(x.shape), "output": dims4(ctx.outs[0].shape)})


SPATIAL_BINDINGS: dict[str, Callable[[Ctx], KernelCall]] = {
    "TRANSPOSE_CONV": transpose_conv,
    "RESIZE_NEAREST_NEIGHBOR": resize_nearest_neighbor,
    "RESIZE_BILINEAR": resize_bilinear,
}


def strided_copy(ctx: Ctx) -> KernelCall:
    """tflite-import: a data-movement op as N-D strided copies (codegen/copy_plan.py); params["copies"]
    holds, per copy, its input/output index, element offsets and mf_copy_params fields."""
    from mcuforge.codegen.copy_plan import copies_for

    return KernelCall("mf_strided_copy_s8", {"copies": [c.params() for c in copies_for(ctx)]})


# Kernels whose output may overwrite an input of the output's shape (their spec says so).
IN_PLACE_KERNELS = frozenset({name for name, spec in SPECS.items() if spec.in_place})


# -- recurrent area ------------------------------------------------------------------------------


def lstm(ctx: Ctx) -> KernelCall:
    """UNIDIRECTIONAL_SEQUENCE_LSTM: the multipliers of ops/lstm.py's integer_params, input and
    hidden offsets folded into per-gate biases (exact in integers)."""
    x, w, r, b = (_tensor(ctx, i) for i in range(4))
    assert w.data is not None and r.data is not None and b.data is not None
    q = integer_params(ctx)
    w_sums = w.data.astype(np.int64).sum(axis=2)
    r_sums = r.data.astype(np.int64).sum(axis=2)
    input_bias = b.data.astype(np.int64) + int(q["input_offset"]) * w_sums
    recurrent_bias = -int(q["hidden_zp"]) * r_sums
    for name, v in (("input", input_bias), ("recurrent", recurrent_bias)):
        if v.min() < -(1 << 31) or v.max() >= 1 << 31:
            raise ValueError(f"UNIDIRECTIONAL_SEQUENCE_LSTM '{ctx.op.name}': {name} bias with the "
                             "offset folded in leaves int32")
    time_major = bool(ctx.op.attrs.get("time_major"))
    batches, steps = (x.shape[1], x.shape[0]) if time_major else (x.shape[0], x.shape[1])
    params = {"batches": int(batches), "time_steps": int(steps), "input_size": int(x.shape[2]),
              "hidden_size": int(r.shape[2]), "time_major": int(time_major),
              "hidden_zp": int(q["hidden_zp"]), "tanh_multiplier": int(q["tanh_multiplier"]),
              "tanh_shift": int(q["tanh_shift"]), "cell_clip": int(q["cell_clip"])}
    arrays = {"input_weights": w.data.astype(np.int8), "recurrent_weights": r.data.astype(np.int8),
              "input_bias": input_bias.astype(np.int32), "recurrent_bias": recurrent_bias.astype(np.int32),
              "multiplier": np.concatenate([q["in_multiplier"], q["rec_multiplier"]]).astype(np.int32),
              "shift": np.concatenate([q["in_shift"], q["rec_shift"]]).astype(np.int32),
              "mul_multiplier": np.asarray(q["mul_multiplier"], np.int32),
              "mul_shift": np.asarray(q["mul_shift"], np.int32)}
    return KernelCall("mf_lstm_s8", params, arrays)




# -- stateful area -------------------------------------------------------------------------------


def svdf(ctx: Ctx) -> KernelCall:
    """SVDF: ops/svdf.py's multipliers; the memory is the op's state (codegen's state buffer)."""
    (m1, s1), (m2, s2) = svdf_multipliers(ctx)
    ins = [t.shape if t is not None else None for t in ctx.ins]
    batches, inputs, filters, memory, units = svdf_dims(ctx.op, ins)
    wf, wt = _tensor(ctx, 1), _tensor(ctx, 2)
    assert wf.data is not None and wt.data is not None
    bias = ctx.ins[3] if len(ctx.ins) > 3 else None
    rank, state_zp = int(ctx.op.attrs["rank"]), int(ctx.op.attrs["state_zero_point"])
    # zero points folded into the biases (exact in integers): sum (x - zp) w = sum x w - zp sum w
    feature_bias = -ctx.in_quant(0)[1] * wf.data.astype(np.int64).sum(axis=1)
    time_sums = wt.data.astype(np.int64).reshape(units, rank * memory).sum(axis=1)
    unit_bias = (bias.data.astype(np.int64) if bias is not None and bias.data is not None
                 else np.zeros(units, np.int64)) - state_zp * time_sums
    for name, v in (("feature", feature_bias), ("unit", unit_bias)):
        if v.min() < -(1 << 31) or v.max() >= 1 << 31:
            raise ValueError(f"SVDF '{ctx.op.name}': {name} bias with the zero point folded in leaves int32")
    params = {"batches": batches, "input_size": inputs, "num_filters": filters, "memory_size": memory,
              "rank": rank, "state_zp": state_zp, "output_zp": ctx.out_quant()[1],
              "feature_multiplier": m1, "feature_shift": s1, "output_multiplier": m2, "output_shift": s2}
    state8 = ctx.op.attrs.get("state_dtype") == "int8"  # TFLite Micro's int8-state variant
    arrays = {"feature_weights": wf.data.astype(np.int8), "feature_bias": feature_bias.astype(np.int32),
              "time_weights": wt.data.astype(np.int8 if state8 else np.int16),
              "bias": unit_bias.astype(np.int32)}
    return KernelCall("mf_svdf_s8_s8" if state8 else "mf_svdf_s8", params, arrays)


def _lut_kinds() -> dict[str, Callable[[Ctx], KernelCall]]:
    return {kind: lut for kind, opdef in REGISTRY.items() if opdef.lut}


from mcuforge import kernel_params_real as real_models  # noqa: E402  real models: QUANTIZE to int32
from mcuforge import kernel_params_reduce as reduction  # noqa: E402  (it uses KernelCall)
from mcuforge import kernel_params_s16  # noqa: E402  int16 activations (issue 11)

# -- ic area (issue 13): a residual block row by row --------------------------------------------


def residual_rows(ctx: Ctx) -> KernelCall:
    """RESIDUAL_ROWS (ops/residual_rows.py): the values of its two CONV_2D calls and its ADD call,
    as those bindings compute them, in one mf_residual_rows_s8 call (prefix a_ / b_ for the
    convolutions; the add's fields as mf_add_params names them)."""
    block = ctx.attr("block")
    subs = [Ctx(op, [block.tensors[n] if n else None for n in op.inputs],
                [block.tensors[n] for n in op.outputs]) for op in block.ops]
    call_a, call_b, call_add = conv_2d(subs[0]), conv_2d(subs[1]), add(subs[2])
    params: dict[str, Any] = dict(call_add.params)
    arrays: dict[str, np.ndarray] = {}
    for tag, call, sub in (("a", call_a, subs[0]), ("b", call_b, subs[1])):
        if call.kernel not in ("mf_convolve_s8", "mf_convolve_1x1_s8", "mf_convolve_1x1_one_s8"):
            raise ValueError(f"RESIDUAL_ROWS '{ctx.op.name}': conv {tag} runs {call.kernel}, "
                             "not int8 weights")
        w = _tensor(sub, 1)
        assert w.data is not None
        p = call.params
        params.update({f"{tag}_input_offset": p["input_offset"], f"{tag}_output_offset": p["output_offset"],
                       f"{tag}_pad_h": p["padding"][0], f"{tag}_pad_w": p["padding"][1],
                       f"{tag}_act_min": p["act_min"], f"{tag}_act_max": p["act_max"]})
        arrays.update({f"filter_{tag}": w.data.astype(np.int8), f"bias_{tag}": call.arrays["bias"],
                       f"multiplier_{tag}": call.arrays["multiplier"], f"shift_{tag}": call.arrays["shift"]})
    params["shortcut_first"] = int(block.add.inputs[0] == block.x)
    dims = {"input": call_a.dims["input"], "filter_a": call_a.dims["filter"],
            "filter_b": call_b.dims["filter"], "output": dims4(ctx.outs[0].shape)}
    return KernelCall("mf_residual_rows_s8", params, arrays, dims)


BINDINGS: dict[str, Callable[[Ctx], KernelCall]] = {
    "CONV_2D": conv_2d,
    "DEPTHWISE_CONV_2D": depthwise_conv_2d,
    "FULLY_CONNECTED": fully_connected,
    "AVERAGE_POOL_2D": average_pool_2d,
    "MAX_POOL_2D": max_pool_2d,
    "MEAN": mean,
    "ADD": add,
    "SUB": sub,
    "MUL": mul,
    "PRELU": prelu,
    "SOFTMAX": softmax,
    "PAD": pad,
    "CONCATENATION": concatenation,
    "TRANSPOSE": transpose,
    # attention (issue 11)
    "BATCH_MATMUL": batch_matmul,
    # recurrent area
    "UNIDIRECTIONAL_SEQUENCE_LSTM": lstm,
    # stateful area
    "SVDF": svdf,
    **_lut_kinds(),
    **reduction.BINDINGS,  # area reductions: SUM, REDUCE_MAX/MIN, ARG_MAX/MIN, SQUARED_DIFFERENCE, LAYER_NORM
    **SPATIAL_BINDINGS,  # spatial-ops area
    # tflite-import: data movement through mf_strided_copy_s8
    "STRIDED_SLICE": strided_copy,
    "SPLIT": strided_copy,
    "TILE": strided_copy,
    "BROADCAST_TO": strided_copy,
    "GATHER": strided_copy,
    "MIRROR_PAD": strided_copy,  # reflect / symmetric / edge / wrap padding
    # elementwise-ops
    "MAXIMUM": minimum_maximum,
    "MINIMUM": minimum_maximum,
    "DIV": div,
    "L2_NORMALIZATION": l2_normalization,
    "LOG_SOFTMAX": log_softmax,
    # ic area (issue 13): a residual block row by row
    "RESIDUAL_ROWS": residual_rows,
}
"""Op kind -> its C binding. RESHAPE has none: generated code aliases the buffer."""


def kernel_call(ctx: Ctx, family: str = "host") -> KernelCall:
    """The C binding of an int8 op, or of an op with int16 activations (16x8 mode, through
    kernel_params_s16), with the kernel core `family` runs for it (mcuforge.kernels.target: one of
    FAMILIES; "host" keeps the binding's own choice) and, where that kernel takes its filter in
    another layout (target.FILTER_LAYOUTS), the layer's weights in it; ValueError naming the op
    when no kernel can run it."""
    call = _bound(ctx)
    chosen = for_target(call.kernel, call, family)
    if chosen == call.kernel:
        return call
    layout = FILTER_LAYOUTS.get(chosen)
    if layout is None:
        call = replace(call, kernel=chosen)
    else:
        weights = ctx.ins[1].data if len(ctx.ins) > 1 and ctx.ins[1] is not None else None
        assert weights is not None, f"{chosen}: '{ctx.op.name}' has no constant filter to lay out"
        call = replace(call, kernel=chosen, arrays={**call.arrays, "filter": layout(weights)})
    try:
        check_call(call)  # the chosen kernel's own spec
    except ValueError as e:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': {e}") from None
    return call


def _bound(ctx: Ctx) -> KernelCall:
    """The binding's call for ctx's op, from the first table that has one."""
    by_types = real_models.binding(ctx)  # the table keyed by kind and data types comes first
    if by_types is not None:
        return _checked(ctx, by_types)
    if kernel_params_s16.is_int16(ctx):  # int16 activations (issue 11)
        s16 = kernel_params_s16.BINDINGS_S16.get(ctx.op.kind)
        if s16 is None:
            raise ValueError(f"{ctx.op.kind} '{ctx.op.name}' has no int16 kernel (16x8 mode); int16 kernels "
                             f"exist for {', '.join(sorted(kernel_params_s16.BINDINGS_S16))}")
        return _checked(ctx, s16)
    try:
        binding = BINDINGS[ctx.op.kind]
    except KeyError:
        known = ", ".join(sorted(BINDINGS))
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': no int8 kernel; kernels exist for {known}"
                         ) from None
    activations = [t for t in ctx.ins if t is not None and not t.is_const]
    opdef = REGISTRY.get(ctx.op.kind)
    if opdef is None or opdef.out_quant != "none":  # "none": ops whose output is integer indices
        activations += list(ctx.outs)
    wrong = [f"'{t.name}' ({t.dtype})" for t in activations if t.dtype != "int8"]
    if wrong:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': the mf_nn kernels take int8 tensors, "
                         f"got {', '.join(wrong)}")
    return _checked(ctx, binding)


def _checked(ctx: Ctx, binding: Callable[[Ctx], KernelCall]) -> KernelCall:
    """The binding's call, its kernel specified and its values checked against the spec."""
    try:
        call = binding(ctx)
    except ValueError as e:  # tflite-import: say which node when the binding did not
        if f"'{ctx.op.name}'" in str(e):
            raise
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': {e}") from None
    if call.kernel not in SPECS:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': kernel {call.kernel} has no spec in "
                         "mcuforge.kernels")
    try:
        check_call(call)
    except ValueError as e:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': {e}") from None
    return call
