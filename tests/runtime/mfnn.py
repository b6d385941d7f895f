"""ctypes view of runtime_c/include/mf_nn.h: the structs, a builder for the host library, and one
caller per kernel that takes a `KernelCall` (mcuforge.kernel_params) plus numpy arrays."""

from __future__ import annotations

import ctypes as C
import subprocess
from pathlib import Path

import numpy as np

from mcuforge.kernel_params import Dims, KernelCall, dims4

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "runtime_c"
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]

MF_OK, MF_ARG_ERROR, MF_NO_SCRATCH = 0, -1, -2

i32 = C.c_int32
i8p = C.POINTER(C.c_int8)
i32p = C.POINTER(C.c_int32)


# Host builds of the library: the portable C paths, and the DSP paths (the code a Cortex-M4
# runs) with the DSP instructions emulated in C (runtime_c/src/mf_dsp.h).
VARIANTS = {"portable": ["-DMF_PORTABLE"], "dsp": ["-DMF_EMULATE_DSP"]}


def build_library(out_dir: Path, sanitize: bool, variant: str = "portable") -> Path:
    """Compile every runtime_c/src/*.c into one shared object (asserts on) for a VARIANTS key."""
    lib = out_dir / f"libmf_nn_{variant}{'_san' if sanitize else ''}.so"
    flags = [*WARNINGS, "-shared", "-fPIC", "-g", *VARIANTS[variant]]
    flags += ["-O1", *SANITIZE] if sanitize else ["-O2"]
    sources = sorted(str(p) for p in (RUNTIME / "src").glob("*.c"))
    cmd = ["gcc", *flags, f"-I{RUNTIME / 'include'}", *sources, "-o", str(lib)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return lib


class Dims4(C.Structure):
    _fields_ = [("n", i32), ("h", i32), ("w", i32), ("c", i32)]


class Tile(C.Structure):
    _fields_ = [("h", i32), ("w", i32)]


class Activation(C.Structure):
    _fields_ = [("min", i32), ("max", i32)]


class Context(C.Structure):
    _fields_ = [("buf", C.c_void_p), ("size", i32)]


class PerChannelQuant(C.Structure):
    _fields_ = [("multiplier", i32p), ("shift", i32p)]


class ConvParams(C.Structure):
    _fields_ = [("input_offset", i32), ("output_offset", i32), ("stride", Tile), ("padding", Tile),
                ("dilation", Tile), ("activation", Activation)]


class DwConvParams(C.Structure):
    _fields_ = [("input_offset", i32), ("output_offset", i32), ("ch_mult", i32), ("stride", Tile),
                ("padding", Tile), ("dilation", Tile), ("activation", Activation)]


class FcParams(C.Structure):
    _fields_ = [("input_offset", i32), ("filter_offset", i32), ("output_offset", i32),
                ("per_channel", i32), ("activation", Activation)]


class PoolParams(C.Structure):
    _fields_ = [("stride", Tile), ("padding", Tile), ("activation", Activation)]


class MeanParams(C.Structure):
    _fields_ = [("input_offset", i32), ("output_offset", i32), ("multiplier", i32), ("shift", i32),
                ("activation", Activation)]


class AddParams(C.Structure):
    _fields_ = [(name, i32) for name in (
        "input1_offset", "input2_offset", "output_offset", "left_shift", "input1_multiplier",
        "input1_shift", "input2_multiplier", "input2_shift", "output_multiplier", "output_shift",
    )] + [("activation", Activation)]


class MulParams(C.Structure):
    _fields_ = [(name, i32) for name in (
        "input1_offset", "input2_offset", "output_offset", "output_multiplier", "output_shift",
    )] + [("activation", Activation)]


class SoftmaxParams(C.Structure):
    _fields_ = [("input_multiplier", i32), ("input_left_shift", i32), ("diff_min", i32)]


class PreluParams(C.Structure):
    _fields_ = [(name, i32) for name in (
        "input_offset", "alpha_offset", "output_offset", "identity_multiplier", "identity_shift",
        "alpha_multiplier", "alpha_shift",
    )] + [("activation", Activation)]


class PadParams(C.Structure):
    _fields_ = [("before", i32 * 4), ("after", i32 * 4), ("value", C.c_int8)]


# -- argument helpers ----------------------------------------------------------------------------


def dims(d: Dims) -> Dims4:
    return Dims4(*d)


def s8(a: np.ndarray) -> C._Pointer:
    assert a.dtype == np.int8 and a.flags.c_contiguous
    return a.ctypes.data_as(i8p)


def s32(a: np.ndarray | None) -> C._Pointer | None:
    if a is None:
        return None
    assert a.dtype == np.int32 and a.flags.c_contiguous
    return a.ctypes.data_as(i32p)


def activation(p: dict) -> Activation:
    return Activation(p["act_min"], p["act_max"])


def quant(call: KernelCall) -> PerChannelQuant:
    return PerChannelQuant(s32(call.arrays["multiplier"]), s32(call.arrays["shift"]))


def out_array(shape: Dims | tuple[int, ...]) -> np.ndarray:
    # Filled with a sentinel pattern so unwritten cells are caught, not silently zero.
    return np.full(shape, 0x5A, dtype=np.int8)


def _with_scratch(size: int) -> tuple[Context, np.ndarray]:
    buf = np.full(max(size, 1), 0x33, dtype=np.int8)
    return Context(buf.ctypes.data_as(C.c_void_p), size), buf


# -- one caller per kernel -----------------------------------------------------------------------


class LstmParams(C.Structure):  # recurrent area
    _fields_ = [(n, i32) for n in ("batches", "time_steps", "input_size", "hidden_size", "time_major",
                                   "hidden_zp", "tanh_multiplier", "tanh_shift", "cell_clip")]


class LstmWeights(C.Structure):  # recurrent area
    _fields_ = [("input_weights", i8p), ("recurrent_weights", i8p), ("input_bias", i32p),
                ("recurrent_bias", i32p), ("multiplier", i32p), ("shift", i32p),
                ("mul_multiplier", i32p), ("mul_shift", i32p)]


def i32ptr(a: np.ndarray) -> C._Pointer:  # recurrent area
    assert a.dtype == np.int32 and a.flags.c_contiguous
    return a.ctypes.data_as(i32p)


class Kernels:
    """Calls into the host-built library; every method returns (status, output array)."""

    def __init__(self, path: Path) -> None:
        self.lib = C.CDLL(str(path))
        for name in ("mf_convolve_s8_get_buffer_size", "mf_convolve_1x1_s8_get_buffer_size",
                     "mf_depthwise_conv_s8_get_buffer_size"):
            getattr(self.lib, name).argtypes = [C.POINTER(Dims4), C.POINTER(Dims4)]
            getattr(self.lib, name).restype = i32
        for name in ("mf_fully_connected_s8_get_buffer_size", "mf_avgpool_s8_get_buffer_size"):
            getattr(self.lib, name).argtypes = [i32, i32]
            getattr(self.lib, name).restype = i32

    def buffer_size(self, kernel: str, *args: Dims | int) -> int:
        fn = getattr(self.lib, f"{kernel}_get_buffer_size")
        cargs = [C.byref(dims(a)) if isinstance(a, tuple) else a for a in args]
        return int(fn(*cargs))

    def conv(self, call: KernelCall, x: np.ndarray, w: np.ndarray) -> tuple[int, np.ndarray]:
        p, d = call.params, call.dims
        cp = ConvParams(p["input_offset"], p["output_offset"], Tile(*p["stride"]),
                        Tile(*p["padding"]), Tile(*p["dilation"]), activation(p))
        y = out_array(d["output"])
        ctx, _buf = _with_scratch(self.buffer_size(call.kernel, d["input"], d["filter"]))
        status = getattr(self.lib, call.kernel)(
            C.byref(ctx), C.byref(cp), C.byref(quant(call)), C.byref(dims(d["input"])), s8(x),
            C.byref(dims(d["filter"])), s8(w), s32(call.arrays.get("bias")),
            C.byref(dims(d["output"])), s8(y))
        return status, y

    def depthwise(self, call: KernelCall, x: np.ndarray, w: np.ndarray) -> tuple[int, np.ndarray]:
        p, d = call.params, call.dims
        dp = DwConvParams(p["input_offset"], p["output_offset"], p["ch_mult"], Tile(*p["stride"]),
                          Tile(*p["padding"]), Tile(*p["dilation"]), activation(p))
        y = out_array(d["output"])
        ctx, _buf = _with_scratch(self.buffer_size(call.kernel, d["input"], d["filter"]))
        status = self.lib.mf_depthwise_conv_s8(
            C.byref(ctx), C.byref(dp), C.byref(quant(call)), C.byref(dims(d["input"])), s8(x),
            C.byref(dims(d["filter"])), s8(w), s32(call.arrays.get("bias")),
            C.byref(dims(d["output"])), s8(y))
        return status, y

    def fully_connected(self, call: KernelCall, x: np.ndarray, w: np.ndarray,
                        out_shape: tuple[int, ...]) -> tuple[int, np.ndarray]:
        p = call.params
        fp = FcParams(p["input_offset"], p["filter_offset"], p["output_offset"], p["per_channel"],
                      activation(p))
        y = out_array(out_shape)
        ctx, _buf = _with_scratch(self.buffer_size(call.kernel, p["accum_depth"], p["output_depth"]))
        status = self.lib.mf_fully_connected_s8(
            C.byref(ctx), C.byref(fp), C.byref(quant(call)), p["batches"], p["accum_depth"],
            p["output_depth"], s8(x), s8(w), s32(call.arrays.get("bias")), s8(y))
        return status, y

    def pool(self, call: KernelCall, x: np.ndarray) -> tuple[int, np.ndarray]:
        p, d = call.params, call.dims
        pp = PoolParams(Tile(*p["stride"]), Tile(*p["padding"]), activation(p))
        y = out_array(d["output"])
        args = [C.byref(pp), C.byref(dims(d["input"])), s8(x), C.byref(dims(d["filter"])),
                C.byref(dims(d["output"])), s8(y)]
        if call.kernel == "mf_avgpool_s8":
            ctx, _buf = _with_scratch(self.buffer_size(call.kernel, d["output"][2], d["output"][3]))
            args.insert(0, C.byref(ctx))
        return getattr(self.lib, call.kernel)(*args), y

    def mean(self, call: KernelCall, x: np.ndarray) -> tuple[int, np.ndarray]:
        p, d = call.params, call.dims
        mp = MeanParams(p["input_offset"], p["output_offset"], p["multiplier"], p["shift"],
                        activation(p))
        n, _, _, c = d["input"]
        y = out_array((n, 1, 1, c))
        return self.lib.mf_mean_s8(C.byref(mp), C.byref(dims(d["input"])), s8(x), s8(y)), y

    def binary(self, call: KernelCall, a: np.ndarray, b: np.ndarray) -> tuple[int, np.ndarray]:
        p, d = call.params, call.dims
        if call.kernel == "mf_elementwise_mul_s8":
            params: C.Structure = MulParams(*(p[f[0]] for f in MulParams._fields_[:-1]), activation(p))
        else:
            params = AddParams(*(p[f[0]] for f in AddParams._fields_[:-1]), activation(p))
        y = out_array(d["output"])
        status = getattr(self.lib, call.kernel)(
            C.byref(params), C.byref(dims(d["input1"])), s8(a), C.byref(dims(d["input2"])), s8(b),
            C.byref(dims(d["output"])), s8(y))
        return status, y

    def prelu(self, call: KernelCall, x: np.ndarray, alpha: np.ndarray) -> tuple[int, np.ndarray]:
        p, d = call.params, call.dims
        pp = PreluParams(*(p[f[0]] for f in PreluParams._fields_[:-1]), activation(p))
        y = out_array(d["input"])
        status = self.lib.mf_prelu_s8(C.byref(pp), C.byref(dims(d["input"])), s8(x),
                                      C.byref(dims(d["alpha"])), s8(alpha), s8(y))
        return status, y

    def softmax(self, call: KernelCall, x: np.ndarray) -> tuple[int, np.ndarray]:
        p = call.params
        sp = SoftmaxParams(p["input_multiplier"], p["input_left_shift"], p["diff_min"])
        y = out_array(x.shape)
        return self.lib.mf_softmax_s8(C.byref(sp), p["rows"], p["depth"], s8(x), s8(y)), y

    def lut(self, call: KernelCall, x: np.ndarray) -> tuple[int, np.ndarray]:
        y = out_array(x.shape)
        status = self.lib.mf_lut_s8(s8(call.arrays["table"]), call.params["size"], s8(x), s8(y))
        return status, y

    def pad(self, call: KernelCall, x: np.ndarray, out_shape: Dims) -> tuple[int, np.ndarray]:
        p = call.params
        pp = PadParams((i32 * 4)(*p["before"]), (i32 * 4)(*p["after"]), p["value"])
        y = out_array(out_shape)
        return self.lib.mf_pad_s8(C.byref(pp), C.byref(dims(call.dims["input"])), s8(x), s8(y)), y

    def concat(self, call: KernelCall, xs: list[np.ndarray], out_shape: Dims) -> tuple[int, np.ndarray]:
        k = call.params["num_inputs"]
        ptrs = (i8p * k)(*(s8(x) for x in xs))
        ds = (Dims4 * k)(*(dims(call.dims[f"input{i}"]) for i in range(k)))
        y = out_array(out_shape)
        return self.lib.mf_concat_s8(k, ptrs, ds, call.params["axis"], s8(y)), y

    def transpose(self, call: KernelCall, x: np.ndarray, out_shape: Dims) -> tuple[int, np.ndarray]:
        perm = (i32 * 4)(*call.params["perm"])
        y = out_array(out_shape)
        return self.lib.mf_transpose_s8(C.byref(dims(call.dims["input"])), s8(x), perm, s8(y)), y

    # recurrent area
    def lstm(self, call: KernelCall, x: np.ndarray, out_shape: tuple[int, ...],
             scratch: int | None = None) -> tuple[int, np.ndarray]:
        p, a = call.params, call.arrays
        lp = LstmParams(*(p[f] for f, _ in LstmParams._fields_))
        keep = {k: np.ascontiguousarray(v) for k, v in a.items()}
        lw = LstmWeights(s8(keep["input_weights"]), s8(keep["recurrent_weights"]),
                         *(i32ptr(keep[k]) for k in ("input_bias", "recurrent_bias", "multiplier", "shift",
                                                      "mul_multiplier", "mul_shift")))
        size = scratch if scratch is not None else self.lib.mf_lstm_s8_get_buffer_size(
            p["batches"], p["hidden_size"])
        buf = np.zeros(max(size, 1) + 16, np.uint8)
        ctx = Context(buf.ctypes.data, size)
        y = np.zeros(out_shape, np.int8)
        status = self.lib.mf_lstm_s8(C.byref(ctx), C.byref(lp), C.byref(lw), s8(x), s8(y))
        return status, y

    def slice_axis(self, call: KernelCall, x: np.ndarray,
                   out_shape: tuple[int, ...]) -> tuple[int, np.ndarray]:
        p = call.params
        y = np.zeros(out_shape, np.int8)
        status = self.lib.mf_slice_axis_s8(p["outer"], p["axis_len"], p["inner"], p["begin"], p["size"],
                                           s8(x), s8(y))
        return status, y

    def run(self, call: KernelCall, xs: list[np.ndarray],
            out_shape: tuple[int, ...]) -> tuple[int, np.ndarray]:
        """Any op's kernel: xs are the op's input values (constants included), in IR order."""
        k = call.kernel
        x = np.ascontiguousarray(xs[0])
        out4 = dims4(out_shape)
        if k in ("mf_convolve_s8", "mf_convolve_1x1_s8"):
            status, y = self.conv(call, x, np.ascontiguousarray(xs[1]))
        elif k == "mf_depthwise_conv_s8":
            status, y = self.depthwise(call, x, np.ascontiguousarray(xs[1]))
        elif k == "mf_fully_connected_s8":
            status, y = self.fully_connected(call, x, np.ascontiguousarray(xs[1]), out_shape)
        elif k in ("mf_avgpool_s8", "mf_maxpool_s8"):
            status, y = self.pool(call, x)
        elif k == "mf_mean_s8":
            status, y = self.mean(call, x)
        elif k.startswith("mf_elementwise_"):
            a = x.reshape(call.dims["input1"])
            b = np.ascontiguousarray(xs[1]).reshape(call.dims["input2"])
            status, y = self.binary(call, a, b)
        elif k == "mf_prelu_s8":
            status, y = self.prelu(call, x, np.ascontiguousarray(xs[1]).reshape(call.dims["alpha"]))
        elif k == "mf_softmax_s8":
            status, y = self.softmax(call, x)
        elif k == "mf_lut_s8":
            status, y = self.lut(call, x)
        elif k == "mf_pad_s8":
            status, y = self.pad(call, x, out4)
        elif k == "mf_concat_s8":
            status, y = self.concat(call, [np.ascontiguousarray(v) for v in xs if v is not None], out4)
        elif k == "mf_transpose_s8":
            status, y = self.transpose(call, x, out4)
        elif k == "mf_slice_axis_s8":  # recurrent area
            status, y = self.slice_axis(call, x, out_shape)
        else:
            raise KeyError(f"no caller for kernel {k}")
        return status, y.reshape(out_shape)
