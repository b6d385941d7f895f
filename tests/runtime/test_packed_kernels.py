"""4-bit weight kernels (mf_convolve_s4/cb4, mf_fully_connected_s4/cb4), bit-exact against the
integer reference on the unpacked weights, and the packings against their numpy inverses.

Sizes sweep odd and even row lengths so rows start mid-byte, and codebooks per layer and per
output channel.
"""

from __future__ import annotations

import ctypes as C

import numpy as np
import pytest
from mfnn import MF_ARG_ERROR, MF_OK, Kernels, s8
from oneop import ACTIVATIONS, CHANNELS, OneOp, act_data, act_quant, bias, cases, out_quant_for
from packedop import conv_call, conv_geometry, fc_call, u8, u8p

from mcuforge.ir.graph import QuantParams
from mcuforge.kernel_params import KernelCall
from mcuforge.ops import packed_weights as pw


class Cb4Filter(C.Structure):
    _fields_ = [("indices", u8p), ("codebook", C.POINTER(C.c_int8)), ("per_channel", C.c_int32)]


def filter_arg(call: KernelCall) -> tuple[object, Cb4Filter | None]:
    """The kernel's filter argument: packed bytes, or an mf_cb4_filter by reference."""
    packed = call.arrays["filter"]
    if call.kernel.endswith("_s4"):
        return u8(packed), None
    f = Cb4Filter(u8(packed), s8(call.arrays["codebook"]), call.params["codebook_per_channel"])
    return C.byref(f), f


def weights4(rng: np.random.Generator, shape: tuple[int, ...], enc: str,
             per_channel_book: bool) -> tuple[np.ndarray, QuantParams, dict]:
    """Weights a 4-bit encoding can hold, their per-channel scales and the op attributes."""
    scales = rng.uniform(0.001, 0.02, size=shape[0]).astype(np.float32)
    wq = QuantParams(scales, np.zeros(shape[0], dtype=np.int64), axis=0)
    if enc == "int4":
        w = rng.integers(-8, 8, size=shape, dtype=np.int8)
        return w, wq, {"weight_encoding": "int4"}
    rows = shape[0] if per_channel_book else 1
    book = np.sort(rng.integers(-127, 128, size=(rows, pw.CODEBOOK_SIZE)), axis=1).astype(np.int8)
    idx = rng.integers(0, pw.CODEBOOK_SIZE, size=(shape[0], int(np.prod(shape[1:]))))
    w = np.take_along_axis(np.broadcast_to(book, (shape[0], pw.CODEBOOK_SIZE)), idx, axis=1)
    attrs = {"weight_encoding": "cb4", "codebook": book if per_channel_book else book[0]}
    return w.astype(np.int8).reshape(shape), wq, attrs


@pytest.mark.parametrize("count", [0, 1, 2, 7, 8, 33])
def test_int4_packing_round_trips(count: int) -> None:
    w = np.random.default_rng(count).integers(-8, 8, size=count, dtype=np.int8)
    packed = pw.pack_int4(w)
    assert packed.size == (count + 1) // 2
    np.testing.assert_array_equal(pw.unpack_int4(packed, (count,)), w)


def test_int4_packing_is_low_nibble_first() -> None:
    np.testing.assert_array_equal(pw.pack_int4(np.array([1, -1, -8], dtype=np.int8)), [0xF1, 0x08])
    with pytest.raises(ValueError, match=r"\[-8, 7\]"):
        pw.pack_int4(np.array([8], dtype=np.int8))


@pytest.mark.parametrize("per_channel", [False, True])
def test_codebook_packing_round_trips(per_channel: bool) -> None:
    rng = np.random.default_rng(5)
    w, _, attrs = weights4(rng, (5, 3, 3, 3), "cb4", per_channel)
    packed, book = pw.packed_filter(w, attrs)
    assert book is not None
    np.testing.assert_array_equal(pw.unpack_cb4(packed, book, w.shape), w)
    with pytest.raises(ValueError, match="not an entry"):
        pw.pack_cb4(w, np.zeros(16, dtype=np.int8))


@pytest.mark.parametrize("seed", cases(80))
def test_convolve_4bit(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(7000 + seed)
    enc = ("int4", "cb4")[seed % 2]
    g = conv_geometry(rng)
    n, h, w, k, pads, strides = g["n"], g["h"], g["w"], g["k"], g["pads"], g["strides"]
    cin, cout = int(rng.choice(CHANNELS)), int(rng.choice(CHANNELS))
    wt, wq, attrs = weights4(rng, (cout, *k, cin), enc, seed % 4 == 1)
    one = OneOp("CONV_2D", {"strides": strides, "dilations": (1, 1), "pads": pads,
                            "activation": str(rng.choice(ACTIVATIONS)), **attrs})
    xq = act_quant(rng)
    x = act_data(rng, (n, h, w, cin))
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), 8 * float(wq.scale.mean()),
                                              k[0] * k[1] * cin))
    assert call.kernel == ("mf_convolve_s4" if enc == "int4" else "mf_convolve_cb4")
    assert call.arrays["filter"].size == (wt.size + 1) // 2
    farg, _keep = filter_arg(call)
    status, y = conv_call(mf, call, x, farg)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("seed", cases(80))
def test_fully_connected_4bit(mf: Kernels, seed: int) -> None:
    rng = np.random.default_rng(8000 + seed)
    enc = ("int4", "cb4")[seed % 2]
    batch = int(rng.integers(1, 4))
    depth = int(rng.choice((*CHANNELS, 31, 32, 33, 64)))
    units = int(rng.choice(CHANNELS))
    wt, wq, attrs = weights4(rng, (units, depth), enc, seed % 4 == 1)
    one = OneOp("FULLY_CONNECTED", {"activation": str(rng.choice(ACTIVATIONS)), **attrs})
    xq = act_quant(rng)
    x = act_data(rng, (batch, depth))
    one.input(x, xq)
    one.input(wt, wq, const=True)
    if rng.random() < 0.8:
        one.input(*bias(rng, float(xq.scale[0]), wq.scale), const=True)
    call, expected = one.finish(out_quant_for(rng, float(xq.scale[0]), 8 * float(wq.scale.mean()), depth))
    assert call.kernel == ("mf_fully_connected_s4" if enc == "int4" else "mf_fully_connected_cb4")
    farg, _keep = filter_arg(call)
    status, y, fp, args = fc_call(mf, call, x, farg, expected.shape)
    assert status == MF_OK
    np.testing.assert_array_equal(y, expected)
    fp.filter_offset = 1  # 4-bit weights are symmetric
    assert mf.lib[call.kernel](*args) == MF_ARG_ERROR


def test_kernel_params_rejects_weights_outside_the_codebook() -> None:
    rng = np.random.default_rng(1)
    wt, wq, attrs = weights4(rng, (3, 5), "cb4", False)
    wt[0, 0] = 127 if 127 not in attrs["codebook"] else -128
    one = OneOp("FULLY_CONNECTED", {"activation": "NONE", **attrs})
    one.input(act_data(rng, (1, 5)), act_quant(rng))
    one.input(wt, wq, const=True)
    with pytest.raises(ValueError, match="not an entry of its codebook"):
        one.finish(act_quant(rng))
