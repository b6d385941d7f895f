"""CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED kernels, bit-exact against ref_int."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import ACTIVATIONS, CHANNELS, OneOp, act_data, act_quant, bias, cases, out_quant_for, weights

from mcuforge.ir.graph import QuantParams


def window(rng: np.random.Generator, size: tuple[int, int]) -> dict:
    """Random kernel, stride, dilation and pads for which the output is at least 1x1."""
    while True:
        k = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        strides = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        dil = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) if rng.random() < 0.3 else (1, 1)
        pads = tuple(int(rng.integers(0, k[i % 2])) for i in range(4))
        eff = [(k[i] - 1) * dil[i] + 1 for i in range(2)]
        if all(size[i] + pads[i] + pads[i + 2] >= eff[i] for i in range(2)):
            return {"kernel": k, "strides": strides, "dilations": dil, "pads": pads,
                    "activation": str(rng.choice(ACTIVATIONS))}


def pointwise(rng: np.random.Generator) -> dict:
    return {"kernel": (1, 1), "strides": (1, 1), "dilations": (1, 1), "pads": (0, 0, 0, 0),
            "activation": str(rng.choice(ACTIVATIONS))}


@pytest.mark.parametrize("seed", cases(150))
def test_convolve(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 11)), int(rng.integers(1, 11))
    cin, cout = int(rng.choice(CHANNELS)), int(rng.choice(CHANNELS))
    geo = pointwise(rng) if seed % 4 == 0 else window(rng, (h, w))
    k = geo.pop("kernel")
    one = OneOp("CONV_2D", geo)
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, cin))
    wt, wq = weights(rng, (cout, *k, cin), axis=0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()),
                                              k[0] * k[1] * cin))
    pointwise_kernels = ("mf_convolve_1x1_s8", "mf_convolve_1x1_one_s8")  # one_s8: C_out 1 (speed-m4)
    assert call.kernel in (pointwise_kernels if seed % 4 == 0 else (call.kernel,))
    status, y = mf.conv(call, x, wt)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
    # The general kernel must agree on the shapes the fast path takes.
    if call.kernel in pointwise_kernels:
        status, y = mf.conv(replace(call, kernel="mf_convolve_s8"), x, wt)
        assert status == MF_OK
        np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(150))
def test_depthwise_conv(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(2000 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 11)), int(rng.integers(1, 11))
    c = int(rng.choice(CHANNELS))
    mult = int(rng.choice((1, 1, 2, 3)))
    geo = window(rng, (h, w))
    k = geo.pop("kernel")
    one = OneOp("DEPTHWISE_CONV_2D", {**geo, "depth_multiplier": mult})
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, c))
    wt, wq = weights(rng, (1, *k, c * mult), axis=3)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()),
                                              k[0] * k[1]))
    status, y = mf.depthwise(call, x, wt)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(100))
def test_fully_connected(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(3000 + seed)
    batch = (int(rng.integers(1, 4)),) if seed % 3 else (1, int(rng.integers(1, 3)))
    depth = int(rng.choice((*CHANNELS, 31, 32, 33, 64)))
    units = int(rng.choice(CHANNELS))
    one = OneOp("FULLY_CONNECTED", {"activation": str(rng.choice(ACTIVATIONS))})
    xq = act_quant(rng)
    x = act_data(rng, (*batch, depth))
    wt, wq = weights(rng, (units, depth), axis=0)
    if seed % 2:  # per-tensor weights, as TFLite's classic FULLY_CONNECTED has them
        wq = replace(wq, scale=wq.scale[:1], zero_point=wq.zero_point[:1], axis=None)
        wq.__post_init__()
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        w_scales = np.broadcast_to(wq.scale, (units,)).astype(np.float32)
        b, bq = bias(rng, float(xq.scale[0]), w_scales)
        one.input(b, bq, const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), depth))
    assert call.params["per_channel"] == int(wq.per_channel)
    status, y = mf.fully_connected(call, x, wt, expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(20))
def test_fully_connected_asymmetric_weights(mf: Kernels, seed: int) -> None:
    """Per-tensor weights with a zero point: the kernel adds filter_offset * sum(x) per row to the
    bias the compiler folded the rest of the offset products into."""
    rng = np.random.default_rng(3500 + seed)
    depth, units = int(rng.choice((1, 3, 4, 9, 33))), int(rng.choice(CHANNELS))
    one = OneOp("FULLY_CONNECTED", {"activation": "NONE"})
    xq = act_quant(rng)
    x = act_data(rng, (int(rng.integers(1, 4)), depth))
    wt = rng.integers(-128, 128, size=(units, depth), dtype=np.int8)
    wq = QuantParams(np.float32(rng.uniform(0.001, 0.02)), int(rng.integers(-100, 100)))
    one.input(x, xq)
    one.input(wt, wq, const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale[0]), depth))
    assert call.params["filter_offset"] == -int(wq.zero_point[0])
    status, y = mf.fully_connected(call, x, wt, expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(60))
def test_depthwise_conv_rows(mf: Kernels, seed: int) -> None:
    """speed-m4 (issue 12): shapes that take mf_depthwise_conv_rows_s8, around its widths:
    output rows of 12 and more (3x3, multiplier 1, C % 4 == 0), channel groups of 1-4 and 5-9,
    channel multipliers up to 8 (a speech model's 1-channel first layer), kernels up to 10x8,
    odd and even widths (SMLAD pairs), strides and dilations up to 3."""
    rng = np.random.default_rng(7000 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 20)), int(rng.integers(10, 30))
    c = int(rng.choice((1, 2, 3, 4, 5, 8, 9, 12)))
    mult = int(rng.choice((1, 1, 2, 3, 8)))
    while True:
        k = (int(rng.integers(1, 11)), int(rng.integers(1, 9))) if seed % 3 else (3, 3)
        strides = (int(rng.integers(1, 4)), int(rng.integers(1, 4))) if seed % 2 else (1, 1)
        dil = (int(rng.integers(1, 4)), int(rng.integers(1, 4))) if seed % 5 == 0 else (1, 1)
        pads = tuple(int(rng.integers(0, k[i % 2])) for i in range(4))
        eff = [(k[i] - 1) * dil[i] + 1 for i in range(2)]
        if all((h, w)[i] + pads[i] + pads[i + 2] >= eff[i] for i in range(2)):
            break
    geo = {"strides": strides, "dilations": dil, "pads": pads, "activation": str(rng.choice(ACTIVATIONS))}
    one = OneOp("DEPTHWISE_CONV_2D", {**geo, "depth_multiplier": mult})
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, c))
    wt, wq = weights(rng, (1, *k, c * mult), axis=3)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    oq = out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), k[0] * k[1])
    if seed % 7 == 3:  # multipliers above 1/2 (shift >= 0) and tiny ones: the generic requantization
        scale = float(xq.scale[0]) * float(wq.scale.mean()) * float(rng.choice((0.3, 1e7)))
        oq = QuantParams(np.float32(scale), int(rng.integers(-128, 128)))
    call, expected = one.finish(oq)
    status, y = mf.depthwise(call, x, wt)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
    # Both depthwise kernels take every shape (the compiler picks one per layer).
    for kernel in ("mf_depthwise_conv_s8", "mf_depthwise_conv_rows_s8"):
        status, y = mf.depthwise(replace(call, kernel=kernel), x, wt)
        assert status == MF_OK
        np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(40))
def test_convolve_one_input_channel(mf: Kernels, seed: int) -> None:
    """speed-m4 (issue 12): CONV_2D on one input channel (first layers of speech and grayscale
    models): wide rows, kernels up to 10x8, any stride and dilation."""
    rng = np.random.default_rng(9000 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 20)), int(rng.integers(8, 40))
    cout = int(rng.choice((*CHANNELS, 32)))
    while True:
        geo = window(rng, (h, w))
        if seed % 2:
            geo["kernel"] = (int(rng.integers(1, 11)), int(rng.integers(1, 9)))
            geo["pads"] = tuple(int(rng.integers(0, geo["kernel"][i % 2])) for i in range(4))
        k, dil, pads = geo["kernel"], geo["dilations"], geo["pads"]
        if all((h, w)[i] + pads[i] + pads[i + 2] >= (k[i] - 1) * dil[i] + 1 for i in range(2)):
            break
    k = geo.pop("kernel")
    one = OneOp("CONV_2D", geo)
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, 1))
    wt, wq = weights(rng, (cout, *k, 1), axis=0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), k[0] * k[1]))
    status, y = mf.conv(call, x, wt)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
