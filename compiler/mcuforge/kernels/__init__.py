"""Kernel specs: one per mf_nn kernel family (C name, argument order, parameter structs with C
types, scratch rule, in-place rule, variants and when each applies). Importing this package
imports every module in it, as mcuforge.ops does: a new family is a new file calling `family`.
The modules mirror the folders of runtime_c/src/."""

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
