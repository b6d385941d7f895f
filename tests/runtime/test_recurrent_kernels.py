"""The integer LSTM (mf_lstm_s8, recurrent area) against ref_int on random shapes around the
4/8-wide edges, and its scratch rule against the C one."""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_NO_SCRATCH, MF_OK, Kernels
from oneop import CHANNELS, OneOp, act_data, act_quant, cases

from mcuforge.ir.graph import QuantParams
from mcuforge.kernels import SPECS

# -- UNIDIRECTIONAL_SEQUENCE_LSTM (mf_lstm_s8) ---------------------------------------------------


def _lstm(rng: np.random.Generator, batches: int, steps: int, inputs: int, hidden: int,
          time_major: bool, cell_power: int, clip: float) -> tuple[OneOp, np.ndarray]:
    one = OneOp("UNIDIRECTIONAL_SEQUENCE_LSTM",
                {"time_major": time_major, "cell_clip": clip, "cell_scale": 2.0 ** cell_power})
    xq = act_quant(rng)
    shape = (steps, batches, inputs) if time_major else (batches, steps, inputs)
    x = act_data(rng, shape)
    one.input(x, xq)
    w_scale = rng.uniform(0.002, 0.04, 4).astype(np.float32)
    r_scale = rng.uniform(0.002, 0.04, 4).astype(np.float32)
    zeros = np.zeros(4, np.int64)
    one.input(rng.integers(-127, 128, (4, hidden, inputs), dtype=np.int8),
              QuantParams(w_scale, zeros, axis=0), const=True)
    one.input(rng.integers(-127, 128, (4, hidden, hidden), dtype=np.int8),
              QuantParams(r_scale, zeros, axis=0), const=True)
    one.input(rng.integers(-30000, 30000, (4, hidden), dtype=np.int32),
              QuantParams((xq.scale[0] * w_scale).astype(np.float32), zeros, axis=0), const=True)
    return one, x


@pytest.mark.parametrize("seed", cases(40))
def test_lstm(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(32000 + seed)
    batches, steps = int(rng.integers(1, 4)), int(rng.integers(1, 7))
    inputs, hidden = int(rng.choice(CHANNELS)), int(rng.choice(CHANNELS))
    time_major = bool(seed % 2)
    cell_power = int(rng.integers(-15, -9))
    clip = [0.0, 10.0, float(rng.uniform(0.05, 2.0))][seed % 3]
    one, x = _lstm(rng, batches, steps, inputs, hidden, time_major, cell_power, clip)
    out_q = QuantParams(np.float32(rng.uniform(0.004, 0.02)), int(rng.integers(-30, 30)))
    call, expected = one.finish(out_q)
    assert call.kernel == "mf_lstm_s8"
    status, y = mf.run(call, [x], expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


def test_lstm_needs_its_scratch(mf: Kernels, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    one, x = _lstm(rng, 2, 3, 4, 5, False, -12, 0.0)
    call, expected = one.finish(QuantParams(np.float32(0.01), 0))
    size = mf.lib.mf_lstm_s8_get_buffer_size(2, 5)
    assert size == 2 * 5 * 11 == SPECS["mf_lstm_s8"].scratch.bytes(call.dims, call.params)  # type: ignore[union-attr]
    monkeypatch.setattr(mf, "scratch_size", lambda spec, c: size - 1)
    assert mf.run(call, [x], expected.shape)[0] == MF_NO_SCRATCH
    monkeypatch.setattr(mf, "scratch_size", lambda spec, c: size)
    status, y = mf.run(call, [x], expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
