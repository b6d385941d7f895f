"""speed-m55 (issue 12): mf_convolve3x3_s8, the Helium kernel of 3x3 convolutions with stride 1
and 16, 32 or 64 input channels or stride 2 and 16 or 32 (three output pixels by two channels
per pass, edge groups gathered into a padded patch, outputs staged when C_out spans several
blocks), bit-exact against ref_int in every host variant (the portable and DSP builds hand every
call to mf_convolve_s8): widths around the three-pixel groups (1-11), one or two rows, padding on
no side, one side or both, output channels around the four-channel requantization and the
16-channel blocks (a C_out % 4 != 0, or C_in of 8 or 48, takes mf_convolve_s8's path), with and
without a bias; and with its output over its input at mf_convolve_s8's declared shift."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import ACTIVATIONS, OneOp, act_data, act_quant, bias, cases, out_quant_for, weights


@pytest.mark.parametrize("seed", cases(60))
def test_convolve_3x3_mve_groups(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(7700 + seed)
    cin = int(rng.choice([16, 32, 64] if seed % 6 else [48, 8]))
    cout = int(rng.choice([4, 8, 12, 16, 32, 64, 6]))
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 7)), int(rng.integers(1, 12))
    stride = 2 if seed % 3 == 2 else 1
    pads = tuple(int(rng.integers(0, 2)) for _ in range(4))  # top, left, bottom, right
    if h + pads[0] + pads[2] < 3 or w + pads[1] + pads[3] < 3:
        pads = (1, 1, 1, 1)
    one = OneOp("CONV_2D", {"strides": (stride, stride), "dilations": (1, 1), "pads": pads,
                            "activation": str(rng.choice(ACTIVATIONS))})
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, cin))
    wt, wq = weights(rng, (cout, 3, 3, cin), axis=0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if seed % 7 != 3:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), 9 * cin))
    assert call.kernel == "mf_convolve_s8"
    status, y = mf.conv(replace(call, kernel="mf_convolve3x3_s8"), x, wt)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(24))
def test_convolve_3x3_mve_overlapped(mf: Kernels, seed: int) -> None:
    """The same path with its output over its input at mf_convolve_s8's declared shift."""
    from test_overlap_kernels import run_overlapped

    rng = np.random.default_rng(7800 + seed)
    cin = int(rng.choice([16, 32, 64]))
    cout = int(rng.choice([4, 8, 16, 32, 64]))  # 32 and 64: several blocks, outputs staged
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(2, 7)), int(rng.integers(1, 12))
    stride = 2 if seed % 2 and cin < 64 else 1
    pads = (1, 1, 1, 1) if seed % 3 or w < 2 else (1, 0, 1, 1)
    one = OneOp("CONV_2D", {"strides": (stride, stride), "dilations": (1, 1), "pads": pads,
                            "activation": str(rng.choice(ACTIVATIONS))})
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, cin))
    wt, wq = weights(rng, (cout, 3, 3, cin), axis=0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), 9 * cin))
    got = run_overlapped(mf, replace(call, kernel="mf_convolve3x3_s8"), x, [wt], expected.shape)
    assert got is not None
    np.testing.assert_array_equal(got[0], expected)
