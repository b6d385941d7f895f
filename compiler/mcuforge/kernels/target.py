"""The core family a compile targets, and the kernel choices that depend on it (speed-m55,
issue 12).

A binding picks its kernel from the layer's shape (kernel_params.py); where a core family runs a
different kernel better, `for_target` swaps it, by the one table `CHOICES`. Every kernel exists
in every runtime build, so a choice is always correct on any core, only slower or larger
elsewhere. The family comes from the board's features (`family_of`): "mve" (Helium: Cortex-M55,
M85), "dsp" (M4, M7, M33), "portable" (M0+, M3). "host" (no board: the host build and tests)
keeps the choices of the bindings themselves. A compile sets it with `kernel_target(family)`
around lowering; host tests built with -DMF_EMULATE_MVE select the M55 choices the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

FAMILIES = ("host", "portable", "dsp", "mve")

# kernel a binding picks -> {core family: the kernel that family runs instead}
CHOICES: dict[str, dict[str, str]] = {
    # MVE builds of the rows kernel hand over to mf_depthwise_conv_s8's Helium paths, which take
    # every shape without scratch: calling them directly drops the rows kernel's scratch (the
    # int16 row ring and widened weights) and its code from M55 images.
    "mf_depthwise_conv_rows_s8": {"mve": "mf_depthwise_conv_s8"},
}

_TARGET: ContextVar[str] = ContextVar("mcuforge_kernel_target", default="host")


def family_of(features: Mapping[str, Any]) -> str:
    """A board's core family from its board.json "features" ({"dsp": bool, "mve": bool})."""
    if features.get("mve"):
        return "mve"
    return "dsp" if features.get("dsp") else "portable"


def current_target() -> str:
    """The core family kernels are being chosen for ("host" outside `kernel_target`)."""
    return _TARGET.get()


@contextmanager
def kernel_target(family: str) -> Iterator[None]:
    """Choose kernels for `family` (one of FAMILIES) inside the block."""
    if family not in FAMILIES:
        raise ValueError(f"unknown core family {family!r}: one of {', '.join(FAMILIES)}")
    token = _TARGET.set(family)
    try:
        yield
    finally:
        _TARGET.reset(token)


def for_target(kernel: str, family: str | None = None) -> str:
    """The kernel `family` (default: the current target) runs where a binding picked `kernel`."""
    return CHOICES.get(kernel, {}).get(family or current_target(), kernel)
