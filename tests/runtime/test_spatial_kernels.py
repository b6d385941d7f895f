"""Grouped CONV_2D, TRANSPOSE_CONV and RESIZE_* kernels, bit-exact against ref_int on random
shapes around the 4/8-wide edges (channel counts from oneop.CHANNELS)."""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_ARG_ERROR, MF_OK, Kernels
from oneop import ACTIVATIONS, CHANNELS, OneOp, act_data, act_quant, bias, cases, out_quant_for, weights

from mcuforge.ir.graph import QuantParams
from mcuforge.kernel_params import dims4


@pytest.mark.parametrize("seed", cases(100))
def test_grouped_convolve(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(9000 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 10)), int(rng.integers(1, 10))
    groups = int(rng.choice((2, 3, 4)))
    depth = int(rng.choice((1, 2, 3, 4, 5, 8)))
    per_group = int(rng.choice((1, 2, 3, 4)))
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    strides = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    dil = (2, 1) if seed % 7 == 0 else (1, 1)
    pads = tuple(int(rng.integers(0, k[i % 2])) for i in range(4))
    if h + pads[0] + pads[2] < (k[0] - 1) * dil[0] + 1 or w + pads[1] + pads[3] < k[1]:
        pads = (k[0], k[1], k[0], k[1])
    one = OneOp("CONV_2D", {"strides": strides, "dilations": dil, "pads": pads,
                            "activation": str(rng.choice(ACTIVATIONS))})
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, groups * depth))
    wt, wq = weights(rng, (groups * per_group, *k, depth), axis=0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()),
                                              k[0] * k[1] * depth))
    assert call.kernel == "mf_convolve_grouped_s8"
    status, y = mf.conv(call, x, wt)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(120))
def test_transpose_conv(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(9500 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 8)), int(rng.integers(1, 8))
    cin, cout = int(rng.choice(CHANNELS)), int(rng.choice(CHANNELS))
    k = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    padding = (int(rng.integers(0, k[0])), int(rng.integers(0, k[1])))
    # output from fully cropped to a few cells past the full result (ONNX output_padding)
    full = ((h - 1) * s[0] + k[0], (w - 1) * s[1] + k[1])
    out_hw = tuple(max(1, full[i] - padding[i] - int(rng.integers(-2, padding[i] + 1))) for i in range(2))
    one = OneOp("TRANSPOSE_CONV", {"strides": s, "padding": padding, "output_hw": out_hw,
                                   "activation": str(rng.choice(ACTIVATIONS))})
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, cin))
    wt, wq = weights(rng, (cout, *k, cin), axis=0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.7:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    taps = -(-k[0] // s[0]) * -(-k[1] // s[1])
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), taps * cin))
    status, y = mf.invoke(call, [x, wt], call.dims["output"])
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("kind", ["RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"])
@pytest.mark.parametrize("seed", cases(80))
def test_resize(mf: Kernels, kind: str, seed: int) -> None:
    rng = np.random.default_rng(9900 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 9)), int(rng.integers(1, 9))
    c = int(rng.choice(CHANNELS))
    size = (int(rng.integers(1, 3 * h + 2)), int(rng.integers(1, 3 * w + 2)))
    align, half = [(False, False), (True, False), (False, True)][seed % 3]
    attrs = {"size": size, "align_corners": align, "half_pixel_centers": half}
    if kind == "RESIZE_NEAREST_NEIGHBOR" and seed % 4 == 3:  # explicit tables (ONNX modes)
        attrs["rows"] = tuple(int(i) for i in rng.integers(0, h, size[0]))
        attrs["cols"] = tuple(int(i) for i in rng.integers(0, w, size[1]))
    one = OneOp(kind, attrs)
    q = act_quant(rng)
    x = act_data(rng, (n, h, w, c))
    one.input(x, q)
    call, expected = one.finish(QuantParams(q.scale, q.zero_point))
    status, y = mf.invoke(call, [x], call.dims["output"])
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


def test_resize_rejects_channel_change(mf: Kernels) -> None:
    one = OneOp("RESIZE_NEAREST_NEIGHBOR", {"size": (4, 4), "align_corners": False,
                                            "half_pixel_centers": False})
    q = act_quant(np.random.default_rng(0))
    x = act_data(np.random.default_rng(0), (1, 2, 2, 3))
    one.input(x, q)
    call, _ = one.finish(QuantParams(q.scale, q.zero_point))
    call.dims["output"] = dims4((1, 4, 4, 5))
    status, _ = mf.invoke(call, [x], call.dims["output"])
    assert status == MF_ARG_ERROR
