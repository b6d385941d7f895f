"""m4first (issue 12): mf_convolve_s8's DSP multiply (mf_nn_conv_pair_s16: patches padded to whole
quads, the last channel's padded quad read by bytes, the requantization of a channel pair in
registers, the two-quad inner loop) bit-exact against ref_int on every host variant, with the
patch lengths straddling the quads (1, 2, 3, 5 input channels, odd kernels, 1x1 patches shorter
than a quad), odd and even output channel counts and pixel counts, stride 2, padding, dilation,
and left shifts (the C path)."""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import ACTIVATIONS, OneOp, act_data, act_quant, bias, cases, out_quant_for, weights

from mcuforge.ir.graph import QuantParams


@pytest.mark.parametrize("seed", cases(80))
def test_convolve_patch_widths(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(47000 + seed)
    cin = (1, 2, 3, 5, 4, 8)[seed % 6]
    kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    if kh == kw == 1 or seed % 7 == 6:  # 1x1 at stride 2: patches shorter than a quad
        kh, kw, stride = 1, 1, (2, 2)
    dil = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) if seed % 5 == 4 else (1, 1)
    eff = ((kh - 1) * dil[0] + 1, (kw - 1) * dil[1] + 1)
    n = int(rng.integers(1, 3))
    h, w = eff[0] + int(rng.integers(0, 6)), eff[1] + int(rng.integers(0, 7))
    pads = (int(rng.integers(0, kh)), int(rng.integers(0, kw)), int(rng.integers(0, kh)),
            int(rng.integers(0, kw)))  # 1x1: no padding
    cout = int(rng.choice((1, 2, 3, 4, 5, 7, 8, 9, 16, 17)))
    one = OneOp("CONV_2D", {"strides": stride, "dilations": dil, "pads": pads,
                            "activation": str(rng.choice(ACTIVATIONS))})
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, cin))
    wt, wq = weights(rng, (cout, kh, kw, cin), axis=0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    out_q = out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), kh * kw * cin)
    if seed % 9 == 5:  # an output scale below the product scale: a left shift (the C requantization)
        out_q = QuantParams(np.float32(float(xq.scale[0]) * float(wq.scale.min()) * 0.3), out_q.zero_point)
    call, expected = one.finish(out_q)
    assert call.kernel == "mf_convolve_s8"
    status, y = mf.conv(call, x, wt)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
