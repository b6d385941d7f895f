"""ADD, SUB, MUL (with broadcasting), PRELU and SOFTMAX kernels, bit-exact against ref_int."""

from __future__ import annotations

import ctypes as C

import numpy as np
import pytest
from mfnn import MF_OK, Activation, AddParams, Kernels, dims, s8
from oneop import ACTIVATIONS, CHANNELS, OneOp, act_data, act_quant, cases

from mcuforge.ir.graph import QuantParams


def broadcast_pair(rng: np.random.Generator, seed: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Shapes of a and b: equal, one side broadcast per axis, or b of lower rank."""
    full = (int(rng.integers(1, 3)), int(rng.integers(1, 7)), int(rng.integers(1, 7)),
            int(rng.choice(CHANNELS)))
    mode = seed % 4
    if mode == 0:
        return full, full
    if mode == 1:  # per-channel vector, as a bias-like add or a scale
        return full, (full[3],) if rng.random() < 0.5 else (1, 1, 1, full[3])
    a = tuple(d if rng.random() < 0.5 else 1 for d in full)
    b = tuple(d if (ai == 1 or rng.random() < 0.5) else 1 for d, ai in zip(full, a))
    if mode == 3:
        a, b = b, a
    return a, b


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("seed", cases(100))
def test_binary(mf: Kernels, kind: str, seed: int) -> None:
    rng = np.random.default_rng(6000 + seed)
    sa, sb = broadcast_pair(rng, seed)
    one = OneOp(kind, {"activation": str(rng.choice(ACTIVATIONS))})
    qa, qb = act_quant(rng), act_quant(rng)
    if seed % 7 == 0:  # equal input scales: the add's tie cases are most frequent there
        qb = QuantParams(qa.scale, qb.zero_point)
    a, b = act_data(rng, sa), act_data(rng, sb)
    one.input(a, qa)
    one.input(b, qb)
    if kind == "MUL":
        out_scale = qa.scale[0] * qb.scale[0] * 128 * rng.uniform(0.1, 1.5)
    else:
        out_scale = max(qa.scale[0], qb.scale[0]) * rng.uniform(0.5, 2.5)
    call, expected = one.finish(QuantParams(np.float32(out_scale), int(rng.integers(-128, 128))))
    status, y = mf.binary(call, a.reshape(call.dims["input1"]), b.reshape(call.dims["input2"]))
    assert status == MF_OK
    np.testing.assert_array_equal(y.reshape(expected.shape), expected)


@pytest.mark.parametrize("seed", cases(40))
def test_prelu(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(7000 + seed)
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 7)), int(rng.integers(1, 7)),
             int(rng.choice(CHANNELS)))
    alpha_shape = [(shape[3],), (1, 1, 1, shape[3]), (1, 1, shape[2], shape[3]), (1,)][seed % 4]
    one = OneOp("PRELU", {})
    qx = act_quant(rng)
    qa = QuantParams(np.float32(rng.uniform(0.001, 0.01)), int(rng.integers(-20, 20)))
    x, alpha = act_data(rng, shape), act_data(rng, alpha_shape)
    one.input(x, qx)
    one.input(alpha, qa, const=True)
    call, expected = one.finish(QuantParams(np.float32(qx.scale[0] * rng.uniform(0.5, 2)),
                                            int(rng.integers(-128, 128))))
    status, y = mf.prelu(call, x, alpha.reshape(call.dims["alpha"]))
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(100))
def test_softmax(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(8000 + seed)
    depth = int(rng.choice((*CHANNELS, 10, 12, 31, 32, 33, 100)))
    shape = (int(rng.integers(1, 4)), depth) if seed % 2 else (1, int(rng.integers(1, 4)), 2, depth)
    one = OneOp("SOFTMAX", {"beta": float(rng.choice((1.0, 1.0, 0.5, 2.0)))})
    q = QuantParams(np.float32(rng.uniform(0.01, 0.3)), int(rng.integers(-128, 128)))
    x = act_data(rng, shape)
    if seed % 5 == 0:  # many equal maxima and values far below them
        x = np.where(rng.random(shape) < 0.5, 127, -128).astype(np.int8)
    one.input(x, q)
    call, expected = one.finish(QuantParams(np.float32(1 / 256), -128))
    status, y = mf.softmax(call, x)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


def test_add_in_place(mf: Kernels) -> None:
    """The header allows ADD to write over an input that has the output's shape."""
    rng = np.random.default_rng(5)
    one = OneOp("ADD", {"activation": "NONE"})
    a, b = act_data(rng, (1, 3, 5, 7)), act_data(rng, (7,))
    one.input(a, act_quant(rng))
    one.input(b, act_quant(rng))
    call, expected = one.finish(act_quant(rng))
    buf = a.copy()
    status = mf.lib.mf_elementwise_add_s8(
        C.byref(AddParams(*(call.params[f[0]] for f in AddParams._fields_[:-1]),
                          Activation(call.params["act_min"], call.params["act_max"]))),
        C.byref(dims(call.dims["input1"])), s8(buf), C.byref(dims(call.dims["input2"])), s8(b),
        C.byref(dims(call.dims["output"])), s8(buf))
    assert status == MF_OK
    np.testing.assert_array_equal(buf, expected)
