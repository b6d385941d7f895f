"""Reductions and normalization kernels (mf_reduce_s8, mf_arg_s8, mf_squared_difference_s8,
mf_layer_norm_s8), bit-exact against ref_int on random shapes around the 4/8-wide edges."""

from __future__ import annotations

import numpy as np
import pytest
from mfnn import MF_OK, Kernels
from oneop import CHANNELS, OneOp, act_data, act_quant, cases

from mcuforge.ir.graph import QuantParams

DIMS = (1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17)


def random_shape(rng: np.random.Generator, rank: int, budget: int = 6000) -> tuple[int, ...]:
    while True:
        shape = tuple(int(rng.choice(DIMS)) for _ in range(rank))
        if int(np.prod(shape)) <= budget:
            return shape


def random_axes(rng: np.random.Generator, rank: int) -> tuple[int, ...]:
    k = int(rng.integers(1, rank + 1))
    axes = sorted(int(a) for a in rng.choice(rank, size=k, replace=False))
    return tuple(a - rank if rng.random() < 0.3 else a for a in axes)  # some negative


@pytest.mark.parametrize("kind", ["MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN"])
@pytest.mark.parametrize("seed", cases(40))
def test_reduce(mf: Kernels, kind: str, seed: int) -> None:
    rng = np.random.default_rng(9000 + seed)
    rank = 1 + seed % 5
    shape = random_shape(rng, rank)
    one = OneOp(kind, {"axes": random_axes(rng, rank), "keepdims": bool(rng.integers(0, 2))})
    q = act_quant(rng)
    x = act_data(rng, shape)
    one.input(x, q)
    if kind in ("REDUCE_MAX", "REDUCE_MIN"):
        oq = q
    else:
        grow = float(np.prod(shape)) ** 0.5 if kind == "SUM" else 1.0
        oq = QuantParams(np.float32(q.scale[0] * grow * rng.uniform(0.3, 2.0)), int(rng.integers(-128, 128)))
    call, expected = one.finish(oq)
    status, y = mf.run(call, [x], expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


def test_reduce_refuses_bad_kind(mf: Kernels) -> None:
    one = OneOp("SUM", {"axes": (0,), "keepdims": False})
    x = np.zeros((4, 3), np.int8)
    one.input(x, QuantParams(np.float32(0.1), 0))
    call, _ = one.finish(QuantParams(np.float32(0.1), 0))
    call.params["kind"] = 7
    status, _ = mf.run(call, [x], (3,))
    assert status != MF_OK


@pytest.mark.parametrize("kind", ["ARG_MAX", "ARG_MIN"])
@pytest.mark.parametrize("seed", cases(30))
def test_arg(mf: Kernels, kind: str, seed: int) -> None:
    rng = np.random.default_rng(9500 + seed)
    rank = 1 + seed % 4
    shape = random_shape(rng, rank)
    axis = int(rng.integers(0, rank))
    one = OneOp(kind, {"axis": axis, "keepdims": bool(seed % 3 == 0), "select_last": bool(seed % 2)})
    # A narrow value range makes ties common, which is where first/last index rules differ.
    x = rng.integers(-3, 3, size=shape, dtype=np.int8) if seed % 2 else act_data(rng, shape)
    one.input(x, act_quant(rng))
    out_dtype = "int32" if seed % 4 < 2 else "int64"
    call, expected = one.finish(None, out_dtype)  # type: ignore[arg-type]
    status, y = mf.run(call, [x], expected.shape, out_dtype)
    assert status == MF_OK
    assert y.dtype == expected.dtype
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(40))
def test_squared_difference(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(9700 + seed)
    n, h, c = int(rng.integers(1, 3)), int(rng.integers(1, 10)), int(rng.choice(CHANNELS))
    a_shape = (n, h, c)
    b_shape = [(n, h, 1), (n, h, c), (1, 1, c), (1, h, 1)][seed % 4]
    one = OneOp("SQUARED_DIFFERENCE", {})
    a, b = act_data(rng, a_shape), act_data(rng, b_shape)
    qa, qb = act_quant(rng), act_quant(rng)
    one.input(a, qa)
    one.input(b, qb)
    # The square of up to 255 steps of the larger input scale, over the int8 range.
    big = float(max(qa.scale[0], qb.scale[0]))
    oq = QuantParams(np.float32((255 * big) ** 2 / 255 * rng.uniform(0.05, 1.0)), -128)
    call, expected = one.finish(oq)
    status, y = mf.run(call, [a, b], expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(40))
def test_layer_norm(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(9900 + seed)
    depth = int(rng.choice((*CHANNELS, 32, 64, 200)))
    rows = int(rng.integers(1, 20))
    gamma = tuple(float(g) for g in rng.uniform(-2.0, 2.0, depth))
    beta = tuple(float(b) for b in rng.uniform(-1.0, 1.0, depth))
    one = OneOp("LAYER_NORM", {"epsilon": float(10.0 ** rng.uniform(-6, -2)), "gamma": gamma, "beta": beta})
    # Some rows nearly constant: the variance (and epsilon) then dominate.
    x = act_data(rng, (rows, depth))
    if seed % 3 == 0:
        x = (x // 64).astype(np.int8)
    one.input(x, act_quant(rng))
    oq = QuantParams(np.float32(rng.uniform(0.01, 0.05)), int(rng.integers(-20, 20)))
    call, expected = one.finish(oq)
    status, y = mf.run(call, [x], expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
