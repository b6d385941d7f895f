"""Table-lookup ops (LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU, CLAMP, requantizing QUANTIZE), PAD,
CONCATENATION and TRANSPOSE kernels, bit-exact against ref_int."""

from __future__ import annotations

import math

import numpy as np
import pytest
from mfnn import MF_OK, Kernels, s8
from oneop import CHANNELS, OneOp, act_data, act_quant, cases

from mcuforge.ir.graph import QuantParams
from mcuforge.kernel_params import dims4

FIXED_OUT = {"LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0)}
LUT_ATTRS = {
    "LEAKY_RELU": lambda rng: {"alpha": float(rng.choice((0.01, 0.1, 0.2, 0.3)))},
    "CLAMP": lambda rng: [{"min": 0.0, "max": 6.0}, {"min": 0.0, "max": math.inf},
                          {"min": -1.0, "max": 1.0}][int(rng.integers(0, 3))],
}


def random_shape(rng: np.random.Generator) -> tuple[int, ...]:
    rank = int(rng.integers(1, 5))
    return tuple(int(rng.choice(CHANNELS)) if i == rank - 1 else int(rng.integers(1, 6))
                 for i in range(rank))


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU", "CLAMP", "QUANTIZE"])
@pytest.mark.parametrize("seed", cases(15))
def test_lut(mf: Kernels, kind: str, seed: int) -> None:
    rng = np.random.default_rng(9000 + seed)
    shape = random_shape(rng)
    one = OneOp(kind, LUT_ATTRS[kind](rng) if kind in LUT_ATTRS else {})
    q = act_quant(rng)
    x = act_data(rng, shape)
    if seed == 0:  # every int8 value once
        x = np.arange(-128, 128, dtype=np.int8).reshape(1, 16, 16)
    one.input(x, q)
    if kind in FIXED_OUT:
        oq = QuantParams(np.float32(FIXED_OUT[kind][0]), FIXED_OUT[kind][1])
    elif kind == "CLAMP" and one.attrs["max"] == 6.0 and seed % 2:
        oq = QuantParams(q.scale, q.zero_point)  # TFLite's Relu6 keeps the quantization
    else:
        oq = QuantParams(np.float32(q.scale[0] * rng.uniform(0.3, 3)), int(rng.integers(-128, 128)))
    call, expected = one.finish(oq)
    assert call.kernel == "mf_lut_s8"
    status, y = mf.lut(call, x)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


def test_lut_in_place(mf: Kernels) -> None:
    rng = np.random.default_rng(1)
    one = OneOp("LOGISTIC", {})
    x = act_data(rng, (3, 17))
    one.input(x, act_quant(rng))
    call, expected = one.finish(QuantParams(np.float32(1 / 256), -128))
    buf = x.copy()  # the same pointer as input and output
    assert mf.lib.mf_lut_s8(s8(call.arrays["table"]), buf.size, s8(buf), s8(buf)) == MF_OK
    np.testing.assert_array_equal(buf, expected)


@pytest.mark.parametrize("seed", cases(30))
def test_pad(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(10000 + seed)
    shape = random_shape(rng)
    pads = tuple((int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in shape)
    value = 0.0 if seed % 3 else float(rng.uniform(-2, 2))
    one = OneOp("PAD", {"pads": pads, "value": value})
    q = act_quant(rng)
    x = act_data(rng, shape)
    one.input(x, q)
    call, expected = one.finish(QuantParams(q.scale, q.zero_point))
    status, y = mf.pad(call, x, dims4(expected.shape))
    assert status == MF_OK
    np.testing.assert_array_equal(y.reshape(expected.shape), expected)


@pytest.mark.parametrize("seed", cases(30))
def test_concat(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(11000 + seed)
    base = random_shape(rng)
    axis = int(rng.integers(-len(base), len(base)))
    q = act_quant(rng)
    one = OneOp("CONCATENATION", {"axis": axis, "activation": "NONE"})
    xs = []
    for _ in range(int(rng.integers(1, 5))):
        shape = list(base)
        shape[axis] = int(rng.choice(CHANNELS))
        xs.append(act_data(rng, tuple(shape)))
        one.input(xs[-1], QuantParams(q.scale, q.zero_point))
    call, expected = one.finish(QuantParams(q.scale, q.zero_point))
    status, y = mf.concat(call, xs, dims4(expected.shape))
    assert status == MF_OK
    np.testing.assert_array_equal(y.reshape(expected.shape), expected)


@pytest.mark.parametrize("seed", cases(30))
def test_transpose(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(12000 + seed)
    shape = random_shape(rng)
    perm = tuple(int(p) for p in rng.permutation(len(shape)))
    one = OneOp("TRANSPOSE", {"perm": perm})
    q = act_quant(rng)
    x = act_data(rng, shape)
    one.input(x, q)
    call, expected = one.finish(QuantParams(q.scale, q.zero_point))
    status, y = mf.transpose(call, x, dims4(expected.shape))
    assert status == MF_OK
    np.testing.assert_array_equal(y.reshape(expected.shape), expected)
