"""The core family a compile targets, and the kernel choices that depend on it (speed-m55,
issue 12).

A binding picks its kernel from the layer's shape (kernel_params.py); where a core family runs a
different kernel better, `for_target` swaps it, by the one table `CHOICES`. Every kernel exists
in every runtime build, so a choice is always correct on any core, only slower or larger
elsewhere. The family comes from the board's features (`family_of`): "mve" (Helium: Cortex-M55,
M85), "dsp" (M4, M7, M33), "portable" (M0+, M3). "host" (no board: the host build and tests)
keeps the choices of the bindings themselves. The family is an argument all the way down:
`CompileOptions.kernel_target` (or the board's) -> `lower(..., family)` ->
`kernel_params.kernel_call(ctx, family)`, the one place `for_target` is applied; host tests of
the MVE emulation build pass family "mve" the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from mcuforge.kernels.dsp_i4 import I4_KERNELS, pack_i4

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


def conv1x1_i4_takes(call: Any) -> bool:
    """Whether a 1x1 convolution takes mf_convolve_1x1_i4_s8 (m4pw): more than 8 input channels
    (at 8 and fewer the per-output requantization is the whole cost, and the plain kernel's
    single-row tail measures a little faster: VWW's 8-channel layer, 4.72 against 4.80
    instructions per MAC on a Cortex-M4)."""
    return int(call.dims["input"][3]) > 8


def fc_i4_takes(call: Any) -> bool:
    """Whether a dense layer takes mf_fully_connected_i4_s8 (m4pw): symmetric weights
    (filter_offset 0), four output channels or more (the layout pads to four) and at least 1024
    weights (below that its code outweighs the instructions it saves: KWS's and IC's classifiers
    keep mf_fully_connected_s8, which their other layers link anyway)."""
    p = call.params
    n, k = int(p.get("output_depth", 0)), int(p.get("accum_depth", 0))
    return int(p.get("filter_offset", 0)) == 0 and n >= 4 and n * k >= 1024


def conv3x3_mve_takes(call: Any) -> bool:
    """Twin of mf_convolve3x3_s8's shape condition (mf_mve_conv3_takes): 3x3, dilation 1, stride
    1 with C_in of 16, 32 or 64 or stride 2 with C_in of 16 or 32, C_out % 4 == 0 and
    3 * C_out <= 15 * C_in (the group's staged outputs beside its patch in the scratch), a bias."""
    p, f, x = call.params, call.dims["filter"], call.dims["input"]
    cin, cout, stride = x[3], f[0], tuple(p["stride"])
    return (tuple(f[1:3]) == (3, 3) and tuple(p["dilation"]) == (1, 1) and f[3] == cin
            and ((stride == (1, 1) and cin in (16, 32, 64)) or (stride == (2, 2) and cin in (16, 32)))
            and cout % 4 == 0 and 3 * cout <= 15 * cin and "bias" in call.arrays)


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
    # m4pw (issue 12): DSP cores run 1x1 convolutions and symmetric dense layers with the filter
    # in the i4 layout (FILTER_LAYOUTS: kernels/dsp_i4.py packs it)
    "mf_convolve_1x1_s8": {"dsp": (("mf_convolve_1x1_i4_s8", conv1x1_i4_takes),)},
    "mf_fully_connected_s8": {"dsp": (("mf_fully_connected_i4_s8", fc_i4_takes),)},
    # speed-m55: ResNet-8's 3x3 convolutions, three pixels by two channels per assembly pass
    "mf_convolve_s8": {"mve": (("mf_convolve3x3_s8", conv3x3_mve_takes),)},
}

# chosen kernel -> its filter argument from the layer's (n, ...) int8 weights, where the kernel
# takes them in a layout of its own (kernel_params.kernel_call applies it when it chooses one)
FILTER_LAYOUTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    kernel: pack_i4 for kernel in I4_KERNELS  # m4pw
}


def family_of(features: Mapping[str, Any]) -> str:
    """A board's core family from its board.json "features" ({"dsp": bool, "mve": bool})."""
    if features.get("mve"):
        return "mve"
    return "dsp" if features.get("dsp") else "portable"


def for_target(kernel: str, call: Any, family: str) -> str:
    """The kernel core `family` (one of FAMILIES) runs where a binding picked `kernel` for `call`
    (a KernelCall: its dims, params and arrays; None meets only unconditional choices).
    ValueError for an unknown family."""
    if family not in FAMILIES:
        raise ValueError(f"unknown core family {family!r}: one of {', '.join(FAMILIES)}")
    for other, when in CHOICES.get(kernel, {}).get(family, ()):
        if when is None or (call is not None and when(call)):
            return other
    return kernel
