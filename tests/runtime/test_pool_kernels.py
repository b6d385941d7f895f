"""AVERAGE_POOL_2D, MAX_POOL_2D and MEAN kernels, bit-exact against ref_int."""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import ACTIVATIONS, CHANNELS, OneOp, act_data, act_quant, cases

from mcuforge.ir.graph import QuantParams


def pool_attrs(rng: np.random.Generator, h: int, w: int) -> dict:
    """Kernel up to 4x4, stride 1-2, pads smaller than the kernel (so no window is all pad)."""
    while True:
        k = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        s = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        pads = tuple(int(rng.integers(0, k[i % 2])) for i in range(4))
        if h + pads[0] + pads[2] >= k[0] and w + pads[1] + pads[3] >= k[1]:
            return {"kernel": k, "strides": s, "pads": pads, "activation": str(rng.choice(ACTIVATIONS))}


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("seed", cases(50))
def test_pool(mf: Kernels, kind: str, seed: int) -> None:
    rng = np.random.default_rng(4000 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 12)), int(rng.integers(1, 12))
    c = int(rng.choice(CHANNELS))
    one = OneOp(kind, pool_attrs(rng, h, w))
    q = act_quant(rng)
    x = act_data(rng, (n, h, w, c))
    one.input(x, q)
    call, expected = one.finish(QuantParams(q.scale, q.zero_point))
    status, y = mf.pool(call, x)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(50))
def test_mean(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(5000 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 16)), int(rng.integers(1, 16))
    c = int(rng.choice(CHANNELS))
    keepdims = bool(seed % 2)
    one = OneOp("MEAN", {"axes": (1, 2) if seed % 3 else (2, 1), "keepdims": keepdims})
    q = act_quant(rng)
    x = act_data(rng, (n, h, w, c))
    one.input(x, q)
    same = seed % 5 == 0  # global average pooling that keeps the quantization
    scale = q.scale[0] * rng.uniform(0.2, 2.0)
    oq = q if same else QuantParams(np.float32(scale), int(rng.integers(-128, 128)))
    call, expected = one.finish(QuantParams(oq.scale, oq.zero_point))
    status, y = mf.mean(call, x)
    assert status == MF_OK
    np.testing.assert_array_equal(y.reshape(expected.shape), expected)
