"""mf_strided_copy_s8 (tflite-import): the generic N-D strided copy behind STRIDED_SLICE, SPLIT,
TILE, BROADCAST_TO, GATHER and rank-5/6 TRANSPOSE and CONCATENATION, bit-exact against each
op's integer reference on random shapes around the 4- and 8-wide edges, and raw copies with zero
and negative strides against the numpy model of the kernel."""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np
import pytest
from mfnn import MF_ARG_ERROR, MF_OK, CopyParams, Kernels, i32, s8
from oneop import CHANNELS, act_data, act_quant, cases

from mcuforge.codegen.copy_plan import MAX_RANK, Copy, run_copies
from mcuforge.ir.graph import Graph, Op, QuantParams, Tensor
from mcuforge.kernel_params import KernelCall, kernel_call
from mcuforge.ops.registry import Ctx, infer_shapes
from mcuforge.reference.interpreter import run


def random_shape(rng: np.random.Generator, rank: int) -> tuple[int, ...]:
    return tuple(int(rng.choice(CHANNELS)) if i == rank - 1 else int(rng.integers(1, 6)) for i in range(rank))


def one_op(kind: str, attrs: dict[str, Any], xs: list[np.ndarray], q: QuantParams,
           outputs: int = 1) -> tuple[KernelCall, list[np.ndarray]]:
    """A graph of one op over int8 inputs sharing `q`: its kernel call and reference outputs."""
    g = Graph()
    names = []
    for i, x in enumerate(xs):
        g.add_tensor(Tensor(f"in{i}", x.shape, "int8", None, q))
        g.inputs.append(f"in{i}")
        names.append(f"in{i}")
    outs = [f"out{j}" for j in range(outputs)]
    op = Op(kind, "op", names, outs, attrs)
    for name, shape in zip(outs, infer_shapes(op, [x.shape for x in xs]), strict=True):
        g.add_tensor(Tensor(name, shape, "int8", None, q))
    g.add_op(op)
    g.outputs = outs
    expected = run(g, dict(zip(names, xs, strict=True)))
    return kernel_call(Ctx.of(g, op)), [expected[o] for o in outs]


def check(mf: Kernels, call: KernelCall, xs: list[np.ndarray], expected: list[np.ndarray]) -> None:
    assert call.kernel == "mf_strided_copy_s8"
    assert all(c["rank"] <= MAX_RANK for c in call.params["copies"])
    status, ys = mf.strided_copy(call, xs, [e.shape for e in expected])
    assert status == MF_OK
    for y, e in zip(ys, expected, strict=True):
        np.testing.assert_array_equal(y, e)


def _slice_axis(rng: np.random.Generator, d: int) -> tuple[int, int, int]:
    step = int(rng.choice([1, 1, 2, 3, -1, -2]))
    begin = int(rng.integers(0, d))
    room = begin // -step + 1 if step < 0 else (d - 1 - begin) // step + 1
    return begin, int(rng.integers(1, room + 1)), step


@pytest.mark.parametrize("seed", cases(30))
def test_strided_slice(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(31000 + seed)
    shape = random_shape(rng, int(rng.integers(1, 6)))
    begin, size, step = zip(*(_slice_axis(rng, d) for d in shape), strict=True)
    x = act_data(rng, shape)
    call, expected = one_op("STRIDED_SLICE", {"begin": begin, "size": size, "step": step, "shape": size},
                            [x], act_quant(rng))
    check(mf, call, [x], expected)


@pytest.mark.parametrize("seed", cases(30))
def test_split(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(32000 + seed)
    shape = random_shape(rng, int(rng.integers(1, 6)))
    axis = int(rng.integers(0, len(shape)))
    cuts = sorted(int(c) for c in rng.integers(0, shape[axis] + 1, size=int(rng.integers(0, 3))))
    sizes = tuple(int(s) for s in np.diff([0, *cuts, shape[axis]]))
    x = act_data(rng, shape)
    call, expected = one_op("SPLIT", {"axis": axis, "sizes": sizes}, [x], act_quant(rng), len(sizes))
    check(mf, call, [x], expected)


@pytest.mark.parametrize("seed", cases(30))
def test_tile_and_broadcast(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(33000 + seed)
    shape = random_shape(rng, int(rng.integers(1, 5)))
    x = act_data(rng, shape)
    reps = tuple(int(rng.integers(1, 4)) for _ in shape)
    check(mf, *_with_x(one_op("TILE", {"multiples": reps}, [x], act_quant(rng)), x))
    small = tuple(1 if rng.random() < 0.5 else d for d in shape)
    y = act_data(rng, small)
    target = (int(rng.integers(1, 3)), *shape) if rng.random() < 0.5 else shape
    check(mf, *_with_x(one_op("BROADCAST_TO", {"shape": target}, [y], act_quant(rng)), y))


def _with_x(result: tuple[KernelCall, list[np.ndarray]], x: np.ndarray) -> tuple[KernelCall, list, list]:
    call, expected = result
    return call, [x], expected


@pytest.mark.parametrize("seed", cases(30))
def test_gather(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(34000 + seed)
    shape = random_shape(rng, int(rng.integers(1, 5)))
    axis = int(rng.integers(0, len(shape)))
    idx_shape = [(), (int(rng.integers(1, 7)),), (2, 3)][int(rng.integers(0, 3))]
    indices = rng.integers(0, shape[axis], size=idx_shape).tolist()
    x = act_data(rng, shape)
    call, expected = one_op("GATHER", {"axis": axis, "indices": indices}, [x], act_quant(rng))
    check(mf, call, [x], expected)


@pytest.mark.parametrize("seed", cases(30))
def test_rank5_and_6_transpose_and_concat(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(35000 + seed)
    rank = int(rng.integers(5, 7))
    shape = random_shape(rng, rank)
    x = act_data(rng, shape)
    perm = tuple(int(p) for p in rng.permutation(rank))
    check(mf, *_with_x(one_op("TRANSPOSE", {"perm": perm}, [x], act_quant(rng)), x))
    axis = int(rng.integers(0, rank))
    other = list(shape)
    other[axis] = int(rng.integers(1, 5))
    y = act_data(rng, tuple(other))
    call, expected = one_op("CONCATENATION", {"axis": axis, "activation": "NONE"}, [x, y], act_quant(rng))
    check(mf, call, [x, y], expected)


@pytest.mark.parametrize("seed", cases(40))
def test_raw_copies_with_zero_and_negative_strides(mf: Kernels, seed: int) -> None:
    """Any strides (the kernel does not merge axes itself): reads checked by the numpy model."""
    rng = np.random.default_rng(36000 + seed)
    rank = int(rng.integers(1, MAX_RANK + 1))
    shape = tuple(int(rng.integers(1, 4)) if k < rank - 1 else int(rng.choice(CHANNELS)) for k in range(rank))
    in_stride = tuple(int(rng.choice([0, 1, 2, -1, -3, 5])) for _ in shape)
    lo = sum(min(0, (d - 1) * s) for d, s in zip(shape, in_stride, strict=True))
    hi = sum(max(0, (d - 1) * s) for d, s in zip(shape, in_stride, strict=True))
    x = act_data(rng, (hi - lo + 1,))
    out_stride = tuple(int(s) for s in reversed(np.cumprod([1, *reversed(shape[1:])])))
    copy = Copy(0, 0, -lo, 0, shape, in_stride, out_stride)
    expected = run_copies([copy], [x], [int(np.prod(shape))])[0]
    status, ys = mf.strided_copy(KernelCall("mf_strided_copy_s8", {"copies": [copy.params()]}), [x],
                                 [(int(np.prod(shape)),)])
    assert status == MF_OK
    np.testing.assert_array_equal(ys[0], expected)


def test_bad_rank_is_refused(mf: Kernels) -> None:
    x, y = np.zeros(4, np.int8), np.zeros(4, np.int8)
    for rank in (0, MAX_RANK + 1):
        p = CopyParams(rank, (i32 * 8)(*[1] * 8), (i32 * 8)(*[1] * 8), (i32 * 8)(*[1] * 8))
        assert mf.lib.mf_strided_copy_s8(ctypes.byref(p), s8(x), s8(y)) == MF_ARG_ERROR
