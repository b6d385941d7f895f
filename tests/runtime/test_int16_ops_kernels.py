"""The remaining 16x8 kernels (issue 11; int16-ops): LEAKY_RELU and the RELU-like clamps,
MINIMUM/MAXIMUM, bilinear resize, BATCH_MATMUL, and the softmax of an int8 input with an int16
output (TFLite Micro's keyword model), bit-exact against ref_int on random shapes around the
4/8-wide edges, inputs over the whole int16 range (grouped convolution: test_int16_kernels.py).
ref_int is checked against TFLite Micro (or TFLite where TFLite Micro has no int16 kernel) on
TF-converted 16x8 models in tests/test_int16_ops_models.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from mfnn import Kernels
from oneop import CHANNELS, OneOp, cases
from test_int16_kernels import _broadcast_shapes, _check, data16, q16, shape4

from mcuforge.ir.graph import QuantParams

CLAMPS = [(0.0, math.inf), (0.0, 6.0), (-1.0, 1.0), (-0.5, 3.0)]  # RELU, RELU6, RELU_N1_TO_1, Clip


@pytest.mark.parametrize("kind", ["LEAKY_RELU", "CLAMP"])
@pytest.mark.parametrize("seed", cases(20))
def test_leaky_relu_and_clamp_s16(mf: Kernels, kind: str, seed: int) -> None:
    rng = np.random.default_rng(12000 + seed)
    shape = shape4(rng, 6)
    if kind == "LEAKY_RELU":
        one = OneOp(kind, {"alpha": float(rng.choice((0.01, 0.2, 0.3, 1.5)))})
    else:
        lo, hi = CLAMPS[seed % len(CLAMPS)]
        one = OneOp(kind, {"min": lo, "max": hi})
    xq = q16(rng)
    x = data16(rng, shape)
    one.input(x, xq)
    out_q = QuantParams(np.float32(float(xq.scale[0]) * rng.uniform(0.3, 2.0)), 0)
    call, expected = one.finish(out_q, "int16")
    assert call.kernel == "mf_leaky_relu_s16"
    _check(*mf.invoke(call, [x], shape, "int16"), expected)


@pytest.mark.parametrize("kind", ["MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("seed", cases(15))
def test_minimum_maximum_s16(mf: Kernels, kind: str, seed: int) -> None:
    rng = np.random.default_rng(12100 + seed)
    a_shape, b_shape = _broadcast_shapes(rng)
    q = q16(rng)
    a, b = data16(rng, a_shape), data16(rng, b_shape)
    one = OneOp(kind, {})
    one.input(a, q)
    one.input(b, q)
    call, expected = one.finish(q, "int16")
    assert call.kernel == f"mf_elementwise_{kind.lower()}_s16"
    _check(*mf.invoke(call, [a, b], call.dims["output"], "int16"), expected)


@pytest.mark.parametrize("seed", cases(20))
def test_resize_bilinear_s16(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(12200 + seed)
    n, h, w, c = shape4(rng, 7)
    size = (int(rng.integers(1, 3 * h + 2)), int(rng.integers(1, 3 * w + 2)))
    align, half = [(False, False), (True, False), (False, True)][seed % 3]
    one = OneOp("RESIZE_BILINEAR", {"size": size, "align_corners": align, "half_pixel_centers": half})
    xq = q16(rng)
    x = data16(rng, (n, h, w, c))
    one.input(x, xq)
    call, expected = one.finish(xq, "int16")
    assert call.kernel == "mf_resize_bilinear_s16"
    _check(*mf.invoke(call, [x], expected.shape, "int16"), expected)


@pytest.mark.parametrize("seed", cases(30))
def test_batch_matmul_s16(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(12300 + seed)
    m, k, n = (int(rng.choice(CHANNELS)) for _ in range(3))
    adj_x, adj_y = bool(seed & 1), bool(seed & 2)
    batch = [int(rng.integers(1, 4)) for _ in range(seed // 4 % 3)]
    batch_b = [d if rng.random() < 0.7 else 1 for d in batch]
    sa = (*batch, k, m) if adj_x else (*batch, m, k)
    sb = (*batch_b, n, k) if adj_y else (*batch_b, k, n)
    one = OneOp("BATCH_MATMUL", {"adj_x": adj_x, "adj_y": adj_y})
    qa, qb = q16(rng), q16(rng)
    a, b = data16(rng, sa), data16(rng, sb)
    one.input(a, qa)
    one.input(b, qb)
    spread = 3 * np.sqrt(k) * 18900 * 18900 * qa.scale[0] * qb.scale[0] / 32767 * rng.uniform(0.2, 3.0)
    call, expected = one.finish(QuantParams(np.float32(spread), 0), "int16")
    assert call.kernel == "mf_batch_matmul_s16"
    _check(*mf.invoke(call, [a, b], expected.shape, "int16"), expected)


@pytest.mark.parametrize("seed", cases(30))
def test_softmax_s8_s16(mf: Kernels, seed: int) -> None:
    """int8 in, int16 out at scale 1/65536, zero point -32768 (TFLite Micro's keyword model)."""
    rng = np.random.default_rng(12500 + seed)
    shape = (int(rng.integers(1, 4)), int(rng.choice((*CHANNELS, 10, 33, 100))))
    one = OneOp("SOFTMAX", {"beta": float(rng.choice((1.0, 1.0, 0.5, 2.0)))})
    xq = QuantParams(np.float32(10 ** rng.uniform(-3, 0)), int(rng.integers(-128, 128)))
    x = rng.integers(-128, 128, size=shape, dtype=np.int8)
    if seed % 3 == 0:
        x = (x // 16).astype(np.int8)  # values close together: several at the row maximum
    one.input(x, xq)
    call, expected = one.finish(QuantParams(np.float32(1 / 65536), -32768), "int16")
    assert call.kernel == "mf_softmax_s8_s16"
    _check(*mf.invoke(call, [x], shape, "int16"), expected)
