"""The integer SVDF (mf_svdf_s8, stateful area) against ref_int on random shapes around the
4/8-wide edges, over several consecutive calls sharing one state (the memory carries over)."""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_ARG_ERROR, MF_OK, Kernels
from oneop import CHANNELS, OneOp, act_data, act_quant, cases

from mcuforge.ir.graph import QuantParams
from mcuforge.reference import new_state, run


def _svdf(rng: np.random.Generator, batches: int, inputs: int, units: int, rank: int, memory: int,
          bias: bool) -> OneOp:
    xq = act_quant(rng)
    filters = units * rank
    state_scale = float(rng.uniform(0.002, 0.05))
    one = OneOp("SVDF", {"rank": rank, "state_scale": state_scale,
                         "state_zero_point": int(rng.integers(-50, 50))})
    one.input(act_data(rng, (batches, inputs)), xq)
    wf_scale = np.float32(rng.uniform(0.002, 0.02))
    one.input(rng.integers(-127, 128, (filters, inputs), dtype=np.int8), QuantParams(wf_scale, 0), const=True)
    wt_scale = np.float32(rng.uniform(1e-5, 1e-4))
    one.input(rng.integers(-32767, 32768, (filters, memory)).astype(np.int16), QuantParams(wt_scale, 0),
              const=True)
    if bias:
        one.input(rng.integers(-200000, 200000, units).astype(np.int32),
                  QuantParams(np.float32(state_scale) * wt_scale, 0), const=True)
    return one


@pytest.mark.parametrize("seed", cases(40))
def test_svdf_over_consecutive_calls(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(47000 + seed)
    batches, rank = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    inputs, units = int(rng.choice(CHANNELS)), int(rng.choice(CHANNELS))
    memory = int(rng.choice((1, 2, 3, 4, 8, 10)))
    one = _svdf(rng, batches, inputs, units, rank, memory, bias=seed % 4 != 3)
    out_q = QuantParams(np.float32(rng.uniform(0.02, 0.5)), int(rng.integers(-30, 30)))
    call, _ = one.finish(out_q)
    assert call.kernel == "mf_svdf_s8"
    ref_state = new_state(one.graph)
    c_state = {"activation_state": ref_state["out"]["activation_state"].copy()}
    weights = [one.graph.tensors[n].data for n in one.names[1:]]
    for step in range(memory + 3):  # past the memory size: the oldest values drop out
        x = act_data(rng, (batches, inputs))
        expected = run(one.graph, {"in0": x}, state=ref_state)["out"]
        status, y = mf.invoke(call, [x, *weights], expected.shape, state=c_state)
        assert status == MF_OK
        np.testing.assert_array_equal(y, expected, err_msg=f"call {step}")
        np.testing.assert_array_equal(c_state["activation_state"], ref_state["out"]["activation_state"])


def test_svdf_state_changes_the_output(mf: Kernels) -> None:
    """The same input twice gives different outputs (the memory moved), and a reset state gives
    the first output again: a kernel that ignored or cleared its state would fail here."""
    rng = np.random.default_rng(3)
    one = _svdf(rng, 1, 9, 5, 2, 4, bias=True)
    call, first = one.finish(QuantParams(np.float32(0.05), 0))
    weights = [one.graph.tensors[n].data for n in one.names[1:]]
    x = one.feeds["in0"]
    fresh = new_state(one.graph)["out"]["activation_state"]
    state = {"activation_state": fresh.copy()}
    outs = [mf.invoke(call, [x, *weights], first.shape, state=state)[1] for _ in range(2)]
    np.testing.assert_array_equal(outs[0], first)
    assert not np.array_equal(outs[0], outs[1])
    state = {"activation_state": fresh.copy()}
    np.testing.assert_array_equal(mf.invoke(call, [x, *weights], first.shape, state=state)[1], first)


def test_svdf_rejects_a_rank_that_does_not_divide(mf: Kernels) -> None:
    rng = np.random.default_rng(4)
    one = _svdf(rng, 1, 4, 3, 2, 2, bias=True)
    call, expected = one.finish(QuantParams(np.float32(0.05), 0))
    weights = [one.graph.tensors[n].data for n in one.names[1:]]
    bad = type(call)(call.kernel, {**call.params, "rank": 4}, call.arrays, call.dims)
    state = {"activation_state": new_state(one.graph)["out"]["activation_state"]}
    assert mf.invoke(bad, [one.feeds["in0"], *weights], expected.shape, state=state)[0] == MF_ARG_ERROR
