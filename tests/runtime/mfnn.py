"""ctypes view of runtime_c/include/mf_nn.h, derived from the kernel specs (mcuforge.kernels):
the structs, a builder for the host library, and `Kernels.invoke`, which calls any specified
kernel with a `KernelCall` (mcuforge.kernel_params) and numpy arrays, argument by argument as
the spec lists them (the same order the generated C uses)."""

from __future__ import annotations

import ctypes as C
import subprocess
from pathlib import Path

import numpy as np

from mcuforge.kernel_params import Dims, KernelCall
from mcuforge.kernels import SPECS, STRUCTS, KernelSpec, single_calls
from mcuforge.kernels import spec as ks
from mcuforge.kernels.spec import Struct

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "runtime_c"
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]

MF_OK, MF_ARG_ERROR, MF_NO_SCRATCH = 0, -1, -2

i32 = C.c_int32
i8p = C.POINTER(C.c_int8)
i32p = C.POINTER(C.c_int32)


# Host builds of the library: the portable C paths, and the DSP paths (the code a Cortex-M4
# runs) with the DSP instructions emulated in C (runtime_c/include/mf_dsp.h), and the MVE paths
# (the code a Cortex-M55 runs, DSP paths included) with the Helium intrinsics emulated in C
# (runtime_c/include/mf_mve.h).
VARIANTS = {"portable": ["-DMF_PORTABLE"], "dsp": ["-DMF_EMULATE_DSP"], "mve": ["-DMF_EMULATE_MVE"]}


def build_library(out_dir: Path, sanitize: bool, variant: str = "portable") -> Path:
    """Compile every runtime_c/src/*.c into one shared object (asserts on) for a VARIANTS key."""
    lib = out_dir / f"libmf_nn_{variant}{'_san' if sanitize else ''}.so"
    flags = [*WARNINGS, "-shared", "-fPIC", "-g", *VARIANTS[variant]]
    flags += ["-O1", *SANITIZE] if sanitize else ["-O2"]
    sources = sorted(str(p) for p in (RUNTIME / "src").rglob("*.c"))
    cmd = ["gcc", *flags, f"-I{RUNTIME / 'include'}", *sources, "-o", str(lib)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return lib


# -- structs, generated from the kernel specs (mcuforge.kernels) -----------------------------------

_SCALARS = {"int32_t": C.c_int32, "int8_t": C.c_int8, "uint8_t": C.c_uint8, "int16_t": C.c_int16,
            "int64_t": C.c_int64}
_POINTERS = {"const int8_t *": i8p, "const int32_t *": i32p, "const uint8_t *": C.POINTER(C.c_uint8),
             "void *": C.c_void_p,
             # int16 activations (issue 11)
             "const int16_t *": C.POINTER(C.c_int16), "int16_t *": C.POINTER(C.c_int16),
             "const int64_t *": C.POINTER(C.c_int64), "const void *": C.c_void_p,
             "const uint16_t *": C.POINTER(C.c_uint16),
             # stateful area: int8 state
             "int8_t *": i8p}
STRUCT_TYPES: dict[str, type[C.Structure]] = {}


def ctype(name: str) -> type:
    """The ctypes type of a C type as the specs write it."""
    if name in _SCALARS:
        return _SCALARS[name]
    if name in _POINTERS:
        return _POINTERS[name]
    if name.endswith("]"):
        base, count = name[:-1].split("[")
        return _SCALARS[base] * int(count)
    return struct_type(name)


def struct_type(name: str) -> type[C.Structure]:
    """The ctypes.Structure of an mf_nn struct, fields in the spec's (= the header's) order."""
    if name not in STRUCT_TYPES:
        fields = [(f.name, ctype(f.ctype)) for f in STRUCTS[name].fields]
        STRUCT_TYPES[name] = type(name, (C.Structure,), {"_fields_": fields})
    return STRUCT_TYPES[name]


Dims4 = struct_type("mf_dims")
Tile = struct_type("mf_tile")
Activation = struct_type("mf_activation")
Context = struct_type("mf_context")
PerChannelQuant = struct_type("mf_per_channel_quant_params")
ConvParams = struct_type("mf_conv_params")
DwConvParams = struct_type("mf_dw_conv_params")
FcParams = struct_type("mf_fc_params")
PoolParams = struct_type("mf_pool_params")
MeanParams = struct_type("mf_mean_params")
AddParams = struct_type("mf_add_params")
MulParams = struct_type("mf_mul_params")
SoftmaxParams = struct_type("mf_softmax_params")
PreluParams = struct_type("mf_prelu_params")
PadParams = struct_type("mf_pad_params")
Cb4Filter = struct_type("mf_cb4_filter")
SparseFilter = struct_type("mf_sparse_filter")


def params_struct(struct: Struct, p: dict) -> C.Structure:
    """A parameter struct filled from a call's params, as the generated C fills it."""
    values = []
    for f in struct.fields:
        if f.ctype == "mf_activation":
            values.append(Activation(p["act_min"], p["act_max"]))
        elif f.ctype == "mf_tile":
            values.append(Tile(*p[f.name]))
        elif f.ctype.endswith("]"):  # an array with a length field gives only its first entries
            values.append(ctype(f.ctype)(*p[f.name][:p[f.length]] if f.length else p[f.name]))
        else:
            values.append(p[f.name])
    return struct_type(struct.name)(*values)


CopyParams = struct_type("mf_copy_params")  # tflite-import


# -- argument helpers ----------------------------------------------------------------------------


def dims(d: Dims) -> Dims4:
    return Dims4(*d)


def s8(a: np.ndarray) -> C._Pointer:
    assert a.dtype == np.int8 and a.flags.c_contiguous
    return a.ctypes.data_as(i8p)


def data_pointer(a: np.ndarray) -> C._Pointer | C.c_void_p:
    """An activation array as the C argument: int8 * for int8, void * for int16 and int32 (whose
    kernels take int16_t * / int32_t *; ctypes passes the address either way)."""
    if a.dtype == np.int8:
        return s8(a)
    assert a.dtype in (np.int16, np.int32) and a.flags.c_contiguous, a.dtype
    return C.c_void_p(a.ctypes.data)


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


def _offset(ptr: C._Pointer | C.c_void_p, elements: int) -> C._Pointer:
    """An int8 pointer `elements` past `ptr` (a copy's in_offset / out_offset)."""
    return C.cast(C.cast(ptr, C.c_void_p).value + elements, i8p)  # type: ignore[operator]


def _pointer(a: np.ndarray, ctype_name: str) -> C._Pointer:
    a = np.ascontiguousarray(a)
    want = {"const int8_t *": np.int8, "const uint8_t *": np.uint8, "const int32_t *": np.int32,
            "const int64_t *": np.int64, "const int16_t *": np.int16,
            "const uint16_t *": np.uint16, "int16_t *": np.int16, "int8_t *": np.int8}[ctype_name]
    assert a.dtype == want, f"{a.dtype} for a {ctype_name} argument"
    return a.ctypes.data_as(_POINTERS[ctype_name])


class Kernels:
    """Calls into the host-built library; every method returns (status, output array)."""

    def __init__(self, path: Path) -> None:
        self.lib = C.CDLL(str(path))
        for spec in SPECS.values():
            if spec.scratch is not None:
                fn = getattr(self.lib, f"{spec.name}_get_buffer_size")
                fn.argtypes = [C.POINTER(Dims4) if t == "const mf_dims *" else ctype(t)
                               for _, t, _ in spec.scratch.args]
                fn.restype = i32

    def buffer_size(self, kernel: str, *args: Dims | int) -> int:
        fn = getattr(self.lib, f"{kernel}_get_buffer_size")
        cargs = [C.byref(dims(a)) if isinstance(a, tuple) else a for a in args]
        return int(fn(*cargs))

    def scratch_size(self, spec: KernelSpec, call: KernelCall) -> int:
        """What the C `*_get_buffer_size` says the call needs (0 without one)."""
        if spec.scratch is None:
            return 0
        return self.buffer_size(spec.name, *spec.scratch.values(call.dims, call.params))

    def invoke(self, call: KernelCall, xs: list[np.ndarray | None],
               out_shape: tuple[int, ...], out_dtype: str = "int8",
               state: dict[str, np.ndarray] | None = None) -> tuple[int, np.ndarray]:
        """Any specified kernel: xs are the op's input values (constants included) in IR order;
        each C argument is built from the call as its spec says. `out_dtype`: the output's
        dtype where the C output is `void *` (ARG_MAX's int32/int64 indices). `state`: a
        stateful kernel's persistent buffers by role (contiguous arrays, updated in place)."""
        if out_dtype == "int8":
            y = out_array(out_shape)
        else:  # a sentinel of the dtype's width (int16 outputs; int32/int64 indices)
            y = np.full(out_shape, 0x5A5A if out_dtype == "int16" else 0x5A5A5A5A, dtype=out_dtype)
        return self.invoke_outputs(call, xs, [y], state), y

    def invoke_outputs(self, call: KernelCall, xs: list[np.ndarray | None], ys: list[np.ndarray],
                       state: dict[str, np.ndarray] | None = None) -> int:
        """`invoke` writing into the given outputs (several for SPLIT); every C call the kernel
        call makes (one per copy for an `each` spec), stopping at the first failing status."""
        data = [np.ascontiguousarray(x) for x in xs if x is not None]
        for one in single_calls(call):
            status = self._invoke_one(one, xs, data, ys, state or {})
            if status != MF_OK:
                return status
        return MF_OK

    def _invoke_one(self, call: KernelCall, xs: list[np.ndarray | None], data: list[np.ndarray],
                    ys: list[np.ndarray], state: dict[str, np.ndarray]) -> int:
        spec = SPECS[call.kernel]
        p, d = call.params, call.dims
        y = ys[0]
        keep: list[object] = [ys, data]
        args: list[object] = []
        for a in spec.args:
            if isinstance(a, ks.Context):
                ctx, buf = _with_scratch(self.scratch_size(spec, call))
                keep.append(buf)
                args.append(C.byref(ctx))
            elif isinstance(a, ks.Params):
                args.append(C.byref(params_struct(a.struct, p)))
            elif isinstance(a, ks.ConstStruct):
                values = []
                for f, src in zip(a.struct.fields, a.sources):
                    kind, key = src.split(":")
                    if kind == "array":
                        arr = np.ascontiguousarray(call.arrays[key])
                        keep.append(arr)
                        values.append(_pointer(arr, f.ctype))
                    else:
                        values.append(p[key])
                args.append(C.byref(struct_type(a.struct.name)(*values)))
            elif isinstance(a, ks.DimsArg):
                args.append(C.byref(dims(d[a.role])))
            elif isinstance(a, ks.Input):
                x = data[p[a.select] if a.select else a.index]
                args.append(_offset(data_pointer(x), p[a.offset]) if a.offset else data_pointer(x))
            elif isinstance(a, ks.Output):
                out = ys[p[a.select]] if a.select else y
                ptr = out.ctypes.data_as(C.c_void_p) if a.ctype == "void *" else data_pointer(out)
                args.append(_offset(ptr, p[a.offset]) if a.offset else ptr)
            elif isinstance(a, ks.Const):
                arr = call.arrays.get(a.role)
                if arr is None and a.operand is not None:
                    arr = xs[a.operand]
                if arr is None:
                    assert a.optional, f"{call.kernel}: no {a.role}"
                    args.append(None)
                else:
                    arr = np.ascontiguousarray(arr)
                    keep.append(arr)
                    args.append(_pointer(arr, a.ctype))
            elif isinstance(a, ks.Scalar):
                args.append(i32(p[a.param]))
            elif isinstance(a, ks.ParamArray):
                args.append((i32 * a.length)(*p[a.name]))
            elif isinstance(a, ks.InputList):
                args.append((i8p * len(data))(*(s8(x) for x in data)))
            elif isinstance(a, ks.State):  # stateful area: the caller's persistent buffer
                buf = state.get(a.role)
                assert buf is not None or a.optional, f"{call.kernel}: no {a.role} state"
                assert buf is None or buf.flags.c_contiguous
                args.append(None if buf is None else _pointer(buf, a.ctype))
            elif isinstance(a, ks.DimsList):
                args.append((Dims4 * len(data))(*(dims(d[f"input{i}"]) for i in range(len(data)))))
            else:
                raise TypeError(f"{call.kernel}: no ctypes rule for argument {a}")
        return int(getattr(self.lib, spec.name)(*args))

    # Shorthands the tests use: the kernel's data arguments and the output shape.

    def conv(self, call: KernelCall, x: np.ndarray, w: np.ndarray) -> tuple[int, np.ndarray]:
        return self.invoke(call, [x, w], call.dims["output"])

    def depthwise(self, call: KernelCall, x: np.ndarray, w: np.ndarray) -> tuple[int, np.ndarray]:
        return self.invoke(call, [x, w], call.dims["output"])

    def fully_connected(self, call: KernelCall, x: np.ndarray, w: np.ndarray,
                        out_shape: tuple[int, ...]) -> tuple[int, np.ndarray]:
        return self.invoke(call, [x, w], out_shape)

    def pool(self, call: KernelCall, x: np.ndarray) -> tuple[int, np.ndarray]:
        return self.invoke(call, [x], call.dims["output"])

    def mean(self, call: KernelCall, x: np.ndarray) -> tuple[int, np.ndarray]:
        n, _, _, c = call.dims["input"]
        return self.invoke(call, [x], (n, 1, 1, c))

    def binary(self, call: KernelCall, a: np.ndarray, b: np.ndarray) -> tuple[int, np.ndarray]:
        return self.invoke(call, [a, b], call.dims["output"])

    def prelu(self, call: KernelCall, x: np.ndarray, alpha: np.ndarray) -> tuple[int, np.ndarray]:
        return self.invoke(call, [x, alpha], call.dims["input"])

    def softmax(self, call: KernelCall, x: np.ndarray) -> tuple[int, np.ndarray]:
        return self.invoke(call, [x], x.shape)

    def lut(self, call: KernelCall, x: np.ndarray) -> tuple[int, np.ndarray]:
        return self.invoke(call, [x], x.shape)

    def pad(self, call: KernelCall, x: np.ndarray, out_shape: Dims) -> tuple[int, np.ndarray]:
        return self.invoke(call, [x], out_shape)

    def concat(self, call: KernelCall, xs: list[np.ndarray], out_shape: Dims) -> tuple[int, np.ndarray]:
        return self.invoke(call, list(xs), out_shape)

    def transpose(self, call: KernelCall, x: np.ndarray, out_shape: Dims) -> tuple[int, np.ndarray]:
        return self.invoke(call, [x], out_shape)

    # tflite-import: the generic strided copy (several inputs and outputs)
    def strided_copy(self, call: KernelCall, xs: list[np.ndarray],
                     out_shapes: list[tuple[int, ...]]) -> tuple[int, list[np.ndarray]]:
        ys = [out_array(shape) for shape in out_shapes]
        return self.invoke_outputs(call, list(xs), ys), ys

    def run(self, call: KernelCall, xs: list[np.ndarray],
            out_shape: tuple[int, ...], out_dtype: str = "int8") -> tuple[int, np.ndarray]:
        """Any op's kernel: xs are the op's input values (constants included), in IR order."""
        status, y = self.invoke(call, xs, out_shape, out_dtype)
        return status, y.reshape(out_shape)
