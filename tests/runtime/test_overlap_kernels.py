"""The streaming kernels with their output overlapping their input at the declared shift
(issue 13, kernels/access.py), bit-exact against ref_int, in every host variant (portable,
emulated DSP, emulated MVE; under ASan/UBSan with MF_SANITIZE=1).

One arena holds both: the output at offset GUARD, the input `shift` bytes above it (the smallest
shift the kernel's access pattern allows, alignment 1), guard bytes around them that must stay
untouched. A kernel that read an input byte after overwriting it would give a wrong output.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import ACTIVATIONS, OneOp, act_data, act_quant, bias, cases, out_quant_for, weights

from mcuforge.ir.graph import QuantParams
from mcuforge.kernel_params import KernelCall
from mcuforge.kernels.access import stream_for
from mcuforge.kernels.target import dw3x3_mve_takes

GUARD = 64


def run_overlapped(mf: Kernels, call: KernelCall, x: np.ndarray, consts: list[np.ndarray],
                   out_shape: tuple[int, ...]) -> tuple[np.ndarray, int] | None:
    """The kernel's output with the input placed `shift` bytes above it, and that shift
    (None: the call declares no access pattern)."""
    stream = stream_for(call.kernel, call.dims, call.params)
    if stream is None:
        return None
    shift = stream.min_shift()
    assert stream.in_bytes == x.nbytes and stream.out_bytes == int(np.prod(out_shape))
    span = stream.span(shift)
    arena = np.full(span + 2 * GUARD, 0x5A, dtype=np.int8)
    x_view = arena[GUARD + shift: GUARD + shift + x.nbytes].reshape(x.shape)
    x_view[...] = x
    y_view = arena[GUARD: GUARD + stream.out_bytes].reshape(out_shape)
    assert mf.invoke_outputs(call, [x_view, *consts], [y_view]) == MF_OK
    assert (arena[:GUARD] == 0x5A).all() and (arena[GUARD + span:] == 0x5A).all()
    return y_view.copy(), shift


def window(rng: np.random.Generator, h: int, w: int, max_k: int = 4) -> dict:
    while True:
        k = (int(rng.integers(1, max_k + 1)), int(rng.integers(1, max_k + 1)))
        strides = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        dil = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) if rng.random() < 0.3 else (1, 1)
        pads = tuple(int(rng.integers(0, k[i % 2])) for i in range(4))
        eff = [(k[i] - 1) * dil[i] + 1 for i in range(2)]
        if h + pads[0] + pads[2] >= eff[0] and w + pads[1] + pads[3] >= eff[1]:
            return {"kernel": k, "strides": strides, "dilations": dil, "pads": pads,
                    "activation": str(rng.choice(ACTIVATIONS))}


@pytest.mark.parametrize("seed", cases(40))
def test_convolutions_overlapped(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(13000 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(2, 14)), int(rng.integers(1, 12))
    cin, cout = int(rng.choice((1, 3, 4, 8, 9, 16))), int(rng.choice((1, 4, 5, 8, 16, 24)))
    if seed % 2 == 0:
        geo = {"kernel": (1, 1), "strides": (1, 1), "dilations": (1, 1), "pads": (0, 0, 0, 0),
               "activation": str(rng.choice(ACTIVATIONS))}
    else:
        geo = window(rng, h, w)
    k = geo.pop("kernel")
    one = OneOp("CONV_2D", geo)
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, cin))
    wt, wq = weights(rng, (cout, *k, cin), axis=0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()),
                                              k[0] * k[1] * cin))
    kernels = [call.kernel] + (["mf_convolve_s8"] if call.kernel == "mf_convolve_1x1_s8" else [])
    for kernel in kernels:
        got = run_overlapped(mf, replace(call, kernel=kernel), x, [wt], expected.shape)
        assert got is not None
        np.testing.assert_array_equal(got[0], expected)


@pytest.mark.parametrize("seed", cases(40))
def test_depthwise_overlapped(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(14000 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(2, 16)), int(rng.integers(1, 20))
    c = int(rng.choice((1, 3, 4, 5, 8, 12, 16)))
    mult = int(rng.choice((1, 1, 1, 2)))
    geo = window(rng, h, w, 5) if seed % 3 else {
        "kernel": (3, 3), "strides": (1, 1), "dilations": (1, 1), "pads": (1, 1, 1, 1),
        "activation": "RELU"}
    k = geo.pop("kernel")
    one = OneOp("DEPTHWISE_CONV_2D", {**geo, "depth_multiplier": mult})
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, c))
    wt, wq = weights(rng, (1, *k, c * mult), axis=3)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), k[0] * k[1]))
    ran = 0
    for kernel in ("mf_depthwise_conv_s8", "mf_depthwise_conv_rows_s8"):
        got = run_overlapped(mf, replace(call, kernel=kernel), x, [wt], expected.shape)
        if got is None:  # the rows kernel declares nothing for multipliers above 1
            assert kernel == "mf_depthwise_conv_rows_s8"
            continue
        np.testing.assert_array_equal(got[0], expected)
        ran += 1
    assert ran >= 1


@pytest.mark.parametrize("seed", cases(12))
def test_m55_depthwise_3x3_overlapped(mf: Kernels, seed: int) -> None:
    """mf_depthwise_conv3x3_s8 (the M55's choice: eight channels a vector on MVE builds) over its
    input at the declared shift, on the shapes it takes (dw3x3_mve_takes)."""
    rng = np.random.default_rng(16000 + seed)
    while True:  # a shape the M55 kernel takes (the compiler chooses it only for those)
        n, h, w = int(rng.integers(1, 3)), int(rng.integers(2, 9)), int(rng.integers(2, 9))
        c = int(rng.choice((32, 40, 64, 128)))
        stride = int(rng.integers(1, 3))
        top, left = int(rng.integers(0, 2)), int(rng.integers(0, 2))
        if h + 2 * top < 3 or w + 2 * left < 3:
            continue
        geo = {"strides": (stride, stride), "dilations": (1, 1), "pads": (top, left, top, left),
               "activation": str(rng.choice(ACTIVATIONS))}
        one = OneOp("DEPTHWISE_CONV_2D", {**geo, "depth_multiplier": 1})
        xq = act_quant(rng)
        x = act_data(rng, (n, h, w, c))
        wt, wq = weights(rng, (1, 3, 3, c), axis=3)
        one.input(x, xq)
        one.input(wt, wq, const=True)
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
        call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), 9))
        call = replace(call, kernel="mf_depthwise_conv3x3_s8")
        if dw3x3_mve_takes(call):
            break
    got = run_overlapped(mf, call, x, [wt], expected.shape)
    assert got is not None
    np.testing.assert_array_equal(got[0], expected)


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("seed", cases(20))
def test_pool_overlapped(mf: Kernels, kind: str, seed: int) -> None:
    rng = np.random.default_rng(15000 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(2, 12)), int(rng.integers(1, 12))
    c = int(rng.choice((1, 4, 5, 8, 16)))
    while True:
        k = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        s = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        pads = tuple(int(rng.integers(0, k[i % 2])) for i in range(4))
        if h + pads[0] + pads[2] >= k[0] and w + pads[1] + pads[3] >= k[1]:
            break
    one = OneOp(kind, {"kernel": k, "strides": s, "pads": pads, "activation": str(rng.choice(ACTIVATIONS))})
    q = act_quant(rng)
    x = act_data(rng, (n, h, w, c))
    one.input(x, q)
    call, expected = one.finish(QuantParams(q.scale, q.zero_point))
    got = run_overlapped(mf, call, x, [], expected.shape)
    assert got is not None
    np.testing.assert_array_equal(got[0], expected)


@pytest.mark.parametrize("seed", cases(20))
def test_fully_connected_overlapped(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(16000 + seed)
    rows, depth, units = int(rng.integers(1, 9)), int(rng.choice((3, 8, 16, 33))), int(rng.choice((4, 8, 17)))
    one = OneOp("FULLY_CONNECTED", {"activation": str(rng.choice(ACTIVATIONS))})
    xq = act_quant(rng)
    x = act_data(rng, (rows, depth))
    wt, wq = weights(rng, (units, depth), axis=0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), depth))
    got = run_overlapped(mf, call, x, [wt], expected.shape)
    assert got is not None
    np.testing.assert_array_equal(got[0], expected)


def test_a_shift_too_small_is_caught_by_the_kernel_run(mf: Kernels) -> None:
    """The check has teeth: the 1x1 kernel with its output fully over its input (shift 0, every
    pixel written over the pixel it reads) breaks the output for more than one channel."""
    rng = np.random.default_rng(17000)
    one = OneOp("CONV_2D", {"strides": (1, 1), "dilations": (1, 1), "pads": (0, 0, 0, 0),
                            "activation": "NONE"})
    xq = act_quant(rng)
    x = act_data(rng, (1, 6, 6, 8))
    wt, wq = weights(rng, (16, 1, 1, 8), axis=0)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), 8))
    arena = np.zeros(x.nbytes * 2 + 64, dtype=np.int8)
    x_view = arena[:x.nbytes].reshape(x.shape)
    x_view[...] = x
    y_view = arena[:expected.nbytes].reshape(expected.shape)
    assert mf.invoke_outputs(call, [x_view, wt], [y_view]) == MF_OK
    assert not np.array_equal(y_view, expected)
