"""1-bit weight kernels (mf_convolve_b1, mf_fully_connected_b1, issue 16), bit-exact against the
integer reference on the unpacked +-1 weights, and the b1 packing against its numpy inverse.

Row lengths sweep around 8 and 32 (the byte and word fast paths) and odd lengths, so rows start
mid-byte and have unaligned heads and tails; every case runs on the portable and the DSP paths
(the `mf` fixture), and under ASan/UBSan with the rest of tests/runtime.
"""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_ARG_ERROR, MF_OK, Kernels
from oneop import ACTIVATIONS, OneOp, act_data, act_quant, bias, cases, out_quant_for
from packedop import conv_call, conv_geometry, fc_call, u8

from mcuforge.ir.graph import QuantParams
from mcuforge.ops import packed_weights as pw

EDGE_DEPTHS = (1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 39, 40, 63, 64, 65, 97)


def signs(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[np.ndarray, QuantParams]:
    """Random +-1 int8 weights (some rows all +1 or all -1) and per-channel scales."""
    w = np.where(rng.random(shape) < rng.uniform(0.1, 0.9), 1, -1).astype(np.int8)
    if shape[0] > 2:
        w[0], w[-1] = 1, -1
    scales = rng.uniform(0.01, 0.2, size=shape[0]).astype(np.float32)
    return w, QuantParams(scales, np.zeros(shape[0], dtype=np.int64), axis=0)


@pytest.mark.parametrize("count", [0, 1, 7, 8, 9, 31, 32, 33, 100])
def test_b1_packing_round_trips(count: int) -> None:
    w, _ = signs(np.random.default_rng(count), (count,))
    packed = pw.pack_b1(w)
    assert packed.size == (count + 7) // 8 == pw.packed_bytes(count, "b1")
    np.testing.assert_array_equal(pw.unpack_b1(packed, (count,)), w)


def test_b1_packing_is_lsb_first_and_set_for_plus_one() -> None:
    w = np.array([1, -1, -1, 1, -1, -1, -1, -1, 1, 1], dtype=np.int8)
    np.testing.assert_array_equal(pw.pack_b1(w), [0b00001001, 0b00000011])
    with pytest.raises(ValueError, match=r"\+1 or -1, got 0"):
        pw.pack_b1(np.array([1, 0], dtype=np.int8))


@pytest.mark.parametrize("seed", cases(80))
def test_convolve_b1(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(9100 + seed)
    g = conv_geometry(rng, max_hw=7)
    n, h, w, k, pads, strides = g["n"], g["h"], g["w"], g["k"], g["pads"], g["strides"]
    cin, cout = int(rng.choice(EDGE_DEPTHS)), int(rng.choice((1, 2, 3, 5, 8, 9)))
    wt, wq = signs(rng, (cout, *k, cin))
    one = OneOp("CONV_2D", {"strides": strides, "dilations": (1, 1), "pads": pads,
                            "activation": str(rng.choice(ACTIVATIONS)), "weight_encoding": "b1"})
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, cin))
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    depth = k[0] * k[1] * cin
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), depth))
    assert call.kernel == "mf_convolve_b1"
    assert call.arrays["filter"].size == (wt.size + 7) // 8
    np.testing.assert_array_equal(pw.unpack_b1(call.arrays["filter"], wt.shape), wt)
    status, y = conv_call(mf, call, x, u8(call.arrays["filter"]))
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(80))
def test_fully_connected_b1(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(9300 + seed)
    batch = int(rng.integers(1, 4))
    depth = int(rng.choice((*EDGE_DEPTHS, 128, 200)))
    units = int(rng.choice((1, 2, 3, 4, 5, 8, 9, 16)))
    wt, wq = signs(rng, (units, depth))
    one = OneOp("FULLY_CONNECTED", {"activation": str(rng.choice(ACTIVATIONS)), "weight_encoding": "b1"})
    xq = act_quant(rng)
    x = act_data(rng, (batch, depth))
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), depth))
    assert call.kernel == "mf_fully_connected_b1"
    status, y, fp, args = fc_call(mf, call, x, u8(call.arrays["filter"]), expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
    fp.filter_offset = 1  # 1-bit weights are symmetric
    assert mf.lib[call.kernel](*args) == MF_ARG_ERROR


def test_kernel_params_rejects_weights_other_than_plus_minus_one() -> None:
    rng = np.random.default_rng(2)
    wt, wq = signs(rng, (3, 9))
    wt[1, 4] = 2
    one = OneOp("FULLY_CONNECTED", {"activation": "NONE", "weight_encoding": "b1"})
    one.input(act_data(rng, (1, 9)), act_quant(rng))
    one.input(wt, wq, const=True)
    with pytest.raises(ValueError, match=r"\+1 or -1, got 2"):
        one.finish(act_quant(rng))
