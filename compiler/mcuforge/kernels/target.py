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

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

FAMILIES = ("host", "portable", "dsp", "mve")


def dw3x3_mve_takes(call: Any) -> bool:
    """Twin of mf_depthwise_conv3x3_s8's shape condition (mf_depthwise_conv3_mve16_takes): 3x3,
    channel multiplier 1, dilation 1, C % 8 == 0 and 32 <= C <= 128, input width >= 2, at most
    one padded column left, the last window's right column at most one past the image."""
    p, f, x, y = call.params, call.dims["filter"], call.dims["input"], call.dims["output"]
    c, in_w, ow = x[3], x[2], y[2]
    sw, pw = p["stride"][1], p["padding"][1]
    return (tuple(f[1:3]) == (3, 3) and p["ch_mult"] == 1 and tuple(p["dilation"]) == (1, 1)
            and c % 8 == 0 and 32 <= c <= 128 and in_w >= 2 and pw <= 1
            and (ow - 1) * sw - pw <= in_w - 2 and "bias" in call.arrays)


def dw_rows_dsp_takes(call: Any) -> bool:
    """m4dw (issue 12): where a DSP core runs mf_depthwise_conv_rows_s8 rather than the
    mf_depthwise_conv_s8 a binding picked (3x3, multiplier 1, C % 4 == 0, narrow rows): output
    rows of at least 4 pixels (measured on the Cortex-M4: VWW's 12x12 -> 6x6 stride-2 layer
    6.54 -> 5.44 instructions per MAC; rows of 3 stay faster on mf_depthwise_conv_s8)."""
    return call.dims["output"][2] >= 4


Choice = tuple[str, Callable[[Any], bool] | None]  # kernel, and the calls it takes (None: all)

# kernel a binding picks -> {core family: the first choice whose condition the call meets}
CHOICES: dict[str, dict[str, tuple[Choice, ...]]] = {
    # MVE builds of the rows kernel hand over to mf_depthwise_conv_s8's Helium paths, which take
    # every shape without scratch: calling them directly drops the rows kernel's scratch (the
    # int16 row ring and widened weights); mf_depthwise_conv3x3_s8 (eight channels per vector)
    # where the shape allows, which links none of mf_depthwise_conv_s8's other paths.
    "mf_depthwise_conv_rows_s8": {"mve": (("mf_depthwise_conv3x3_s8", dw3x3_mve_takes),
                                          ("mf_depthwise_conv_s8", None))},
    "mf_depthwise_conv_s8": {"mve": (("mf_depthwise_conv3x3_s8", dw3x3_mve_takes),),
                             # m4dw: DSP cores take the rows kernel for output rows of 4 and more
                             "dsp": (("mf_depthwise_conv_rows_s8", dw_rows_dsp_takes),)},
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


def for_target(kernel: str, call: Any = None, family: str | None = None) -> str:
    """The kernel `family` (default: the current target) runs where a binding picked `kernel`
    for `call` (a KernelCall: its dims, params and arrays; None meets only unconditional
    choices)."""
    for other, when in CHOICES.get(kernel, {}).get(family or current_target(), ()):
        if when is None or (call is not None and when(call)):
            return other
    return kernel
