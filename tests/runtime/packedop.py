"""Shared ctypes set-up of the packed-weight kernel tests (int4 / cb4: test_packed_kernels.py,
1-bit: test_b1_kernels.py, sparse: test_sparse_kernels.py): a random convolution geometry,
and the calls of a packed convolution (scratch sized and checked against the kernel's own
get_buffer_size) and of a packed fully-connected kernel, given the kernel's filter argument.
Each kernel family only supplies its weights and that filter argument."""

from __future__ import annotations

import ctypes as C

import numpy as np
from mfnn import Context, ConvParams, FcParams, Kernels, Tile, activation, dims, out_array, quant, s8, s32

from mcuforge.kernel_params import KernelCall
from mcuforge.runtime_buffers import scratch_bytes

u8p = C.POINTER(C.c_uint8)


def u8(a: np.ndarray) -> C._Pointer:
    assert a.dtype == np.uint8 and a.flags.c_contiguous
    return a.ctypes.data_as(u8p)


def conv_geometry(rng: np.random.Generator, max_hw: int = 9, dilations: tuple[int, int] = (1, 1)) -> dict:
    """n, h, w, kernel (kh, kw), pads (top, left, bottom, right), strides, dilations: random,
    with enough padding that the (dilated) window always fits."""
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(1, max_hw)), int(rng.integers(1, max_hw))
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    pads = tuple(int(rng.integers(0, k[i % 2])) for i in range(4))
    strides = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    span = (dilations[0] * (k[0] - 1) + 1, dilations[1] * (k[1] - 1) + 1)
    if h + pads[0] + pads[2] < span[0] or w + pads[1] + pads[3] < span[1]:
        pads = (span[0], span[1], span[0], span[1])
    return {"n": n, "h": h, "w": w, "k": k, "pads": pads, "strides": strides, "dilations": dilations}


def conv_call(mf: Kernels, call: KernelCall, x: np.ndarray, farg: object,
              scratch_delta: int = 0) -> tuple[int, np.ndarray]:
    """Run a packed convolution kernel: (status, output). Its scratch is `scratch_bytes` of the
    spec (checked equal to the kernel's get_buffer_size) plus `scratch_delta` bytes."""
    p, d = call.params, call.dims
    cp = ConvParams(p["input_offset"], p["output_offset"], Tile(*p["stride"]), Tile(*p["padding"]),
                    Tile(*p["dilation"]), activation(p))
    size = scratch_bytes(call.kernel, d, p)
    get_size = mf.lib[f"{call.kernel}_get_buffer_size"]
    get_size.restype = C.c_int32
    assert size == get_size(C.byref(dims(d["input"])), C.byref(dims(d["filter"])))
    buf = np.zeros(max(size, 4) // 4 + 1, dtype=np.int32)  # 4-byte aligned, size rounded up
    ctx = Context(buf.ctypes.data_as(C.c_void_p), size + scratch_delta)
    y = out_array(d["output"])
    status = mf.lib[call.kernel](
        C.byref(ctx), C.byref(cp), C.byref(quant(call)), C.byref(dims(d["input"])), s8(x),
        C.byref(dims(d["filter"])), farg, s32(call.arrays.get("bias")), C.byref(dims(d["output"])), s8(y))
    return status, y


def fc_call(mf: Kernels, call: KernelCall, x: np.ndarray, farg: object,
            shape: tuple[int, ...]) -> tuple[int, np.ndarray, FcParams, list]:
    """Run a packed fully-connected kernel: (status, output of `shape`, its params, the call's
    arguments: change the params and call `mf.lib[call.kernel](*args)` again)."""
    p = call.params
    fp = FcParams(p["input_offset"], p["filter_offset"], p["output_offset"], p["per_channel"], activation(p))
    y = out_array(shape)
    args = [None, C.byref(fp), C.byref(quant(call)), p["batches"], p["accum_depth"], p["output_depth"],
            s8(x), farg, s32(call.arrays.get("bias")), s8(y)]
    return mf.lib[call.kernel](*args), y, fp, args
