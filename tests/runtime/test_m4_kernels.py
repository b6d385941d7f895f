"""speed-m4 (issue 12): the Cortex-M4 fast paths added for narrow and tiny shapes, bit-exact
against ref_int on every host variant (portable, DSP emulated, MVE emulated), with the shapes
straddling each path's block widths (4-byte quads, row and channel pairs)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import ACTIVATIONS, OneOp, act_data, act_quant, bias, cases, out_quant_for, weights

from mcuforge.ir.graph import QuantParams


@pytest.mark.parametrize("seed", cases(60))
def test_pointwise_one_output_channel(mf: Kernels, seed: int) -> None:
    """A 1x1 convolution to one channel (a segmentation head): its own row-pair path."""
    rng = np.random.default_rng(31000 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 7)), int(rng.integers(1, 7))
    cin = 1 + seed % 20  # every remainder of the 4-byte quads, rows odd and even
    one = OneOp("CONV_2D", {"strides": (1, 1), "dilations": (1, 1), "pads": (0, 0, 0, 0),
                            "activation": str(rng.choice(ACTIVATIONS))})
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, cin))
    wt, wq = weights(rng, (1, 1, 1, cin), axis=0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    out_q = out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), cin)
    if seed % 7 == 3:  # an output scale below the product scale: a left shift, the rare branch
        out_q = QuantParams(np.float32(float(xq.scale[0]) * float(wq.scale[0]) * 0.3), out_q.zero_point)
    call, expected = one.finish(out_q)
    assert call.kernel == "mf_convolve_1x1_one_s8"
    status, y = mf.conv(call, x, wt)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
    # the general 1x1 kernel agrees (it is also what the new one hands a left shift to)
    status, y = mf.conv(replace(call, kernel="mf_convolve_1x1_s8"), x, wt)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
