"""The C binding of each op with int16 activations (issue 11: TFLite's 16x8 mode), as
mcuforge.kernel_params does for int8: which mf_nn kernel runs the op and with which values,
computed as TFLite Micro's 16x8 prepare functions compute them.

16x8 tensors are symmetric (zero point 0), weights int8 symmetric per channel, biases int64
(int32 biases are widened). Data-movement ops move bytes: their int16 tensors are handed to the
int8 byte-moving kernels with every element seen as two bytes (`mf_strided_copy_s8` copies with
a trailing axis of 2, `mf_pad_s8` with doubled channels). Ops with no entry in BINDINGS_S16 are
refused by `kernel_call` with "has no int16 kernel".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mcuforge.ir.graph import Tensor
from mcuforge.ops import clamp as clamp_op
from mcuforge.ops import elementwise, int16_tables
from mcuforge.ops import leaky_relu as leaky_relu_op
from mcuforge.ops import minimum_maximum as minimum_maximum_op
from mcuforge.ops.common import quantized_activation_range
from mcuforge.ops.lstm import SIGMOID_TABLE
from mcuforge.ops.mean import mean_multiplier
from mcuforge.ops.pad import quantized_pad_value
from mcuforge.ops.registry import Ctx
from mcuforge.reference import qmath

Dims = tuple[int, int, int, int]
ADD_LEFT_SHIFT_S16 = elementwise.LEFT_SHIFT["int16"]  # TFLite's headroom for int16 ADD/SUB (15)


def _call(kernel: str, params: dict[str, Any], arrays: dict[str, np.ndarray] | None = None,
          dims: dict[str, Dims] | None = None) -> Any:
    from mcuforge.kernel_params import KernelCall

    return KernelCall(kernel, params, arrays or {}, dims or {})


def _dims4(shape: tuple[int, ...]) -> Dims:
    from mcuforge.kernel_params import dims4

    return dims4(shape)


def _tensor(ctx: Ctx, i: int) -> Tensor:
    t = ctx.ins[i]
    if t is None:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': input {i} is missing")
    return t


def _symmetric(ctx: Ctx, *tensors: Tensor) -> None:
    """16x8 activations have zero point 0 (TFLite Micro checks it in its int16 kernels)."""
    for t in tensors:
        if t.dtype == "int16" and t.scalar_quant()[1] != 0:
            raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': int16 tensor '{t.name}' has zero point "
                             f"{t.scalar_quant()[1]}; 16x8 mode needs 0")


def _activation(ctx: Ctx) -> dict[str, int]:
    scale, zp = ctx.out_quant()
    lo, hi = quantized_activation_range(ctx.op.attrs.get("activation", "NONE"), scale, zp, "int16")
    return {"act_min": lo, "act_max": hi}


# -- convolutions and dense ----------------------------------------------------------------------


def _weighted(ctx: Ctx, channels: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Clamp range, per-channel multipliers and the int64 bias of CONV/DEPTHWISE/FC."""
    x, w = _tensor(ctx, 0), _tensor(ctx, 1)
    _symmetric(ctx, x, ctx.outs[0])
    assert w.quant is not None, f"{ctx.op.name}: weights are not quantized"
    if np.any(w.quant.zero_point != 0) or w.dtype != "int8":
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': 16x8 mode takes symmetric int8 weights, "
                         f"got {w.dtype} with zero points {sorted(set(w.quant.zero_point.tolist()))}")
    if ctx.op.attrs.get("weight_encoding"):
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': packed weights "
                         f"({ctx.op.attrs['weight_encoding']}) have no int16-activation kernel")
    mult, shift = qmath.channel_multipliers(x.scalar_quant()[0], w.quant.scale, ctx.out_quant()[0], channels)
    params = {"input_offset": 0, "output_offset": 0, **_activation(ctx)}
    arrays = {"multiplier": mult.astype(np.int32), "shift": shift.astype(np.int32)}
    bias = ctx.ins[2] if len(ctx.ins) > 2 else None
    if bias is not None and bias.data is not None:
        arrays["bias"] = bias.data.astype(np.int64).reshape(-1)
    return params, arrays


def _window_dims(ctx: Ctx) -> dict[str, Dims]:
    return {"input": _dims4(_tensor(ctx, 0).shape), "filter": _dims4(_tensor(ctx, 1).shape),
            "output": _dims4(ctx.outs[0].shape)}


def conv_2d(ctx: Ctx) -> Any:
    """CONV_2D, grouped too: a filter depth below C_in (groups = C_in / depth, TFLM's
    ConvPerChannel with groups); mf_convolve_s16 reads the groups from the dims."""
    w, a = _tensor(ctx, 1), ctx.op.attrs
    params, arrays = _weighted(ctx, w.shape[0])
    pt, pl, _, _ = a["pads"]
    params.update(stride=tuple(a["strides"]), padding=(pt, pl), dilation=tuple(a["dilations"]))
    return _call("mf_convolve_s16", params, arrays, _window_dims(ctx))


def transpose_conv(ctx: Ctx) -> Any:
    """TRANSPOSE_CONV (real models area: TFLite Micro's seanet integration tests): OHWI weights as
    they are, the top/left crop as padding; mf_transpose_conv_s16 gathers each output pixel."""
    w, a = _tensor(ctx, 1), ctx.op.attrs
    params, arrays = _weighted(ctx, w.shape[0])
    params.update(stride=tuple(a["strides"]), padding=tuple(a["padding"]), dilation=(1, 1))
    return _call("mf_transpose_conv_s16", params, arrays, _window_dims(ctx))


def depthwise_conv_2d(ctx: Ctx) -> Any:
    w, a = _tensor(ctx, 1), ctx.op.attrs
    params, arrays = _weighted(ctx, w.shape[3])
    pt, pl, _, _ = a["pads"]
    params.update(stride=tuple(a["strides"]), padding=(pt, pl), dilation=tuple(a["dilations"]),
                  ch_mult=int(a["depth_multiplier"]))
    return _call("mf_depthwise_conv_s16", params, arrays, _window_dims(ctx))


def fully_connected(ctx: Ctx) -> Any:
    x, w = _tensor(ctx, 0), _tensor(ctx, 1)
    assert w.quant is not None
    params, arrays = _weighted(ctx, w.shape[0])
    if not w.quant.per_channel:
        arrays["multiplier"], arrays["shift"] = arrays["multiplier"][:1], arrays["shift"][:1]
    params.update(filter_offset=0, per_channel=int(w.quant.per_channel),
                  batches=int(np.prod(x.shape[:-1], dtype=np.int64)), accum_depth=int(w.shape[1]),
                  output_depth=int(w.shape[0]))
    return _call("mf_fully_connected_s16", params, arrays)


# -- pooling and mean ----------------------------------------------------------------------------


def _pool(ctx: Ctx, kernel: str) -> Any:
    a, x = ctx.op.attrs, _tensor(ctx, 0)
    if x.scalar_quant() != ctx.out_quant():
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': input and output quantization differ "
                         f"({x.scalar_quant()} vs {ctx.out_quant()}); the kernel does not rescale")
    pt, pl, _, _ = a["pads"]
    kh, kw = a["kernel"]
    dims = {"input": _dims4(x.shape), "filter": (1, kh, kw, 1), "output": _dims4(ctx.outs[0].shape)}
    return _call(kernel, {"stride": tuple(a["strides"]), "padding": (pt, pl), **_activation(ctx)}, {}, dims)


def average_pool_2d(ctx: Ctx) -> Any:
    return _pool(ctx, "mf_avgpool_s16")


def max_pool_2d(ctx: Ctx) -> Any:
    return _pool(ctx, "mf_maxpool_s16")


def mean(ctx: Ctx) -> Any:
    """MEAN over one contiguous block of axes (H and W of NHWC, the time axis of (N, T, C), ...):
    the input seen as (outer, reduced, 1, inner), whose H the kernel averages with int32 sums."""
    x = _tensor(ctx, 0)
    axes = sorted({a % len(x.shape) for a in ctx.op.attrs["axes"]}) if x.shape else []
    if not axes or axes != list(range(axes[0], axes[-1] + 1)):
        raise ValueError(f"MEAN '{ctx.op.name}': the int16 kernel averages one contiguous block of axes; "
                         f"axes {axes} of shape {x.shape} have no int16 kernel")
    outer = int(np.prod(x.shape[:axes[0]], dtype=np.int64))
    count = int(np.prod(x.shape[axes[0]:axes[-1] + 1], dtype=np.int64))
    inner = int(np.prod(x.shape[axes[-1] + 1:], dtype=np.int64))
    if count >= 1 << 16:
        raise ValueError(f"MEAN '{ctx.op.name}': {count} values per mean could overflow the kernel's "
                         "int32 sums of int16 values (at most 65535)")
    (in_scale, in_zp), (out_scale, out_zp) = x.scalar_quant(), ctx.out_quant()
    multiplier, shift = mean_multiplier(in_scale, out_scale, count)
    params = {"input_offset": -in_zp, "output_offset": out_zp, "multiplier": multiplier, "shift": shift,
              "act_min": -(1 << 15), "act_max": (1 << 15) - 1}
    return _call("mf_mean_s16", params, {}, {"input": (outer, count, 1, inner)})


# -- elementwise ---------------------------------------------------------------------------------


def _binary_dims(ctx: Ctx) -> dict[str, Dims]:
    return {"input1": _dims4(_tensor(ctx, 0).shape), "input2": _dims4(_tensor(ctx, 1).shape),
            "output": _dims4(ctx.outs[0].shape)}


def _add_sub(ctx: Ctx, kernel: str, reals: Callable[..., tuple[float, float, float]]) -> Any:
    (s1, z1), (s2, z2) = _tensor(ctx, 0).scalar_quant(), _tensor(ctx, 1).scalar_quant()
    so, zo = ctx.out_quant()
    reals_ = reals(s1, s2, so, ADD_LEFT_SHIFT_S16)
    (m1, sh1), (m2, sh2), (mo, sho) = (qmath.quantize_multiplier(r) for r in reals_)
    if max(sh1, sh2, sho) > 0:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': output scale {so:.3g} is too small for input "
                         f"scales {s1:.3g} and {s2:.3g}; TFLite Micro needs every multiplier below 1")
    params = {"input1_offset": -z1, "input2_offset": -z2, "output_offset": zo,
              "left_shift": ADD_LEFT_SHIFT_S16, "input1_multiplier": m1, "input1_shift": sh1,
              "input2_multiplier": m2, "input2_shift": sh2, "output_multiplier": mo,
              "output_shift": sho, **_activation(ctx)}
    return _call(kernel, params, {}, _binary_dims(ctx))


def add(ctx: Ctx) -> Any:
    _symmetric(ctx, _tensor(ctx, 0), _tensor(ctx, 1), ctx.outs[0])
    return _add_sub(ctx, "mf_elementwise_add_s16", elementwise.add_reals)


def sub(ctx: Ctx) -> Any:
    _symmetric(ctx, _tensor(ctx, 0), _tensor(ctx, 1), ctx.outs[0])
    return _add_sub(ctx, "mf_elementwise_sub_s16", elementwise.sub_reals)


def mul(ctx: Ctx) -> Any:
    _symmetric(ctx, _tensor(ctx, 0), _tensor(ctx, 1), ctx.outs[0])
    s1, s2 = _tensor(ctx, 0).scalar_quant()[0], _tensor(ctx, 1).scalar_quant()[0]
    m, sh = qmath.quantize_multiplier(s1 * s2 / ctx.out_quant()[0])
    params = {"input1_offset": 0, "input2_offset": 0, "output_offset": 0,
              "output_multiplier": m, "output_shift": sh, **_activation(ctx)}
    return _call("mf_elementwise_mul_s16", params, {}, _binary_dims(ctx))


# -- softmax, logistic, tanh: TFLite's interpolated tables (ops/int16_tables.py) -------------------


def _fixed_output(ctx: Ctx) -> None:
    """TFLM's int16 SOFTMAX, LOGISTIC and TANH write Q0.15: scale 1/32768, zero point 0."""
    x, y = _tensor(ctx, 0), ctx.outs[0]
    _symmetric(ctx, x, y)
    if x.dtype != "int16" or y.dtype != "int16" or abs(y.scalar_quant()[0] * 32768 - 1) > 1e-3:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': the int16 kernel takes int16 in and int16 out at "
                         f"scale 1/32768, got {x.dtype} -> {y.dtype} at scale {y.scalar_quant()[0]:.6g}")


def softmax(ctx: Ctx) -> Any:
    if _tensor(ctx, 0).dtype == "int8":
        return softmax_s8_s16(ctx)
    _fixed_output(ctx)
    x = _tensor(ctx, 0)
    multiplier, shift = int16_tables.softmax_params(x.scalar_quant()[0], ctx.op.attrs["beta"])
    params = {"input_multiplier": multiplier, "input_left_shift": shift,
              "rows": int(np.prod(x.shape[:-1], dtype=np.int64)), "depth": int(x.shape[-1])}
    arrays = {"exp_lut": int16_tables.EXP_LUT, "reciprocal_lut": int16_tables.RECIPROCAL_LUT}
    return _call("mf_softmax_s16", params, arrays)


def _sigmoid_tanh(ctx: Ctx, tanh: bool) -> Any:
    _fixed_output(ctx)
    x = _tensor(ctx, 0)
    multiplier, shift = int16_tables.activation_params(x.scalar_quant()[0], tanh)
    params = {"input_multiplier": multiplier, "input_left_shift": shift, "size": int(x.size)}
    table = {"sigmoid_table": SIGMOID_TABLE.astype(np.uint16)}
    return _call("mf_tanh_s16" if tanh else "mf_logistic_s16", params, table)


def logistic(ctx: Ctx) -> Any:
    return _sigmoid_tanh(ctx, tanh=False)


def tanh(ctx: Ctx) -> Any:
    return _sigmoid_tanh(ctx, tanh=True)


# -- requantization ------------------------------------------------------------------------------

BITS = {"int8": 8, "int16": 16}


def quantize(ctx: Ctx) -> Any:
    """QUANTIZE from and to int8 or int16 (one side int16): TFLM's Requantize."""
    x, y = _tensor(ctx, 0), ctx.outs[0]
    if x.dtype not in BITS or y.dtype not in BITS:
        raise ValueError(f"QUANTIZE '{ctx.op.name}': {x.dtype} -> {y.dtype} has no int16 kernel "
                         "(int8 and int16 only)")
    (xs, xz), (ys, yz) = x.scalar_quant(), y.scalar_quant()
    m, sh = qmath.quantize_multiplier(xs / ys)
    params = {"input_offset": -xz, "output_offset": yz, "multiplier": m, "shift": sh,
              "input_bits": BITS[x.dtype], "output_bits": BITS[y.dtype], "size": int(x.size)}
    return _call("mf_requantize_s16", params)


# -- data movement as bytes ----------------------------------------------------------------------


def _same_encoding(ctx: Ctx) -> None:
    enc = {(t.dtype, t.scalar_quant()) for t in [*ctx.ins, *ctx.outs] if t is not None and not t.is_const}
    if len(enc) > 1:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': inputs and outputs have different encodings "
                         f"{sorted(enc)}; the kernel only moves bytes")


def byte_copies(ctx: Ctx) -> Any:
    """A data-movement op on int16 tensors as mf_strided_copy_s8 copies of bytes: each copy of
    elements gets a trailing axis of the element's 2 bytes, its strides and offsets doubled."""
    from mcuforge.codegen.copy_plan import MAX_RANK, copies_for, make_copy

    _same_encoding(ctx)
    out = []
    for c in copies_for(ctx):
        if len(c.shape) + 1 > MAX_RANK:
            raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': an int16 copy over {len(c.shape)} axes "
                             f"needs {len(c.shape) + 1} byte axes; mf_strided_copy_s8 takes {MAX_RANK}")
        wide = make_copy(c.input, c.output, 2 * c.in_offset, 2 * c.out_offset, (*c.shape, 2),
                         (*(2 * s for s in c.in_stride), 1), (*(2 * s for s in c.out_stride), 1))
        out.append(wide.params())
    return _call("mf_strided_copy_s8", {"copies": out})


def pad(ctx: Ctx) -> Any:
    """PAD of int16 tensors as mf_pad_s8 over bytes (channels doubled): the pad value must be 0,
    which 16x8's zero point 0 gives for PAD."""
    _same_encoding(ctx)
    value = quantized_pad_value(ctx)
    if value != 0:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': int16 pad value {value} has no kernel "
                         "(the byte-moving pad writes 0)")
    x = _tensor(ctx, 0)
    pads = [tuple(p) for p in ctx.op.attrs["pads"]]
    pads = [(0, 0)] * (4 - len(pads)) + pads
    n, h, w, c = _dims4(x.shape)
    params = {"before": [int(p[0]) for p in pads[:3]] + [2 * int(pads[3][0])],
              "after": [int(p[1]) for p in pads[:3]] + [2 * int(pads[3][1])], "value": 0}
    return _call("mf_pad_s8", params, {}, {"input": (n, h, w, 2 * c)})


def resize_nearest_neighbor(ctx: Ctx) -> Any:
    """RESIZE_NEAREST_NEIGHBOR copies whole pixels: mf_resize_nearest_s8 on bytes, C doubled."""
    from mcuforge.kernel_params import resize_nearest_neighbor as int8_binding

    _same_encoding(ctx)
    call = int8_binding(ctx)
    call.dims = {role: (n, h, w, 2 * c) for role, (n, h, w, c) in call.dims.items()}
    return call


# -- int16-ops: the remaining 16x8 ops ----------------------------------------------------------


def softmax_s8_s16(ctx: Ctx) -> Any:
    """SOFTMAX of an int8 input with an int16 output: TFLM requires the output at scale 1/65536,
    zero point -32768; the parameters are the int8 softmax's."""
    from mcuforge.kernel_params import softmax as int8_binding

    scale, zp = ctx.out_quant()
    if zp != -32768 or abs(scale * 65536 - 1) > 1e-3:
        raise ValueError(f"SOFTMAX '{ctx.op.name}': an int8 -> int16 softmax writes scale 1/65536, zero "
                         f"point -32768 (TFLite Micro checks it), got scale {scale:.6g}, zero point {zp}")
    call = int8_binding(ctx)
    call.kernel = "mf_softmax_s8_s16"
    return call


def _leaky(ctx: Ctx, identity: tuple[int, int], alpha: tuple[int, int], lo: int, hi: int) -> Any:
    x, y = _tensor(ctx, 0), ctx.outs[0]
    if x.dtype != "int16" or y.dtype != "int16":
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': the int16 kernel takes int16 in and out, "
                         f"got {x.dtype} -> {y.dtype}")
    if max(identity[1], alpha[1]) > 15:
        raise ValueError(f"{ctx.op.kind} '{ctx.op.name}': input scale {x.scalar_quant()[0]:.3g} over output "
                         f"scale {y.scalar_quant()[0]:.3g} needs a shift above 15 (values would wrap)")
    params = {"input_offset": -x.scalar_quant()[1], "alpha_offset": 0, "output_offset": y.scalar_quant()[1],
              "identity_multiplier": identity[0], "identity_shift": identity[1],
              "alpha_multiplier": alpha[0], "alpha_shift": alpha[1], "act_min": lo, "act_max": hi,
              "size": int(x.size)}
    return _call("mf_leaky_relu_s16", params)


def leaky_relu(ctx: Ctx) -> Any:
    """TFLM's QuantizeLeakyRelu<int16_t>: the two multipliers of LeakyReluPrepare, int16 range."""
    identity, alpha = leaky_relu_op.leaky_multipliers(ctx)
    return _leaky(ctx, identity, alpha, -(1 << 15), (1 << 15) - 1)


def clamp(ctx: Ctx) -> Any:
    """RELU / RELU6 / RELU_N1_TO_1 / Clip of int16: requantize, then clamp (TFLM's
    ReluQuantized<int16_t>): the leaky kernel with one multiplier for both signs."""
    multiplier, shift, lo, hi = clamp_op.clamp_params(ctx)
    return _leaky(ctx, (multiplier, shift), (multiplier, shift), lo, hi)


def minimum_maximum(ctx: Ctx) -> Any:
    minimum_maximum_op.check_shared_quant(ctx)
    return _call(f"mf_elementwise_{ctx.op.kind.lower()}_s16", {}, {}, _binary_dims(ctx))


def resize_bilinear(ctx: Ctx) -> Any:
    """TFLite's ResizeBilinearInteger<int16_t> (TFLite Micro has no int16 kernel)."""
    from mcuforge.kernel_params import resize_bilinear as int8_binding

    _same_encoding(ctx)
    call = int8_binding(ctx)
    call.kernel = "mf_resize_bilinear_s16"
    return call


def batch_matmul(ctx: Ctx) -> Any:
    """TFLM's int16 BatchMatMul: symmetric operands, one multiplier lhs_scale * rhs_scale /
    out_scale, int64 sums."""
    lhs, rhs = _tensor(ctx, 0), _tensor(ctx, 1)
    _symmetric(ctx, lhs, rhs, ctx.outs[0])
    if lhs.dtype != "int16" or rhs.dtype != "int16" or ctx.outs[0].dtype != "int16":
        raise ValueError(f"BATCH_MATMUL '{ctx.op.name}': the int16 kernel takes int16 operands and output, "
                         f"got {lhs.dtype} x {rhs.dtype} -> {ctx.outs[0].dtype}")
    m, sh = qmath.quantize_multiplier(float(lhs.scalar_quant()[0]) * float(rhs.scalar_quant()[0])
                                      / float(ctx.out_quant()[0]))
    params = {"lhs_offset": 0, "rhs_offset": 0, "output_offset": 0, "output_multiplier": m,
              "output_shift": sh, "adj_x": int(bool(ctx.op.attrs["adj_x"])),
              "adj_y": int(bool(ctx.op.attrs["adj_y"])), "act_min": -(1 << 15), "act_max": (1 << 15) - 1}
    dims = {"lhs": _dims4(lhs.shape), "rhs": _dims4(rhs.shape), "output": _dims4(ctx.outs[0].shape)}
    return _call("mf_batch_matmul_s16", params, {}, dims)


BINDINGS_S16: dict[str, Callable[[Ctx], Any]] = {
    "CONV_2D": conv_2d,
    "DEPTHWISE_CONV_2D": depthwise_conv_2d,
    "FULLY_CONNECTED": fully_connected,
    "AVERAGE_POOL_2D": average_pool_2d,
    "MAX_POOL_2D": max_pool_2d,
    "MEAN": mean,
    "ADD": add,
    "SUB": sub,
    "MUL": mul,
    "QUANTIZE": quantize,
    "SOFTMAX": softmax,
    "LOGISTIC": logistic,
    "TANH": tanh,
    "PAD": pad,
    "CONCATENATION": byte_copies,
    "TRANSPOSE": byte_copies,
    "STRIDED_SLICE": byte_copies,
    "SPLIT": byte_copies,
    "TILE": byte_copies,
    "BROADCAST_TO": byte_copies,
    "GATHER": byte_copies,
    "MIRROR_PAD": byte_copies,
    "RESIZE_NEAREST_NEIGHBOR": resize_nearest_neighbor,
    # int16-ops: the remaining 16x8 ops
    "LEAKY_RELU": leaky_relu,
    "CLAMP": clamp,
    "MAXIMUM": minimum_maximum,
    "MINIMUM": minimum_maximum,
    "RESIZE_BILINEAR": resize_bilinear,
    "BATCH_MATMUL": batch_matmul,
    # real models: TFLite Micro's seanet TRANSPOSE_CONV layers
    "TRANSPOSE_CONV": transpose_conv,
}
"""Op kind -> its int16 C binding (RESHAPE and other aliases need none)."""


def is_int16(ctx: Ctx) -> bool:
    """Whether the op moves int16 activations (an input or output), so BINDINGS_S16 binds it."""
    return any(t is not None and not t.is_const and t.dtype == "int16" for t in [*ctx.ins, *ctx.outs])
