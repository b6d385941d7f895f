"""Calibration methods (ranges.py) and TFLite's encoding rules (scheme.py), as properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcuforge.ir.quant_scheme import (
    activation_params,
    bias_values,
    dequantize_values,
    quantize_values,
    weight_params,
)
from mcuforge.quantize.calibration import HIST_BINS, TensorStats
from mcuforge.quantize.ranges import METHODS, kl, mse, percentile


def stats_of(x: np.ndarray) -> TensorStats:
    lo, hi = float(x.min()), float(x.max())
    hist, _ = np.histogram(x, bins=HIST_BINS, range=(lo, hi if hi > lo else lo + 1))
    return TensorStats(lo, hi, hist)


samples = st.builds(
    lambda seed, shift, spread, outliers, relu: _sample(seed, shift, spread, outliers, relu),
    st.integers(0, 2**31), st.floats(-3, 3), st.floats(1e-3, 100), st.integers(0, 5), st.booleans(),
)


def _sample(seed: int, shift: float, spread: float, outliers: int, relu: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, spread, 2000)
    x[:outliers] *= 50
    return np.maximum(x, 0) if relu else x


@settings(max_examples=60, deadline=None)
@given(samples, st.sampled_from(sorted(METHODS)))
def test_methods_stay_inside_the_observed_range_and_encode_zero(x: np.ndarray, method: str) -> None:
    s = stats_of(x)
    lo, hi = METHODS[method](s, 99.99)
    assert s.lo - 1e-9 <= lo <= hi <= s.hi + 1e-9
    q = activation_params(lo, hi)
    scale, zp = float(q.scale[0]), int(q.zero_point[0])
    assert scale > 0 and -128 <= zp <= 127
    assert (-128 - zp) * scale <= min(lo, 0) + scale and (127 - zp) * scale >= max(hi, 0) - scale
    assert dequantize_values(quantize_values(np.zeros(1), q), q)[0] == 0.0  # zero is exact


@settings(max_examples=30, deadline=None)
@given(samples)
def test_one_sided_tensors_keep_zero_as_their_bottom(x: np.ndarray) -> None:
    x = np.abs(x)
    for method in METHODS:
        assert METHODS[method](stats_of(x), 99.99)[0] == min(float(x.min()), 0.0) or x.min() > 0


def test_percentile_clips_outliers_only() -> None:
    x = np.random.default_rng(0).normal(0, 1, 100_000)
    x[:3] = [80.0, -90.0, 100.0]
    lo, hi = percentile(stats_of(x), 99.99)
    assert -6 < lo < -3 and 3 < hi < 6
    assert percentile(stats_of(x), 100.0) == pytest.approx((x.min(), x.max()), rel=0.01)


def test_mse_and_kl_clip_long_tails_but_not_uniform_data() -> None:
    rng = np.random.default_rng(0)
    tailed = rng.laplace(0, 1, 100_000)
    for method in (mse, kl):
        lo, hi = method(stats_of(tailed), 0)
        assert hi < 0.9 * tailed.max() and lo > 0.9 * tailed.min()
    uniform = rng.uniform(-1, 1, 100_000)
    assert mse(stats_of(uniform), 0) == pytest.approx((-1, 1), abs=0.05)


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("value", [0.0, 2.5, -1.0])
def test_constant_tensors_need_no_division_by_zero(method: str, value: float) -> None:
    with np.errstate(all="raise"):
        lo, hi = METHODS[method](stats_of(np.full(100, value)), 99.99)
        q = activation_params(lo, hi)
    assert q.scale[0] > 0
    if value:
        back = dequantize_values(quantize_values(np.array([value]), q), q)[0]
        assert back == pytest.approx(value, rel=0.01)


@settings(max_examples=60, deadline=None)
@given(st.floats(-1e4, 0), st.floats(0, 1e4))
def test_16x8_activations_are_symmetric_int16(lo: float, hi: float) -> None:
    q = activation_params(lo, hi, "16x8")
    assert q.zero_point[0] == 0
    if hi - lo > 1e-30:
        assert q.scale[0] == pytest.approx(max(-lo, hi) / 32767, rel=1e-6)
        edge = quantize_values(np.array([lo, hi]), q, "int16")
        assert edge.min() >= -32767 and edge.max() <= 32767


def test_weights_are_symmetric_per_channel_and_zero_channels_get_scale_one() -> None:
    w = np.random.default_rng(0).normal(0, 1, (5, 3, 3, 2))
    w[3] = 0
    q = weight_params(w, axis=0)
    assert q.axis == 0 and np.all(q.zero_point == 0)
    assert q.scale[3] == 1.0
    data = quantize_values(w, q)
    assert data.min() >= -127 and np.all(np.abs(data).reshape(5, -1).max(axis=1) == [127, 127, 127, 0, 127])
    assert np.max(np.abs(dequantize_values(data, q) - w)) <= q.scale.max() / 2 + 1e-7


@pytest.mark.parametrize(("mode", "dtype"), [("int8", np.int32), ("16x8", np.int64)])
def test_bias_scale_is_input_times_weight_scale(mode: str, dtype: type) -> None:
    b, params = bias_values(np.array([0.5, -1.0, 0.0]), 0.02, np.array([0.1, 0.01, 1.0]), mode)
    assert b.dtype == dtype
    np.testing.assert_allclose(params.scale, [0.002, 0.0002, 0.02], rtol=1e-6)
    np.testing.assert_array_equal(b, [250, -5000, 0])
