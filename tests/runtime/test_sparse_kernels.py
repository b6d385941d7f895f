"""Sparse int8 weight kernels (mf_convolve_sparse_s8, mf_fully_connected_sparse_s8), bit-exact
against the integer reference on the dense weights, and the bitmap packing against its numpy
inverse. Row lengths sweep around the 8-wide mask bytes; sparsities run from none to all-zero
rows."""

from __future__ import annotations

import ctypes as C

import numpy as np
import pytest
from mfnn import MF_ARG_ERROR, MF_NO_SCRATCH, MF_OK, Kernels, s8
from oneop import ACTIVATIONS, CHANNELS, OneOp, act_data, act_quant, bias, cases, out_quant_for
from packedop import conv_call, conv_geometry, fc_call

from mcuforge.ir.graph import QuantParams
from mcuforge.kernel_params import KernelCall
from mcuforge.ops import packed_weights as pw

SPARSITIES = (0.0, 0.5, 0.7, 0.9, 0.97, 1.0)


class SparseFilter(C.Structure):
    _fields_ = [("mask", C.POINTER(C.c_uint8)), ("values", C.POINTER(C.c_int8))]


def filter_arg(call: KernelCall) -> SparseFilter:
    mask, values = call.arrays["mask"], call.arrays["filter"]
    assert mask.dtype == np.uint8 and values.dtype == np.int8
    keep = values if values.size else np.zeros(1, np.int8)  # a valid pointer for an all-zero filter
    call.arrays["_values"] = keep
    return SparseFilter(mask.ctypes.data_as(C.POINTER(C.c_uint8)), s8(keep))


def sparse_weights(rng: np.random.Generator, shape: tuple[int, ...], sparsity: float,
                   per_channel: bool = True) -> tuple[np.ndarray, QuantParams]:
    w = rng.integers(-127, 128, size=shape, dtype=np.int8)
    w[rng.random(shape) < sparsity] = 0
    if shape[0] > 2:
        w[1] = 0  # an all-zero output channel
    n = shape[0] if per_channel else 1
    scales = rng.uniform(0.001, 0.02, size=n).astype(np.float32)
    axis = 0 if per_channel else None
    return w, QuantParams(scales if per_channel else scales[0], np.zeros(n, dtype=np.int64)
                          if per_channel else 0, axis=axis)


@pytest.mark.parametrize("k", [1, 7, 8, 9, 16, 17])
def test_sparse_packing_round_trips(k: int) -> None:
    rng = np.random.default_rng(k)
    w = rng.integers(-3, 4, size=(5, k)).astype(np.int8)
    mask, values = pw.pack_sparse(w)
    assert mask.size == 5 * ((k + 7) // 8) and values.size == np.count_nonzero(w)
    assert pw.sparse_bytes(w) == mask.size + values.size
    np.testing.assert_array_equal(pw.unpack_sparse(mask, values, w.shape), w)


def test_sparse_packing_is_least_significant_bit_first() -> None:
    w = np.array([[0, 5, 0, 0, 0, 0, 0, 0, -2], [0] * 9], dtype=np.int8)
    mask, values = pw.pack_sparse(w)
    np.testing.assert_array_equal(mask, [0x02, 0x01, 0x00, 0x00])
    np.testing.assert_array_equal(values, [5, -2])
    with pytest.raises(ValueError, match="marks 2 nonzero"):
        pw.unpack_sparse(mask, values[:1], w.shape)


@pytest.mark.parametrize("seed", cases(60))
def test_convolve_sparse(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(9000 + seed)
    dil = (1, 1) if seed % 3 else (2, 1)
    g = conv_geometry(rng, dilations=dil)
    n, h, w, k, pads, strides = g["n"], g["h"], g["w"], g["k"], g["pads"], g["strides"]
    cin, cout = int(rng.choice(CHANNELS)), int(rng.choice(CHANNELS))
    wt, wq = sparse_weights(rng, (cout, *k, cin), SPARSITIES[seed % len(SPARSITIES)])
    one = OneOp("CONV_2D", {"strides": strides, "dilations": dil, "pads": pads,
                            "activation": str(rng.choice(ACTIVATIONS)), "weight_encoding": "sparse"})
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, cin))
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), 60 * float(wq.scale.mean()),
                                              k[0] * k[1] * cin))
    assert call.kernel == "mf_convolve_sparse_s8"
    assert call.arrays["mask"].size + call.arrays["filter"].size == pw.sparse_bytes(wt)
    f = filter_arg(call)
    status, y = conv_call(mf, call, x, C.byref(f))
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
    assert conv_call(mf, call, x, C.byref(f), scratch_delta=-1)[0] == MF_NO_SCRATCH


@pytest.mark.parametrize("seed", cases(60))
def test_fully_connected_sparse(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(9500 + seed)
    batch = int(rng.integers(1, 4))
    depth = int(rng.choice((*CHANNELS, 31, 32, 33, 64)))
    units = int(rng.choice(CHANNELS))
    wt, wq = sparse_weights(rng, (units, depth), SPARSITIES[seed % len(SPARSITIES)], seed % 5 != 0)
    one = OneOp("FULLY_CONNECTED", {"activation": str(rng.choice(ACTIVATIONS)),
                                    "weight_encoding": "sparse"})
    xq = act_quant(rng)
    x = act_data(rng, (batch, depth))
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias(rng, float(xq.scale[0]), np.broadcast_to(wq.scale, (units,))), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), 60 * float(np.mean(wq.scale)), depth))
    assert call.kernel == "mf_fully_connected_sparse_s8"
    f = filter_arg(call)
    status, y, fp, args = fc_call(mf, call, x, C.byref(f), expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
    fp.filter_offset = 1  # sparse weights are symmetric
    assert mf.lib[call.kernel](*args) == MF_ARG_ERROR
