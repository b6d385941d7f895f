"""m3 (issue 12): the portable family's packed row-pair paths (mf_portable_nn.h), bit-exact
against ref_int around their block widths: input depths around the four-input loop and the
MF_PK_CHUNK (252) split of the 64-bit sums, odd channel counts, odd pixel counts, and inputs and
weights at -128 (the largest sums the split must keep apart). The host build takes the packed
paths (MF_PT_PACKED: no DSP, no MVE, not ARMv6-M); tests/test_qemu_portable_kernels.py runs the
same on the Cortex-M3 (inline assembly) and the Cortex-M0+ (int8 paths)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import OneOp, act_quant, bias, out_quant_for, weights

DEPTHS = (1, 3, 4, 5, 8, 9, 251, 252, 253, 256, 505, 520)


def conv_case(rng: np.random.Generator, hw: tuple[int, int], cin: int, cout: int,
              kernel: tuple[int, int], extreme: bool, pads: tuple[int, int, int, int] = (0, 0, 0, 0),
              strides: tuple[int, int] = (1, 1)) -> tuple[object, np.ndarray, np.ndarray, np.ndarray]:
    """A CONV_2D call, its input, weights and expected output; `extreme`: inputs mostly -128 and
    the first channel's weights all -128."""
    x = rng.integers(-128, 128, size=(1, *hw, cin), dtype=np.int8)
    wt, wq = weights(rng, (cout, *kernel, cin), axis=0)
    if extreme:
        x[rng.random(x.shape) < 0.9] = -128
        wt[0] = -128
    one = OneOp("CONV_2D", {"strides": strides, "dilations": (1, 1), "pads": pads,
                            "activation": str(rng.choice(("NONE", "RELU")))})
    xq = act_quant(rng)
    one.input(x, xq)
    one.input(wt, wq, const=True)
    one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    depth = kernel[0] * kernel[1] * cin
    scale = out_quant_for(rng, float(xq.scale[0]), float(wq.scale.mean()), depth)
    call, expected = one.finish(scale)
    return call, x, wt, expected


@pytest.mark.parametrize("cin", DEPTHS)
@pytest.mark.parametrize("extreme", [False, True])
def test_pointwise_packed_pairs(mf: Kernels, cin: int, extreme: bool) -> None:
    rng = np.random.default_rng(cin * 2 + extreme)
    for cout in (1, 2, 3, 5, 16):
        for hw in ((1, 1), (1, 2), (1, 3), (2, 3)):
            call, x, wt, expected = conv_case(rng, hw, cin, cout, (1, 1), extreme)
            if cout == 1:
                call = replace(call, kernel="mf_convolve_1x1_s8")
            assert call.kernel == "mf_convolve_1x1_s8"
            status, y = mf.conv(call, x, wt)
            assert status == MF_OK
            np.testing.assert_array_equal(y, expected, err_msg=f"cin {cin} cout {cout} hw {hw}")


@pytest.mark.parametrize("cin", (1, 2, 3, 16, 28, 29, 64))
@pytest.mark.parametrize("extreme", [False, True])
def test_convolve_packed_pairs(mf: Kernels, cin: int, extreme: bool) -> None:
    """im2col pixel pairs packed from the image: padded borders, strides, odd pixel counts,
    patch lengths 9 * cin across the 252-input split (28: 252, 29: 261, 64: 576)."""
    rng = np.random.default_rng(100 + cin * 2 + extreme)
    for cout in (1, 2, 3, 4, 9):
        for hw, pads, strides in (((3, 3), (1, 1, 1, 1), (1, 1)), ((5, 4), (0, 1, 1, 0), (2, 1)),
                                  ((4, 5), (1, 1, 1, 1), (2, 2))):
            call, x, wt, expected = conv_case(rng, hw, cin, cout, (3, 3), extreme, pads, strides)
            call = replace(call, kernel="mf_convolve_s8")
            status, y = mf.conv(call, x, wt)
            assert status == MF_OK
            np.testing.assert_array_equal(y, expected, err_msg=f"cin {cin} cout {cout} hw {hw}")
