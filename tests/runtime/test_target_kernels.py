"""Kernels chosen for the Cortex-M55 (family "mve", mcuforge.kernels.target) on the host:
bit-exact against ref_int in every library variant, the MVE emulation included, on random
depthwise shapes around the 4-lane and 16-byte edges (speed-m55, issue 12)."""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import ACTIVATIONS, OneOp, act_data, act_quant, bias, cases, out_quant_for, weights

from mcuforge.ir.graph import QuantParams
from mcuforge.kernels.target import for_target


@pytest.mark.parametrize("seed", cases(60))
def test_m55_depthwise_choice(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(7700 + seed)
    n, h, w = 1, int(rng.integers(1, 12)), int(rng.integers(1, 12))
    c = int(rng.choice((1, 3, 4, 5, 8, 12, 15, 16, 17, 20, 32, 33, 40, 64)))
    mult = int(rng.choice((1, 1, 1, 2)))
    k = (3, 3) if seed % 3 else (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    s = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    pads = tuple(int(rng.integers(0, k[i % 2])) for i in range(4))
    if h + pads[0] + pads[2] < k[0] or w + pads[1] + pads[3] < k[1]:
        pads = (k[0] - 1, k[1] - 1, k[0] - 1, k[1] - 1)
    one = OneOp("DEPTHWISE_CONV_2D", {"strides": s, "dilations": (1, 1), "pads": pads,
                                      "depth_multiplier": mult, "activation": str(rng.choice(ACTIVATIONS))})
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, c))
    wt, wq = weights(rng, (1, *k, c * mult), axis=3)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()),
                                              k[0] * k[1]), family="mve")
    assert call.kernel == for_target(call.kernel, call, "mve")
    assert call.kernel in ("mf_depthwise_conv_s8", "mf_depthwise_conv3x3_s8")
    status, y = mf.depthwise(call, x, wt)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(12))
def test_global_average_pool_around_255_taps(mf: Kernels, seed: int) -> None:
    """The MVE average pool sums windows of at most 255 values in int16 lanes (eight channels a
    vector) and larger ones in int32: windows of 240-300 values, channels around 8."""
    rng = np.random.default_rng(7900 + seed)
    h = int(rng.integers(15, 21))
    w = int(rng.integers(15, 16))
    c = int(rng.choice((1, 7, 8, 9, 16, 17, 64)))
    one = OneOp("AVERAGE_POOL_2D", {"kernel": (h, w), "strides": (1, 1), "pads": (0, 0, 0, 0),
                                    "activation": str(rng.choice(ACTIVATIONS))})
    q = act_quant(rng)
    x = act_data(rng, (1, h, w, c))
    if seed % 2:
        x = np.full_like(x, -128 if seed % 4 == 1 else 127)  # sums at the int16 edge
    one.input(x, q)
    call, expected = one.finish(QuantParams(q.scale, q.zero_point))
    status, y = mf.pool(call, x)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
