"""SVDF: TFLite's singular value decomposition filter, a layer with memory (stateful area).

Inputs: x (B, I); weights_feature (F, I), F = units x rank filters; weights_time (F, M), M the
memory size; optional bias (U,), U = F / rank. Output (B, U). Attrs: rank, and for the integer
form state_scale and state_zero_point (the encoding of TFLite's activation-state tensor) and
optional state_dtype ("int16" when absent, or "int8": int8 time weights and state).

The op keeps a persistent activation state (B, F, M) (TFLite's variable input tensor, shaped
(B, F*M) there, filter-major): every call shifts each filter's memory one step to the left, puts
the filter's response to x in the newest slot, then each filter's memory is dotted with its time
weights and the `rank` filters of each unit are summed (plus the bias). The state carries from
one call to the next (`OpDef.state`); it starts at the state's zero point (TFLite Micro's reset).

Integer form (int8 x, weights_feature and output, int16 weights_time and state, int32 bias at
state scale x time scale; or, attr state_dtype="int8", int8 weights_time and state), after TFLite
Micro's integer SVDF (kernels/svdf_common.cc, EvalIntegerSvdfReference, whose template type is
the time weights' and state's): the feature dot products sum (x - x_zp) * w in int32, are
requantized with x_scale * feature_scale / state_scale (float32 arithmetic, then TFLite's
multiplier), saturate to the state type, then get the state zero point added and are stored
narrowed to the state type, wrapping modulo 2^8 or 2^16 where the sum leaves it (as the
tflite-micro interpreter does: TFLite Micro issue #2721, the fix in PR #3627 not merged; with
TF's int16 state, zero point 0, nothing wraps); the time dot products sum w_t * (s - s_zp) in
int32, the rank sums and bias add in int32, and the result is requantized with
state_scale * time_scale / output_scale to int8. TFLite Micro's integer SVDF applies no fused
activation (it only saturates to int8), so neither does this one.
"""

from __future__ import annotations

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, StateBuffer, op_state, register
from mcuforge.reference import qmath

STATE = "activation_state"


def svdf_dims(op: Op, ins: list[Shape | None]) -> tuple[int, int, int, int, int]:
    """(batches, input size, filters, memory size, units), checked."""
    x, wf, wt = ins[0], ins[1], ins[2]
    assert x is not None and wf is not None and wt is not None
    rank = int(op.attrs["rank"])
    bias = ins[3] if len(ins) > 3 else None
    filters = wf[0] if len(wf) == 2 else 0
    ok = (len(x) == 2 and len(wf) == 2 and len(wt) == 2 and wf[1] == x[1] and wt[0] == filters
          and rank >= 1 and filters % rank == 0 and (bias is None or bias == (filters // rank,)))
    if not ok:
        raise ValueError(f"SVDF '{op.name}': x {x}, weights_feature {wf}, weights_time {wt}, bias "
                         f"{bias}, rank {rank} do not fit (B, I), (F, I), (F, M), (F / rank,)")
    return x[0], x[1], filters, wt[1], filters // rank


def svdf_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    batches, _, _, _, units = svdf_dims(op, ins)
    return [(batches, units)]


def svdf_state(op: Op, ins: list[Shape | None]) -> list[StateBuffer]:
    batches, _, filters, memory, _ = svdf_dims(op, ins)
    dtype = str(op.attrs.get("state_dtype", "int16")) if "state_scale" in op.attrs else "float32"
    return [StateBuffer(STATE, dtype, (batches, filters, memory), int(op.attrs.get("state_zero_point", 0)))]


def _shift_in(state: np.ndarray, newest: np.ndarray) -> None:
    """Every filter's memory one step older, `newest` (B, F) in the last slot (in place)."""
    state[..., :-1] = state[..., 1:]
    state[..., -1] = newest


def _time_and_rank(ctx: Ctx, state: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """sum over memory of state x time weights, then the rank filters of each unit: (B, U)."""
    per_filter = np.einsum("bfm,fm->bf", state, wt)
    rank = int(ctx.op.attrs["rank"])
    return per_filter.reshape(per_filter.shape[0], -1, rank).sum(axis=2)


def svdf_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x, wf, wt = (np.asarray(a, np.float64) for a in xs[:3])
    state = op_state(ctx)[STATE]
    _shift_in(state, (x @ wf.T).astype(state.dtype))
    y = _time_and_rank(ctx, state.astype(np.float64), wt)
    if len(xs) > 3 and xs[3] is not None:
        y = y + xs[3]
    return [y.astype(np.float32)]


def multipliers(ctx: Ctx) -> tuple[tuple[int, int], tuple[int, int]]:
    """TFLite Micro's two effective scales, computed in float32 as its Prepare does, then
    quantized: (feature -> state), (state x time -> output)."""
    x, wf, wt = ctx.ins[0], ctx.ins[1], ctx.ins[2]
    assert x is not None and wf is not None and wt is not None
    f32 = np.float32
    s_x, s_wf, s_wt = (f32(t.scalar_quant()[0]) for t in (x, wf, wt))
    s_state, s_out = f32(ctx.op.attrs["state_scale"]), f32(ctx.out_quant()[0])
    first = float(f32(s_x * s_wf) / s_state)
    second = float(f32(s_state * s_wt) / s_out)
    return qmath.quantize_multiplier(first), qmath.quantize_multiplier(second)


def wrap(v: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Integers narrowed to `dtype` modulo 2^bits, as a C store into int8_t / int16_t does."""
    info = np.iinfo(dtype)
    span = int(info.max) - int(info.min) + 1
    return ((np.asarray(v, np.int64) - info.min) % span + info.min).astype(dtype)


def svdf_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLite Micro's integer SVDF (see the module docstring)."""
    (m1, s1), (m2, s2) = multipliers(ctx)
    _, x_zp = ctx.in_quant(0)
    out_zp = ctx.out_quant()[1]
    state_zp = int(ctx.op.attrs["state_zero_point"])
    x = np.asarray(xs[0], np.int64) - x_zp
    wf, wt = np.asarray(xs[1], np.int64), np.asarray(xs[2], np.int64)
    state = op_state(ctx)[STATE]
    info = np.iinfo(state.dtype)  # int16, or int8 for the int8-state variant
    feature = np.clip(qmath.multiply_by_quantized_multiplier(x @ wf.T, m1, s1), info.min, info.max)
    _shift_in(state, wrap(feature + state_zp, state.dtype))
    acc = _time_and_rank(ctx, state.astype(np.int64) - state_zp, wt)
    if len(xs) > 3 and xs[3] is not None:
        acc = acc + np.asarray(xs[3], np.int64)
    y = qmath.multiply_by_quantized_multiplier(acc, m2, s2) + out_zp
    return [np.clip(y, -128, 127).astype(np.int8)]


def svdf_macs(op: Op, ins: list[Shape | None], outs: list[Shape]) -> int:
    batches, inputs, filters, memory, _ = svdf_dims(op, ins)
    return batches * filters * (inputs + memory)


SVDF = register(OpDef(
    kind="SVDF", shape=svdf_shape, ref_float=svdf_float, ref_int=svdf_int, macs=svdf_macs,
    num_inputs=(3, 4), attrs=("rank",), weight_axes={1: 0, 2: 0}, bias_input=3, state=svdf_state,
    doc="SVDF: feature filter, time filter over a persistent memory (TFLite, TFLite Micro integer form)",
))
