"""BATCH_MATMUL kernel (attention, issue 11): mf_batch_matmul_s8 bit-exact against ref_int, on
random shapes around the 4- and 8-wide edges of the row multiplies, with adj_x/adj_y, broadcast
batch axes, lower ranks and asymmetric zero points on both operands."""

from __future__ import annotations

import ctypes as C

import numpy as np
import pytest
from mfnn import MF_ARG_ERROR, MF_NO_SCRATCH, MF_OK, Context, Kernels, dims, params_struct, s8
from oneop import OneOp, act_data, act_quant, cases

from mcuforge import runtime_buffers
from mcuforge.ir.graph import QuantParams
from mcuforge.kernel_params import KernelCall
from mcuforge.kernels import SPECS
from mcuforge.kernels.matmul import BATCH_MATMUL_PARAMS, batch_matmul_s8

EDGES = (1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17)


def _shapes(rng: np.random.Generator, seed: int) -> tuple[tuple[int, ...], tuple[int, ...], bool, bool]:
    m, k, n = (int(rng.choice(EDGES)) for _ in range(3))
    adj_x, adj_y = bool(seed & 1), bool(seed & 2)
    rank = (2, 3, 4, 4)[seed // 4 % 4]
    batch = [int(rng.integers(1, 4)) for _ in range(rank - 2)]
    batch_a = [d if rng.random() < 0.7 else 1 for d in batch]
    batch_b = [d if (a == 1 or rng.random() < 0.7) else 1 for d, a in zip(batch, batch_a)]
    a = (*batch_a, k, m) if adj_x else (*batch_a, m, k)
    b = (*batch_b, n, k) if adj_y else (*batch_b, k, n)
    if seed % 5 == 0 and len(b) > 2:  # rhs of lower rank, e.g. (K, N) shared by every batch
        b = b[-2:]
    return a, b, adj_x, adj_y


@pytest.mark.parametrize("seed", cases(120))
def test_batch_matmul(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(11000 + seed)
    sa, sb, adj_x, adj_y = _shapes(rng, seed)
    one = OneOp("BATCH_MATMUL", {"adj_x": adj_x, "adj_y": adj_y})
    qa, qb = act_quant(rng), act_quant(rng)
    a, b = act_data(rng, sa), act_data(rng, sb)
    if seed % 9 == 0:  # extreme values and zero points: the largest offset products
        a[...] = -128
        qa = QuantParams(qa.scale, 127)
    one.input(a, qa)
    one.input(b, qb, const=seed % 7 == 0)  # a constant rhs is stored as a const array
    k = sa[-2] if adj_x else sa[-1]
    spread = 127.0 * np.sqrt(k) * qa.scale[0] * qb.scale[0] * 128 * rng.uniform(0.3, 3.0)
    call, expected = one.finish(QuantParams(np.float32(spread), int(rng.integers(-128, 128))))
    assert mf.scratch_size(SPECS[call.kernel], call) == runtime_buffers.scratch_bytes(
        call.kernel, call.dims, call.params)
    status, y = mf.run(call, [a, b], expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y.reshape(expected.shape), expected)


def _attention_call(rng: np.random.Generator) -> tuple[KernelCall, np.ndarray, np.ndarray]:
    one = OneOp("BATCH_MATMUL", {"adj_x": False, "adj_y": True})
    q, kt = act_data(rng, (1, 2, 9, 8)), act_data(rng, (1, 2, 9, 8))
    one.input(q, act_quant(rng))
    one.input(kt, act_quant(rng))
    call, _ = one.finish(QuantParams(np.float32(0.5), 3))
    return call, q, kt


def test_scratch_size_matches_python(mf: Kernels) -> None:
    rng = np.random.default_rng(3)
    for _ in range(40):
        lhs = tuple(int(v) for v in rng.integers(1, 20, size=4))
        rhs = tuple(int(v) for v in rng.integers(1, 20, size=4))
        for adj_x in (0, 1):
            for adj_y in (0, 1):
                got = mf.buffer_size("mf_batch_matmul_s8", lhs, rhs, adj_x, adj_y)
                assert got == batch_matmul_s8(lhs, rhs, adj_x, adj_y)


def test_bad_arguments_are_refused(mf: Kernels) -> None:
    rng = np.random.default_rng(4)
    call, q, kt = _attention_call(rng)
    p, d = call.params, call.dims
    bp = params_struct(BATCH_MATMUL_PARAMS, p)
    size = runtime_buffers.scratch_bytes(call.kernel, d, p)
    buf = np.zeros(size, np.int8)
    y = np.zeros(d["output"], np.int8)

    def call_with(ctx_size: int, rhs_dims: tuple[int, ...]) -> int:
        ctx = Context(buf.ctypes.data_as(C.c_void_p), ctx_size)
        return mf.lib.mf_batch_matmul_s8(C.byref(ctx), C.byref(bp), C.byref(dims(d["lhs"])), s8(q),
                                         C.byref(dims(rhs_dims)), s8(kt), C.byref(dims(d["output"])), s8(y))

    assert call_with(size, d["rhs"]) == MF_OK
    assert call_with(size - 4, d["rhs"]) == MF_NO_SCRATCH
    assert call_with(size, (1, 2, 9, 7)) == MF_ARG_ERROR  # inner dimensions differ
    assert call_with(size, (1, 3, 9, 8)) == MF_ARG_ERROR  # batch 3 vs output batch 2
