"""speed-m55 (issue 12): MAX_POOL_2D's Helium path (sixteen channels a vector, the last C % 16
under a tail predicate, the activation as the start value and a final VMIN), bit-exact against
ref_int in every host variant, with channel counts around one, two and three vectors."""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import OneOp, act_data, act_quant, cases
from test_pool_kernels import pool_attrs

from mcuforge.ir.graph import QuantParams


@pytest.mark.parametrize("seed", cases(30))
def test_maxpool_vector_widths(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(7900 + seed)
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 9)), int(rng.integers(1, 9))
    c = int(rng.choice([8, 15, 16, 17, 31, 32, 33, 48, 50]))
    one = OneOp("MAX_POOL_2D", pool_attrs(rng, h, w))
    q = act_quant(rng)
    x = act_data(rng, (n, h, w, c))
    one.input(x, q)
    call, expected = one.finish(QuantParams(q.scale, q.zero_point))
    status, y = mf.pool(call, x)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
