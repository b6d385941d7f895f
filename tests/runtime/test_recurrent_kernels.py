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


# -- stateful area: a TFLite LSTM whose state persists between calls -----------------------------


@pytest.mark.parametrize("seed", cases(16))
def test_stateful_lstm_carries_its_state(mf: Kernels, seed: int) -> None:
    """Consecutive calls (one time step or several each) continue one stream in the C as in the
    reference: the hidden and cell state buffers match after every call."""
    from mcuforge.reference import new_state, run

    rng = np.random.default_rng(33000 + seed)
    batches, steps = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    inputs, hidden = int(rng.choice(CHANNELS)), int(rng.choice(CHANNELS))
    one, _ = _lstm(rng, batches, steps, inputs, hidden, bool(seed % 2), int(rng.integers(-15, -9)), 0.0)
    out_q = QuantParams(np.float32(rng.uniform(0.004, 0.02)), int(rng.integers(-30, 30)))
    one.attrs.update({"stateful": True, "hidden_zero_point": int(out_q.zero_point[0])})
    call, _ = one.finish(out_q)
    ref_state = new_state(one.graph)
    c_state = {role: a.copy() for role, a in ref_state["out"].items()}
    weights = [one.graph.tensors[n].data for n in one.names[1:]]
    outputs = []
    for _ in range(4):
        x = act_data(rng, one.feeds["in0"].shape)
        expected = run(one.graph, {"in0": x}, state=ref_state)["out"]
        status, y = mf.invoke(call, [x, *weights], expected.shape, state=c_state)
        assert status == MF_OK
        np.testing.assert_array_equal(y, expected)
        for role in ("hidden", "cell"):
            np.testing.assert_array_equal(c_state[role], ref_state["out"][role])
        outputs.append(y)
    # the same input from a reset state gives what a fresh, stateless run gives
    fresh = {role: a.copy() for role, a in new_state(one.graph)["out"].items()}
    x = one.feeds["in0"]
    stateless = run(one.graph, {"in0": x})["out"]
    np.testing.assert_array_equal(mf.invoke(call, [x, *weights], stateless.shape, state=fresh)[1], stateless)
    reset = new_state(one.graph)["out"]
    assert any(not np.array_equal(fresh[role], reset[role]) for role in reset)  # the call wrote it
