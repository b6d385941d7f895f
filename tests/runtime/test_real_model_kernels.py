"""Kernels TFLite Micro's own example models need (real models area), against ref_int:
mf_svdf_s8_s8 (SVDF with int8 time weights and int8 memory, keyword_scrambled_8bit's form) over
consecutive calls sharing one state, with state zero points that make the stored feature
responses wrap as the tflite-micro interpreter's do; mf_requantize_s32 (QUANTIZE to int32)."""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_ARG_ERROR, MF_OK, Kernels
from oneop import CHANNELS, OneOp, act_data, act_quant, cases

from mcuforge.ir.graph import QuantParams
from mcuforge.reference import new_state, run


def _svdf8(rng: np.random.Generator, batches: int, inputs: int, units: int, rank: int, memory: int,
           bias: bool, state_zp: int) -> OneOp:
    filters = units * rank
    state_scale = float(rng.uniform(0.01, 0.2))
    one = OneOp("SVDF", {"rank": rank, "state_scale": state_scale, "state_zero_point": state_zp,
                         "state_dtype": "int8"})
    one.input(act_data(rng, (batches, inputs)), act_quant(rng))
    wf_scale = np.float32(rng.uniform(0.002, 0.02))
    one.input(rng.integers(-127, 128, (filters, inputs), dtype=np.int8), QuantParams(wf_scale, 0), const=True)
    wt_scale = np.float32(rng.uniform(0.002, 0.02))
    one.input(rng.integers(-127, 128, (filters, memory), dtype=np.int8), QuantParams(wt_scale, 0), const=True)
    if bias:
        one.input(rng.integers(-20000, 20000, units).astype(np.int32),
                  QuantParams(np.float32(state_scale) * wt_scale, 0), const=True)
    return one


def _stream(mf: Kernels, one: OneOp, rng: np.random.Generator, steps: int) -> np.ndarray:
    """Runs `steps` calls through C and the reference with one state each; returns the state."""
    out_q = QuantParams(np.float32(rng.uniform(0.02, 0.5)), int(rng.integers(-30, 30)))
    call, _ = one.finish(out_q)
    assert call.kernel == "mf_svdf_s8_s8"
    ref_state = new_state(one.graph)
    assert ref_state["out"]["activation_state"].dtype == np.int8
    c_state = {"activation_state": ref_state["out"]["activation_state"].copy()}
    weights = [one.graph.tensors[n].data for n in one.names[1:]]
    x_shape = one.feeds["in0"].shape
    for step in range(steps):
        x = act_data(rng, x_shape)
        expected = run(one.graph, {"in0": x}, state=ref_state)["out"]
        status, y = mf.invoke(call, [x, *weights], expected.shape, state=c_state)
        assert status == MF_OK
        np.testing.assert_array_equal(y, expected, err_msg=f"call {step}")
        np.testing.assert_array_equal(c_state["activation_state"], ref_state["out"]["activation_state"])
    return c_state["activation_state"]


@pytest.mark.parametrize("seed", cases(40))
def test_svdf_int8_state_over_consecutive_calls(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(91000 + seed)
    batches, rank = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    inputs, units = int(rng.choice(CHANNELS)), int(rng.choice(CHANNELS))
    memory = int(rng.choice((1, 2, 3, 4, 8, 10)))
    one = _svdf8(rng, batches, inputs, units, rank, memory, seed % 4 != 3, int(rng.integers(-128, 128)))
    _stream(mf, one, rng, memory + 3)  # past the memory size: the oldest values drop out


def test_svdf_int8_state_wraps_as_tflite_micro(mf: Kernels) -> None:
    """A state zero point of 100 with large feature responses: the reference's stored values
    wrap (clamp to [-128, 127], then + 100, modulo 256), and C stores the same bytes."""
    from mcuforge.ops.svdf import wrap

    assert wrap(np.array([127 + 100, -128 + 100]), np.dtype(np.int8)).tolist() == [-29, -28]
    rng = np.random.default_rng(5)
    one = _svdf8(rng, 1, 17, 5, 2, 4, True, 100)
    one.attrs["state_scale"] = 1e-4  # feature responses far beyond int8: clamped, then wrapped
    state = _stream(mf, one, rng, 6)
    assert (state < -28).any()  # below -128 + 100: only a wrapped 127 + 100 lands there


def test_svdf_int8_state_rejects_a_state_zero_point_out_of_int8(mf: Kernels) -> None:
    rng = np.random.default_rng(6)
    one = _svdf8(rng, 1, 4, 3, 1, 2, True, 0)
    call, expected = one.finish(QuantParams(np.float32(0.05), 0))
    weights = [one.graph.tensors[n].data for n in one.names[1:]]
    bad = type(call)(call.kernel, {**call.params, "state_zp": 200}, call.arrays, call.dims)
    state = {"activation_state": new_state(one.graph)["out"]["activation_state"]}
    assert mf.invoke(bad, [one.feeds["in0"], *weights], expected.shape, state=state)[0] == MF_ARG_ERROR


@pytest.mark.parametrize("src", ["int8", "int16"])
@pytest.mark.parametrize("seed", cases(10))
def test_requantize_to_int32(mf: Kernels, src: str, seed: int) -> None:
    rng = np.random.default_rng(92000 + seed)
    shape = (1, int(rng.integers(1, 5)), int(rng.choice(CHANNELS)))
    info = np.iinfo(src)
    x = rng.integers(info.min, info.max + 1, size=shape).astype(src)
    x_zp = int(rng.integers(info.min, info.max + 1)) if src == "int8" else -32768 * int(seed % 2)
    xq = QuantParams(np.float32(rng.uniform(1e-5, 0.1)), x_zp)
    yq = QuantParams(np.float32(float(xq.scale[0]) * rng.uniform(0.01, 4.0)), int(rng.integers(-1000, 1000)))
    one = OneOp("QUANTIZE", {})
    one.input(x, xq)
    call, expected = one.finish(yq, "int32")
    assert call.kernel == "mf_requantize_s32" and expected.dtype == np.int32
    status, y = mf.invoke(call, [x], shape, "int32")
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(40))
def test_transpose_conv_s16(mf: Kernels, seed: int) -> None:
    """TRANSPOSE_CONV in 16x8 mode (TFLite Micro's seanet layers): strides 1-3, crops, output
    sizes beyond the last tap (bias-only cells), int64 biases, every activation."""
    from oneop import ACTIVATIONS, weights
    from test_int16_kernels import bias64, data16, out_q16, q16

    rng = np.random.default_rng(93000 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 7)), int(rng.integers(1, 7))
    cin, cout = int(rng.choice(CHANNELS)), int(rng.choice(CHANNELS))
    k = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    crop = (int(rng.integers(0, k[0])), int(rng.integers(0, k[1])))
    out_hw = tuple(max(1, (d - 1) * st + kk - c - int(rng.integers(0, kk)) + int(rng.integers(0, 2)))
                   for d, st, kk, c in zip((h, w), s, k, crop))
    one = OneOp("TRANSPOSE_CONV", {"strides": s, "padding": crop, "output_hw": out_hw,
                                   "activation": str(rng.choice(ACTIVATIONS))})
    xq = q16(rng)
    x = data16(rng, (n, h, w, cin))
    wt, wq = weights(rng, (cout, *k, cin), axis=0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias64(rng, float(xq.scale[0]), wq.scale), const=True)
    depth = -(-k[0] // s[0]) * -(-k[1] // s[1]) * cin
    call, expected = one.finish(out_q16(rng, float(xq.scale[0]), float(wq.scale.mean()), depth), "int16")
    assert call.kernel == "mf_transpose_conv_s16"
    status, y = mf.invoke(call, [x, wt], call.dims["output"], "int16")
    assert status == MF_OK and y.dtype == np.int16
    np.testing.assert_array_equal(y.reshape(expected.shape), expected)
