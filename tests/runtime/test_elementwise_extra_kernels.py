"""MAXIMUM, MINIMUM, DIV (with broadcasting), L2_NORMALIZATION and LOG_SOFTMAX kernels, bit-exact against
ref_int on random shapes around the 4/8-wide edges (elementwise-ops)."""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import ACTIVATIONS, CHANNELS, OneOp, act_data, act_quant, cases
from test_elementwise_kernels import broadcast_pair

from mcuforge.ir.graph import QuantParams


@pytest.mark.parametrize("kind", ["MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("seed", cases(40))
def test_minimum_maximum(mf: Kernels, kind: str, seed: int) -> None:
    rng = np.random.default_rng(9100 + seed)
    sa, sb = broadcast_pair(rng, seed)
    q = act_quant(rng)
    one = OneOp(kind, {})
    a, b = act_data(rng, sa), act_data(rng, sb)
    one.input(a, q)
    one.input(b, q)
    call, expected = one.finish(q)
    status, y = mf.binary(call, a.reshape(call.dims["input1"]), b.reshape(call.dims["input2"]))
    assert status == MF_OK
    np.testing.assert_array_equal(y.reshape(expected.shape), expected)


@pytest.mark.parametrize("seed", cases(60))
def test_div(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(9200 + seed)
    sa, sb = broadcast_pair(rng, seed)
    one = OneOp("DIV", {"activation": str(rng.choice(ACTIVATIONS))})
    qa, qb = act_quant(rng), act_quant(rng)
    a, b = act_data(rng, sa), act_data(rng, sb)
    if seed % 5 == 0:  # a divisor of real zero somewhere
        b.reshape(-1)[0] = qb.zero_point[0]
    one.input(a, qa)
    one.input(b, qb)
    out_scale = qa.scale[0] / qb.scale[0] / 64 * rng.uniform(0.2, 4.0)
    call, expected = one.finish(QuantParams(np.float32(out_scale), int(rng.integers(-128, 128))))
    status, y = mf.binary(call, a.reshape(call.dims["input1"]), b.reshape(call.dims["input2"]))
    assert status == MF_OK
    np.testing.assert_array_equal(y.reshape(expected.shape), expected)


@pytest.mark.parametrize("seed", cases(40))
def test_l2_normalization(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(9300 + seed)
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 5)), int(rng.choice((*CHANNELS, 64, 200))))
    one = OneOp("L2_NORMALIZATION", {"axis": -1, "epsilon": 1e-6})
    q = act_quant(rng)
    x = act_data(rng, shape)
    if seed % 4 == 0:  # rows of (nearly) all zero points: the kernel's acc <= 1 case
        x[..., :] = q.zero_point[0]
        x.reshape(-1)[0] = q.zero_point[0] + (seed % 8 == 0)
    one.input(x, q)
    call, expected = one.finish(QuantParams(np.float32(1 / 128), 0))
    status, y = mf.run(call, [x], expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(40))
def test_log_softmax(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(9400 + seed)
    shape = (int(rng.integers(1, 4)), int(rng.choice((*CHANNELS, 10, 33, 256))))
    one = OneOp("LOG_SOFTMAX", {})
    q = QuantParams(np.float32(rng.uniform(0.005, 0.5)), int(rng.integers(-128, 128)))
    x = act_data(rng, shape)
    one.input(x, q)
    call, expected = one.finish(QuantParams(np.float32(16 / 256), 127))
    status, y = mf.run(call, [x], expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
