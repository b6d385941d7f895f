"""UNIDIRECTIONAL_SEQUENCE_LSTM: TFLite's fused LSTM over a whole sequence (recurrent area).

Inputs: x (B, T, I), or (T, B, I) with attr time_major; W (4, H, I) and R (4, H, H), the input
and recurrent weights of the gates in TFLite's order input, forget, cell, output (one weight
scale per gate: per-channel quantization along axis 0); bias (4, H), int32 at input scale x
weight scale. Output: the hidden state of every step, shaped like x with H features.
Attrs: time_major, cell_clip (0: none), and for the integer form cell_scale (a power of two,
the int16 cell state's scale) and optionally hidden_scale/hidden_zero_point (the hidden state
tensor's encoding, which TFLite Micro computes in and whose bytes it copies to the output even
when the output tensor declares another encoding, as TF's converter writes for the last step of
a sequence); without them the output's encoding. No peepholes, projection, layer norm or CIFG,
as TFLite Micro.

The state starts at zero for every call (hidden state = its zero point, cell state = 0), which
is what TFLite Micro computes on a freshly reset interpreter; the whole sequence is one call.
With attr `stateful` (a TFLite LSTM fed one time step per call whose hidden and cell state are
variable tensors, as TF's converter writes them) the state is the op's persistent state
instead (`OpDef.state`: hidden (B, H) int8 starting at attr `hidden_zero_point`, cell (B, H)
int16 starting at 0): each call continues from where the previous one stopped, as TFLite
Micro's interpreter does between invocations until it is reset, which streaming use needs.

Integer form (int8 x and output, int8 weights, int32 bias), after TFLite Micro's integer LSTM
(kernels/lstm_eval.h, the 8x8->16 case): each gate is an int8 x int8 fully connected from x_t
plus one from h_{t-1}, each requantized to int16 at scale 2**-12 and added with int16
saturation; sigmoid (tanh for the cell gate) through TFLite's interpolated int16 tables give
Q0.15 gates; c = f*c + i*g in int16 at cell_scale; h = tanh(c) * o requantized to int8 at the
output's encoding.
"""

from __future__ import annotations

import math

import numpy as np

from mcuforge.ir.graph import Op, Shape
from mcuforge.ops.registry import Arrays, Ctx, OpDef, StateBuffer, op_state, register
from mcuforge.reference import qmath

GATE_INPUT_SCALE = 2.0 ** -12  # gate pre-activations: int16 Q3.12
GATE_OUTPUT_SCALE = 2.0 ** -15  # gate outputs: int16 Q0.15
INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1

# sigmoid(i / 24) in unsigned 0.16 fixed point, i = 0..255: the table TFLite's int16 LOGISTIC
# and TANH interpolate (tanh(x) = 2 sigmoid(2x) - 1). Not a rounding of the formula everywhere,
# so it is kept as the kernels have it.
SIGMOID_TABLE = np.array([
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432,
    42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475,
    49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485,
    55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519,
    59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036,
    62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308, 64357, 64405,
    64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179,
    65194, 65208, 65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337,
    65345, 65352, 65360, 65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425,
    65429, 65433, 65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
    65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516, 65517,
    65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524, 65525, 65525,
    65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533,
    65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535,
], dtype=np.int64)


def lstm_shape(op: Op, ins: list[Shape | None]) -> list[Shape]:
    x, w, r, b = ins[0], ins[1], ins[2], ins[3]
    assert x is not None and w is not None and r is not None and b is not None
    hidden = r[-1]
    if len(x) != 3 or w != (4, hidden, x[2]) or r != (4, hidden, hidden) or b != (4, hidden):
        raise ValueError(f"UNIDIRECTIONAL_SEQUENCE_LSTM '{op.name}': x {x}, W {w}, R {r}, bias {b} "
                         "do not fit (B, T, I), (4, H, I), (4, H, H), (4, H)")
    return [(x[0], x[1], hidden)]


def lstm_state(op: Op, ins: list[Shape | None]) -> list[StateBuffer]:
    """The persistent hidden and cell state of a stateful LSTM (none otherwise)."""
    if not op.attrs.get("stateful"):
        return []
    x, r = ins[0], ins[2]
    assert x is not None and r is not None
    shape = (x[1] if op.attrs.get("time_major") else x[0], r[-1])
    if "cell_scale" not in op.attrs:  # float form
        return [StateBuffer("hidden", "float32", shape), StateBuffer("cell", "float32", shape)]
    return [StateBuffer("hidden", "int8", shape, int(op.attrs.get("hidden_zero_point", 0))),
            StateBuffer("cell", "int16", shape)]


def _steps(ctx: Ctx, x: np.ndarray) -> np.ndarray:
    """x as (T, B, I) whatever the layout."""
    return x if ctx.op.attrs.get("time_major") else x.transpose(1, 0, 2)


def _sequence(ctx: Ctx, ys: list[np.ndarray]) -> np.ndarray:
    y = np.stack(ys)  # (T, B, H)
    return np.ascontiguousarray(y if ctx.op.attrs.get("time_major") else y.transpose(1, 0, 2))


def lstm_float(ctx: Ctx, xs: Arrays) -> Arrays:
    x, w, r, b = (np.asarray(a, np.float64) for a in xs[:4])
    steps = _steps(ctx, x)
    h = np.zeros((steps.shape[1], r.shape[-1]))
    c = np.zeros_like(h)
    state = op_state(ctx) if ctx.op.attrs.get("stateful") else None
    if state:
        h, c = state["hidden"].astype(np.float64), state["cell"].astype(np.float64)
    clip = float(ctx.op.attrs.get("cell_clip", 0.0))
    ys = []
    for xt in steps:
        pre = [xt @ w[g].T + h @ r[g].T + b[g] for g in range(4)]
        i, f, o = (1 / (1 + np.exp(-pre[k])) for k in (0, 1, 3))
        c = f * c + i * np.tanh(pre[2])
        if clip > 0:
            c = np.clip(c, -clip, clip)
        h = o * np.tanh(c)
        ys.append(h)
    if state:
        state["hidden"][...], state["cell"][...] = h, c
    return [_sequence(ctx, ys).astype(np.float32)]


# -- integer form --------------------------------------------------------------------------------


def sigmoid_q15(x: np.ndarray) -> np.ndarray:
    """TFLite's int16 Logistic of a Q3.12 input (multiplier 3, no shift): Q0.15 output."""
    v = np.asarray(x, np.int64) * 3
    a = np.abs(v)
    uh = a >> 9
    idx = np.minimum(uh, 254)
    ua, ub = SIGMOID_TABLE[idx], SIGMOID_TABLE[idx + 1]
    r = np.where(uh >= 255, 0x7FFF << 10, (ua << 9) + (a & 0x1FF) * (ub - ua))
    r = np.where(v >= 0, r + (1 << 9), (1 << 25) - r + (1 << 9) - 1)
    return (r >> 10).astype(np.int16)


def tanh_params(scale_power: int) -> tuple[int, int]:
    """(input multiplier, right shift) TFLM's LSTM gives its int16 Tanh for an input at scale
    2**scale_power; the multiplier 3 folds the table's 3/4 input scaling."""
    shift = 15 + scale_power - 3
    if shift < 0:
        return 3, -shift
    return 3 << shift, 0


def tanh_q15(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """TFLite's int16 Tanh (interpolated sigmoid table): Q0.15 output."""
    rounding = (1 << (shift - 1)) if shift > 0 else 0
    v = (np.asarray(x, np.int64) * multiplier + rounding) >> shift
    a = np.abs(v)
    uh = a >> 8
    idx = np.minimum(uh, 254)
    ua, ub = SIGMOID_TABLE[idx], SIGMOID_TABLE[idx + 1]
    r = np.where(uh >= 255, 0xFFFF << 8, (ua << 8) + (a & 0xFF) * (ub - ua))
    r = np.where(v >= 0, r - (1 << 23) + (1 << 7), -r + (1 << 23) + (1 << 7) - 1)
    return (r >> 8).astype(np.int16)


def _double(*scales: float) -> list[float]:
    return [float(np.float32(s)) for s in scales]


def mul_multiplier(in1: float, in2: float, out: float) -> tuple[int, int]:
    """CreateInterGateMulParams: in1 * in2 / out in double from float32 scales."""
    a, b, c = _double(in1, in2, out)
    return qmath.quantize_multiplier(a * b / c)


def cell_scale_power(scale: float) -> int:
    """log2 of the cell state's scale, which TFLite requires to be a power of two."""
    power = round(math.log2(float(np.float32(scale))))
    if abs(2.0 ** power - float(np.float32(scale))) > 1e-6 * 2.0 ** power:
        raise ValueError(f"cell state scale {scale} is not a power of two")
    return power


def integer_params(ctx: Ctx) -> dict[str, np.ndarray | int]:
    """Every multiplier the integer LSTM uses, computed as TFLite Micro's Prepare does."""
    x, w, r = ctx.ins[0], ctx.ins[1], ctx.ins[2]
    assert x is not None and w is not None and r is not None and w.quant is not None
    assert r.quant is not None
    x_scale, x_zp = x.scalar_quant()
    h_scale, h_zp = ctx.out_quant()
    if "hidden_scale" in ctx.op.attrs:  # the hidden state tensor's encoding, which TFLite Micro
        # computes in; the output gets the hidden state's bytes under its own encoding
        h_scale, h_zp = float(ctx.op.attrs["hidden_scale"]), int(ctx.op.attrs["hidden_zero_point"])
    power = cell_scale_power(ctx.op.attrs["cell_scale"])
    cell = 2.0 ** power
    in_m, in_s = qmath.channel_multipliers(x_scale, w.quant.scale, GATE_INPUT_SCALE, 4)
    rec_m, rec_s = qmath.channel_multipliers(h_scale, r.quant.scale, GATE_INPUT_SCALE, 4)
    muls = [mul_multiplier(GATE_OUTPUT_SCALE, cell, cell),
            mul_multiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, cell),
            mul_multiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, h_scale)]
    tanh_m, tanh_s = tanh_params(power)
    clip = float(ctx.op.attrs.get("cell_clip", 0.0))
    qclip = int(min(max(clip / cell, INT16_MIN), INT16_MAX)) if clip > 0 else 0
    return {"input_offset": -x_zp, "hidden_zp": h_zp, "in_multiplier": in_m, "in_shift": in_s,
            "rec_multiplier": rec_m, "rec_shift": rec_s,
            "mul_multiplier": np.array([m for m, _ in muls]), "mul_shift": np.array([s for _, s in muls]),
            "tanh_multiplier": tanh_m, "tanh_shift": tanh_s, "cell_clip": qclip}


def _fc_q12(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, m: int, s: int) -> np.ndarray:
    acc = x @ w.T + (0 if bias is None else bias)
    return np.clip(qmath.multiply_by_quantized_multiplier(acc, m, s), INT16_MIN, INT16_MAX)


def _mul(a: np.ndarray, b: np.ndarray, m: int, s: int, offset: int, lo: int, hi: int) -> np.ndarray:
    return np.clip(offset + qmath.multiply_by_quantized_multiplier(a * b, m, s), lo, hi)


def lstm_int(ctx: Ctx, xs: Arrays) -> Arrays:
    """TFLite Micro's integer LSTM step by step (see the module docstring)."""
    p = integer_params(ctx)
    w, r = np.asarray(xs[1], np.int64), np.asarray(xs[2], np.int64)
    bias = np.asarray(xs[3], np.int64)
    steps = _steps(ctx, np.asarray(xs[0], np.int64)) + int(p["input_offset"])
    h_zp = int(p["hidden_zp"])
    h = np.full((steps.shape[1], r.shape[-1]), h_zp, np.int64)
    c = np.zeros(h.shape, np.int64)
    state = op_state(ctx) if ctx.op.attrs.get("stateful") else None
    if state:  # carried over from the previous call
        h, c = state["hidden"].astype(np.int64), state["cell"].astype(np.int64)
    in_m, in_s, rec_m, rec_s = p["in_multiplier"], p["in_shift"], p["rec_multiplier"], p["rec_shift"]
    mm, ms = p["mul_multiplier"], p["mul_shift"]
    ys = []
    for xt in steps:
        gates = []
        for g in range(4):
            pre = _fc_q12(xt, w[g], bias[g], int(in_m[g]), int(in_s[g]))
            pre = np.clip(pre + _fc_q12(h - h_zp, r[g], None, int(rec_m[g]), int(rec_s[g])),
                          INT16_MIN, INT16_MAX)
            gates.append(sigmoid_q15(pre) if g != 2 else tanh_q15(pre, *tanh_params(-12)))
        i, f, g_, o = (a.astype(np.int64) for a in gates)
        c = _mul(f, c, int(mm[0]), int(ms[0]), 0, INT16_MIN, INT16_MAX)
        c = np.clip(c + _mul(i, g_, int(mm[1]), int(ms[1]), 0, INT16_MIN, INT16_MAX), INT16_MIN, INT16_MAX)
        if p["cell_clip"]:
            c = np.clip(c, -int(p["cell_clip"]), int(p["cell_clip"]))
        t = tanh_q15(c, int(p["tanh_multiplier"]), int(p["tanh_shift"])).astype(np.int64)
        h = _mul(t, o, int(mm[2]), int(ms[2]), h_zp, -128, 127)
        ys.append(h)
    if state:
        state["hidden"][...], state["cell"][...] = h, c
    return [_sequence(ctx, ys).astype(np.int8)]


def lstm_macs(op: Op, ins: list[Shape | None], outs: list[Shape]) -> int:
    x, r = ins[0], ins[2]
    assert x is not None and r is not None
    return x[0] * x[1] * 4 * r[1] * (x[2] + r[2])


UNIDIRECTIONAL_SEQUENCE_LSTM = register(OpDef(
    kind="UNIDIRECTIONAL_SEQUENCE_LSTM", shape=lstm_shape, ref_float=lstm_float, ref_int=lstm_int,
    macs=lstm_macs, num_inputs=(4, 4), attrs=("time_major",), weight_axes={1: 0, 2: 0},
    bias_input=3, state=lstm_state,
    doc="LSTM over a sequence (TFLite's fused op, integer form of TFLite Micro)",
))
