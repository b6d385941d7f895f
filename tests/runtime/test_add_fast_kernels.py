"""The equal-shape int8 ADD (DSP and portable paths: one 64-bit multiply-accumulate per input,
a shift for the input of the larger scale) on every pair of int8 inputs, bit-exact against ref_int.

Each case adds all 256 x 256 input pairs (two tensors of shape (1, 256, 256, 1)) under one random
quantization: scales spread over two decades, equal scales (ties are most frequent there), scales
a power of two apart, zero points at both int8 ends, every fused activation.
"""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import OneOp, cases

from mcuforge.ir.graph import QuantParams

ALL = np.arange(-128, 128, dtype=np.int8)


def _quant(rng: np.random.Generator, scale: float) -> QuantParams:
    zp = int(rng.choice([-128, 127, int(rng.integers(-128, 128))]))
    return QuantParams(np.float32(scale), zp)


@pytest.mark.parametrize("seed", cases(12))
def test_add_all_pairs(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(9100 + seed)
    sa = float(rng.uniform(0.002, 0.2))
    sb = [sa, sa * 2.0, sa / 4.0, float(rng.uniform(0.002, 0.2))][seed % 4]
    qa, qb = _quant(rng, sa), _quant(rng, sb)
    a = np.repeat(ALL, 256).reshape(1, 256, 256, 1)
    b = np.tile(ALL, 256).reshape(1, 256, 256, 1)
    one = OneOp("ADD", {"activation": ["NONE", "RELU", "RELU6", "NONE"][seed % 4]})
    one.input(a, qa)
    one.input(b, qb)
    out_scale = max(sa, sb) * float(rng.uniform(0.5, 3.0))
    call, expected = one.finish(QuantParams(np.float32(out_scale), int(rng.integers(-128, 128))))
    status, y = mf.binary(call, a, b)
    assert status == MF_OK
    np.testing.assert_array_equal(y.reshape(expected.shape), expected)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17])
def test_add_odd_sizes(mf: Kernels, size: int) -> None:
    """Lengths around the two-element step (the last element on its own)."""
    rng = np.random.default_rng(size)
    a = rng.integers(-128, 128, (1, 1, size, 1), dtype=np.int8)
    b = rng.integers(-128, 128, (1, 1, size, 1), dtype=np.int8)
    one = OneOp("ADD", {"activation": "NONE"})
    one.input(a, QuantParams(np.float32(0.05), 3))
    one.input(b, QuantParams(np.float32(0.03), -7))
    call, expected = one.finish(QuantParams(np.float32(0.07), 1))
    status, y = mf.binary(call, a, b)
    assert status == MF_OK
    np.testing.assert_array_equal(y.reshape(expected.shape), expected)
