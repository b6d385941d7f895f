"""SLICE_AXIS (mf_slice_axis_s8, recurrent area): random ranks 1-6, every axis, windows at the
edges of the axis, bit-exact against ref_int; arguments out of range are refused."""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_ARG_ERROR, MF_OK, Kernels, s8
from oneop import CHANNELS, OneOp, act_data, act_quant, cases

from mcuforge.ir.graph import QuantParams


@pytest.mark.parametrize("seed", cases(40))
def test_slice_axis(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(31000 + seed)
    rank = int(rng.integers(1, 7))
    shape = tuple(int(rng.choice(CHANNELS)) if i == rank - 1 else int(rng.integers(1, 9))
                  for i in range(rank))
    axis = int(rng.integers(0, rank))
    n = shape[axis]
    begin = int(rng.choice([0, n - 1, int(rng.integers(0, n))]))
    size = int(rng.integers(1, n - begin + 1))
    one = OneOp("SLICE_AXIS", {"axis": axis - rank if seed % 2 else axis, "begin": begin, "size": size})
    q = act_quant(rng)
    x = act_data(rng, shape)
    one.input(x, q)
    call, expected = one.finish(QuantParams(q.scale, q.zero_point))
    assert call.kernel == "mf_slice_axis_s8"
    status, y = mf.slice_axis(call, x, expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(expected, np.take(x, range(begin, begin + size), axis=axis))


def test_slice_axis_refuses_out_of_range(mf: Kernels) -> None:
    x = np.arange(12, dtype=np.int8)
    y = np.zeros(12, np.int8)
    assert mf.lib.mf_slice_axis_s8(1, 12, 1, 10, 3, s8(x), s8(y)) == MF_ARG_ERROR
    assert mf.lib.mf_slice_axis_s8(1, 12, 1, -1, 2, s8(x), s8(y)) == MF_ARG_ERROR
    assert mf.lib.mf_slice_axis_s8(2, 6, 1, 4, 2, s8(x), s8(y)) == MF_OK
    np.testing.assert_array_equal(y[:4], [4, 5, 10, 11])
