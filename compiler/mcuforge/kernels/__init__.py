"""Kernel specs: one per mf_nn kernel family (C name, argument order, parameter structs with C
types, scratch rule, in-place rule, variants and when each applies). Importing this package
imports every module in it, as mcuforge.ops does: a new family is a new file calling `family`.
The modules mirror the folders of runtime_c/src/.

Converting a kernel bound the old way (a BINDINGS function, a hand-written macro in
templates/kernels.c.j2, a prototype in mf_nn.h, a ctypes struct and caller in
tests/runtime/mfnn.py), in minutes:
  1. In the family's module here (or a new one), write its parameter struct with `struct(NAME,
     LAYOUT)` copying the fields of mf_nn.h in order ("name: ctype", one generated C line per
     text line), and `family(...)` with a `KernelSpec(NAME, ARGS, ...)` whose ARGS follow the
     prototype: Context() for `ctx`, Params for the struct pointer, QUANT, DimsArg("x_dims") for
     call.dims["x"], Input("name", index=k) for data input k, Const for constant arrays of the
     call (optional=True for a nullable bias), Scalar for int32_t arguments, OUTPUT; the scratch
     rule from runtime_buffers (ScratchRule with the get_buffer_size arguments), in_place=True
     if it was in IN_PLACE_KERNELS.
  2. `pytest tests/test_kernel_specs.py`: it names any argument or field that differs from the
     header. Compile a model using the op: kernel_call names any parameter the binding gives
     that no argument takes, or one it misses.
  3. Delete the macro, the ctypes struct class (use mfnn.struct_type("NAME")) and the caller
     (Kernels.invoke calls it), and the kernel's entries in LEGACY_KERNELS / LEGACY_IN_PLACE /
     runtime_buffers.LEGACY_SCRATCH / mfnn.LEGACY_CALLERS if it had them.
"""

import importlib
import pkgutil

from mcuforge.kernels.spec import (
    FAMILIES,
    SPECS,
    STRUCTS,
    KernelSpec,
    check_call,
    kernel_label,
    render_call,
    scratch_bytes,
)

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["FAMILIES", "SPECS", "STRUCTS", "KernelSpec", "check_call", "kernel_label",
           "render_call", "scratch_bytes"]
