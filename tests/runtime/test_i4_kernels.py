"""m4pw (issue 12): mf_convolve_1x1_i4_s8 and mf_fully_connected_i4_s8, the DSP cores' 1x1 and
dense kernels on weights in the i4 layout (mcuforge.kernels.dsp_i4), chosen with
family "dsp": bit-exact against ref_int on every host variant (portable, DSP emulated,
MVE emulated), on shapes around the layout's blocks (channel pairs and groups of four, input
quads, row pairs), at the int16 and int32 edges of the halfword trick, and with the output
overlapping the input at the shift kernels/access.py declares."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import ACTIVATIONS, OneOp, act_data, act_quant, bias, cases, out_quant_for, weights
from test_overlap_kernels import run_overlapped

from mcuforge.ir.graph import QuantParams
from mcuforge.kernel_params import KernelCall
from mcuforge.kernels.dsp_i4 import pack_i4, unpack_i4

DEPTHS = (1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 31, 32, 33, 64)
UNITS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 32)


def as_i4(call: KernelCall, w: np.ndarray) -> KernelCall:
    """A dense call on mf_fully_connected_i4_s8 whatever its size (the DSP choice takes layers of
    at least 1024 weights and four channels: kernels/target.py fc_i4_takes)."""
    return replace(call, kernel="mf_fully_connected_i4_s8", arrays={**call.arrays, "filter": pack_i4(w)})


def as_i4_conv(call: KernelCall, w: np.ndarray) -> KernelCall:
    """A 1x1 call on mf_convolve_1x1_i4_s8 whatever its depth (the DSP choice takes more than 8
    input channels: kernels/target.py conv1x1_i4_takes)."""
    return replace(call, kernel="mf_convolve_1x1_i4_s8", arrays={**call.arrays, "filter": pack_i4(w)})


def extremes(rng: np.random.Generator, x: np.ndarray, w: np.ndarray, seed: int) -> None:
    """Every fourth case: inputs and weights at -128 / 127 (the halfwords at -32768, the P sum
    wrapping modulo 2^32 for deep rows)."""
    if seed % 4 == 1:
        x[...] = rng.choice(np.array([-128, 127], np.int8), size=x.shape)
        w[...] = rng.choice(np.array([-128, 127, -128], np.int8), size=w.shape)


def test_pack_i4_round_trip_and_size() -> None:
    rng = np.random.default_rng(42000)
    for n in UNITS:
        for k in (1, 3, 4, 6, 8, 33):
            w = rng.integers(-128, 128, size=(n, k), dtype=np.int8)
            packed = pack_i4(w)
            assert packed.dtype == np.int32  # word-aligned in C
            assert packed.nbytes == -(-n // 4) * 4 * (-(-k // 4) * 4)
            np.testing.assert_array_equal(unpack_i4(packed, n, k), w)
    # the halfword of channel pair (0, 1) at input 0: (w0 + 128) + 256 * w1, the first in memory
    w = np.array([[-128, 5, 6, 7], [-128, 1, 2, 3]], np.int8)
    assert pack_i4(w).astype("<i4").view(np.int16)[0] == 0 + 256 * -128


def _pointwise(seed: int, rows_hw: tuple[int, int, int], cin: int, cout: int
               ) -> tuple[KernelCall, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(41000 + seed)
    one = OneOp("CONV_2D", {"strides": (1, 1), "dilations": (1, 1), "pads": (0, 0, 0, 0),
                            "activation": str(rng.choice(ACTIVATIONS))})
    xq = act_quant(rng)
    x = act_data(rng, (*rows_hw, cin))
    wt, wq = weights(rng, (cout, 1, 1, cin), axis=0)
    extremes(rng, x, wt, seed)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    out_q = out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), cin)
    if seed % 9 == 4:  # an output scale below the product scale: a left shift
        out_q = QuantParams(np.float32(float(xq.scale[0]) * float(wq.scale[0]) * 0.3), out_q.zero_point)
    if seed % 9 == 7:  # effective scale 0.4: shift -1, which mf_i4_rq2 sends out of line
        out_q = QuantParams(np.float32(float(xq.scale[0]) * float(wq.scale[0]) * 2.5), out_q.zero_point)
    call, expected = one.finish(out_q, family="dsp")
    return call, x, wt, expected


@pytest.mark.parametrize("seed", cases(80))
def test_pointwise_i4(mf: Kernels, seed: int) -> None:
    """1x1 convolutions: odd and even pixel counts (row pairs and the last row), every
    remainder of input quads and of channel pairs / groups of four."""
    rng = np.random.default_rng(40000 + seed)
    rows_hw = (int(rng.integers(1, 3)), int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    cin = DEPTHS[seed % len(DEPTHS)] if seed % 10 else int(rng.integers(100, 700))
    cout = int(rng.choice(UNITS[1:]))  # one channel: mf_convolve_1x1_one_s8
    call, x, wt, expected = _pointwise(seed, rows_hw, cin, cout)
    assert call.kernel == ("mf_convolve_1x1_i4_s8" if cin > 8 else "mf_convolve_1x1_s8")
    call = as_i4_conv(call, wt)  # the kernel itself takes every shape
    np.testing.assert_array_equal(unpack_i4(call.arrays["filter"], cout, cin), wt.reshape(cout, cin))
    status, y = mf.conv(call, x, wt)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(60))
def test_fully_connected_i4(mf: Kernels, seed: int) -> None:
    """Dense layers: per-tensor and per-channel weights, one to five rows, every remainder of the
    input quads and channel groups, deep rows (the P sum wraps)."""
    rng = np.random.default_rng(43000 + seed)
    rows = int(rng.integers(1, 6))
    depth = DEPTHS[seed % len(DEPTHS)] if seed % 10 else int(rng.integers(300, 1100))
    units = int(rng.choice(UNITS))
    one = OneOp("FULLY_CONNECTED", {"activation": str(rng.choice(ACTIVATIONS))})
    xq = act_quant(rng)
    x = act_data(rng, (rows, depth))
    wt, wq = weights(rng, (units, depth), axis=0)
    extremes(rng, x, wt, seed)
    if seed % 2:  # per-tensor weights
        wq = replace(wq, scale=wq.scale[:1], zero_point=wq.zero_point[:1], axis=None)
        wq.__post_init__()
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        w_scales = np.broadcast_to(wq.scale, (units,)).astype(np.float32)
        b, bq = bias(rng, float(xq.scale[0]), w_scales)
        one.input(b, bq, const=True)
    out_q = out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), depth)
    call, expected = one.finish(out_q, family="dsp")
    assert call.kernel == ("mf_fully_connected_i4_s8" if units >= 4 and units * depth >= 1024
                           else "mf_fully_connected_s8")
    call = as_i4(call, wt)  # the kernel itself takes every shape
    status, y = mf.fully_connected(call, x, wt, expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


def test_fully_connected_asymmetric_keeps_s8() -> None:
    """Weights with a zero point stay on mf_fully_connected_s8 (the i4 kernels are symmetric)."""
    rng = np.random.default_rng(44000)
    one = OneOp("FULLY_CONNECTED", {"activation": "NONE"})
    xq = act_quant(rng)
    one.input(act_data(rng, (2, 256)), xq)
    one.input(rng.integers(-128, 128, size=(8, 256), dtype=np.int8), QuantParams(np.float32(0.01), 3),
              const=True)
    call, _ = one.finish(out_quant_for(rng, float(xq.scale[0]), 0.01, 256), family="dsp")
    assert call.kernel == "mf_fully_connected_s8"


@pytest.mark.parametrize("seed", cases(30))
def test_i4_overlapped(mf: Kernels, seed: int) -> None:
    """Output over input at the shift kernels/access.py declares (pixelwise, block 4)."""
    rng = np.random.default_rng(45000 + seed)
    rows_hw = (1, int(rng.integers(2, 9)), int(rng.integers(1, 6)))
    cin, cout = int(rng.choice((1, 3, 4, 8, 9, 16))), int(rng.choice((2, 4, 5, 8, 16, 24)))
    call, x, wt, expected = _pointwise(seed, rows_hw, cin, cout)
    got = run_overlapped(mf, as_i4_conv(call, wt), x, [wt], expected.shape)
    assert got is not None
    np.testing.assert_array_equal(got[0], expected)
    # dense rows: the same data as a (pixels, C_in) matrix
    one = OneOp("FULLY_CONNECTED", {"activation": "NONE"})
    xq = act_quant(rng)
    xf = x.reshape(-1, cin)
    wf, wq = weights(rng, (cout, cin), axis=0)
    one.input(xf, xq)
    one.input(wf, wq, const=True)
    out_q = out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), cin)
    call, expected = one.finish(out_q, family="dsp")
    got = run_overlapped(mf, as_i4(call, wf), xf, [wf], expected.shape)
    assert got is not None
    np.testing.assert_array_equal(got[0], expected)

