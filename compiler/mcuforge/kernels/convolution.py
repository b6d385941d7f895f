"""Convolutions (runtime_c/src/convolution/): the general and 1x1 int8 kernels, the packed
weight formats (int4, 4-bit codebook, sparse) and depthwise convolution.

Variants of CONV_2D, chosen at compile time by `conv_kernel`:
  - mf_convolve_1x1_s8: 1x1 filter, stride 1, no padding (a matrix multiply, no im2col);
  - mf_convolve_1x1_one_s8: the same to one output channel (a head: one dot product per pixel);
  - mf_convolve_s8: any other int8 convolution;
  - mf_convolve_s4 / mf_convolve_cb4 / mf_convolve_sparse_s8 / mf_convolve_b1: weights stored
    as int4, 4-bit codebook indices, bitmap + nonzero values or sign bits (`weight_encoding`);
  - mf_convolve_grouped_s8: filter depth below the input depth (TFLite's grouped CONV_2D), int8
    weights only.
DEPTHWISE_CONV_2D has one function whose code path follows from the call's values
(`depthwise_path`, shown in report.json). TRANSPOSE_CONV has one function,
mf_transpose_conv_s8 (family "transpose_conv").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcuforge.kernels.common import (
    BIAS,
    CTX,
    FILTER_DIMS,
    INPUT_DIMS,
    OUTPUT,
    OUTPUT_DIMS,
    QUANT,
)
from mcuforge.kernels.spec import (
    WINDOW_SCRATCH_ARGS,
    CallLike,
    Const,
    ConstStruct,
    Dims,
    Input,
    KernelSpec,
    Params,
    ScratchRule,
    family,
    struct,
    window_scratch,
)

INT16_BYTES = 2

CONV_PARAMS = struct("mf_conv_params", """
    input_offset: int32_t, output_offset: int32_t
    stride: mf_tile, padding: mf_tile
    dilation: mf_tile, activation: mf_activation
""")
DW_CONV_PARAMS = struct("mf_dw_conv_params", """
    input_offset: int32_t, output_offset: int32_t
    ch_mult: int32_t, stride: mf_tile
    padding: mf_tile, dilation: mf_tile
    activation: mf_activation
""")
CB4_FILTER = struct("mf_cb4_filter",
                    "indices: const uint8_t *, codebook: const int8_t *, per_channel: int32_t")
SPARSE_FILTER = struct("mf_sparse_filter", "mask: const uint8_t *, values: const int8_t *")

# The filter argument of each weight format.
FILTER_S8 = Const("filter", "const int8_t *", role="filter", operand=1)
FILTER_S4 = Const("packed_filter", "const uint8_t *", role="filter")
FILTER_CB4 = ConstStruct("filter", "const mf_cb4_filter *", CB4_FILTER, "filter",
                         ("array:filter", "array:codebook", "param:codebook_per_channel"))
FILTER_I4 = Const("filter", "const int32_t *", role="filter")  # m4pw: dsp_i4.pack_i4(weights)
FILTER_SPARSE = ConstStruct("filter", "const mf_sparse_filter *", SPARSE_FILTER, "filter",
                            ("array:mask", "array:filter"))


# -- scratch rules, the twins of the C *_get_buffer_size ------------------------------------------


def convolve_s8(input_dims: Dims, filter_dims: Dims) -> int:
    """Two im2col patches of KH * KW * C_in int16 values (two output pixels per pass), and when
    C_in % 4 != 0 the two int8 patches they are widened from; each padded to a whole quad
    (m4first, issue 12)."""
    length = (filter_dims[1] * filter_dims[2] * input_dims[3] + 3) & ~3
    return 2 * length * INT16_BYTES + (2 * length if input_dims[3] % 4 else 0)


def convolve_s4(input_dims: Dims, filter_dims: Dims) -> int:
    """One im2col patch of KH * KW * C_in int16 values (input offset already added); the same
    for mf_convolve_cb4 and mf_convolve_sparse_s8."""
    return filter_dims[1] * filter_dims[2] * input_dims[3] * INT16_BYTES


convolve_cb4 = convolve_s4
convolve_sparse_s8 = convolve_s4


def convolve_b1(input_dims: Dims, filter_dims: Dims) -> int:
    """1-bit weights (issue 16): one patch of KH * KW * C_in unsigned bytes (x + 128)."""
    return filter_dims[1] * filter_dims[2] * input_dims[3]


def convolve_1x1_s8(input_dims: Dims, filter_dims: Dims) -> int:
    """Two pixel rows of C_in int16 values (the DSP path widens them there)."""
    return 2 * input_dims[3] * INT16_BYTES


def convolve_1x1_i4_s8(input_dims: Dims, filter_dims: Dims) -> int:
    """Two pixel rows of C_in rounded up to 4 int16 values (m4pw: mf_nn_i4_scratch_bytes)."""
    return 2 * (-(-input_dims[3] // 4) * 4) * INT16_BYTES


def dw_rows_taken(input_dims: Dims, filter_dims: Dims, output_dims: Dims, stride_w: int,
                  dilation_w: int) -> bool:
    """Whether DEPTHWISE_CONV_2D takes mf_depthwise_conv_rows_s8 (the binding's choice, kept on
    the host and portable cores): always, except for 3x3 layers of channel multiplier 1,
    C % 4 == 0, dilation 1 along x, with output rows narrower than 4, or narrower than 12 at a
    stride along x above 1 (measured on a Cortex-M4 before its rows kernel's DSP redesign; DSP
    cores now also take the rows kernel for stride-2 rows of 4-11 outputs: kernels/target.py)."""
    c = input_dims[3]
    m1_3x3 = (c > 0 and output_dims[3] == c and tuple(filter_dims[1:3]) == (3, 3) and dilation_w == 1
              and c % 4 == 0)
    ow = output_dims[2]
    return c > 0 and not (m1_3x3 and (ow < 4 or (stride_w != 1 and ow < 12)))


def depthwise_conv_s8(input_dims: Dims, filter_dims: Dims) -> int:
    return 0


def depthwise_conv_rows_s8(input_dims: Dims, filter_dims: Dims, output_dims: Dims, stride_h: int,
                           stride_w: int, dilation_h: int, dilation_w: int) -> int:
    """Twin of mf_depthwise_conv_rows_s8_get_buffer_size (speed-m4, issue 12): for up to four
    channels at a time (n output channels), a pass of t output rows (one for rows of 13 outputs
    and more, else about 32 outputs per channel, at most 8 rows; m4dw) reads a ring of r input
    rows, each padded to the columns the windows reach (plus one, even) in int16; plus the
    ring's row numbers and the pass's row offsets (int32), four int32 of requantization and the
    widened weights (KW rounded up to even) per output channel, and the pass's int32 sums."""
    c, kh, kw = input_dims[3], filter_dims[1], filter_dims[2]
    if c < 1 or stride_h < 1 or dilation_h < 1:
        return 0
    groups = min(c, 4)
    n = groups * (output_dims[3] // c)
    cols = ((output_dims[2] - 1) * stride_w + (kw - 1) * dilation_w + 1 + 2) & ~1
    kw2 = (kw + 1) & ~1
    ow = max(output_dims[2], 1)
    t = min(max(output_dims[1], 1), 1 if ow > 12 else min(max(-(-32 // ow), 1), 8))
    r = (t - 1) * stride_h + (kh - 1) * dilation_h + 1
    return (4 * r + 4 * t * kh + 16 * n + INT16_BYTES * n * kh * kw2 + INT16_BYTES * groups * r * cols
            + 4 * n * t * output_dims[2])


DEPTHWISE_SCRATCH = ScratchRule((*WINDOW_SCRATCH_ARGS, ("output_dims", "const mf_dims *", "dims.output"),
                                 ("stride_h", "int32_t", "params.stride[0]"),
                                 ("stride_w", "int32_t", "params.stride[1]"),
                                 ("dilation_h", "int32_t", "params.dilation[0]"),
                                 ("dilation_w", "int32_t", "params.dilation[1]")),
                                depthwise_conv_rows_s8)


def convolve_grouped_s8(input_dims: Dims, filter_dims: Dims) -> int:
    """None: a direct loop, each output value computed once."""
    return 0


# -- variants -------------------------------------------------------------------------------------

ENCODED_SUFFIX = {"int4": "s4", "cb4": "cb4", "sparse": "sparse_s8",
                  "b1": "b1"}  # 1-bit weights (issue 16)


def conv_kernel(filter_shape: tuple[int, ...], strides: tuple[int, int],
                pads: tuple[int, int, int, int], encoding: str | None,
                input_depth: int | None = None) -> str:
    """The CONV_2D variant: grouped when the filter depth (OHWI's I) is below `input_depth`,
    else by weight format, then 1x1/stride 1/no padding or general."""
    if input_depth is not None and input_depth != filter_shape[3]:
        if encoding:
            raise ValueError(f"no grouped convolution kernel takes {encoding} weights")
        return "mf_convolve_grouped_s8"
    if encoding:
        return "mf_convolve_" + ENCODED_SUFFIX[encoding]
    pointwise = tuple(filter_shape[1:3]) == (1, 1) and tuple(strides) == (1, 1) and not any(pads)
    if pointwise and filter_shape[0] == 1:  # speed-m4 (issue 12): one output channel
        return "mf_convolve_1x1_one_s8"
    return "mf_convolve_1x1_s8" if pointwise else "mf_convolve_s8"


def depthwise_path(call: CallLike) -> str:
    """The path mf_depthwise_conv_s8 takes: interior 3x3 windows row by row (channel
    multiplier 1, dilation 1 along x, C % 4 == 0), per-pixel tap lists (other multiplier-1
    calls), or the plain loop (channel multiplier > 1)."""
    p, f, x = call.params, call.dims["filter"], call.dims["input"]
    if p["ch_mult"] != 1:
        return "channel multiplier"
    if f[1] == 3 and f[2] == 3 and p["dilation"][1] == 1 and x[3] % 4 == 0:
        return "3x3"
    return "taps"


def _conv(name: str, filter_arg: ConstStruct | Const, scratch: Callable[[Dims, Dims], int],
          when: str) -> KernelSpec:
    return KernelSpec(
        name,
        (CTX, Params("conv_params", "const mf_conv_params *", CONV_PARAMS), QUANT, INPUT_DIMS,
         Input("input"), FILTER_DIMS, filter_arg, BIAS, OUTPUT_DIMS, OUTPUT),
        family="convolution", when=when, scratch=window_scratch(scratch))


CONVOLUTION = family(
    "convolution", "convolution",
    _conv("mf_convolve_s8", FILTER_S8, convolve_s8, "int8 weights, any window, stride, dilation, padding"),
    _conv("mf_convolve_1x1_s8", FILTER_S8, convolve_1x1_s8,
          "int8 weights, 1x1 filter, stride 1, no padding"),
    # speed-m4 (issue 12)
    _conv("mf_convolve_1x1_one_s8", FILTER_S8, convolve_1x1_s8,
          "int8 weights, 1x1 filter, stride 1, no padding, one output channel"),
    # m4pw (issue 12): chosen for DSP targets by mcuforge.kernels.target (filter: dsp_i4.pack_i4)
    _conv("mf_convolve_1x1_i4_s8", FILTER_I4, convolve_1x1_i4_s8,
          "DSP targets: int8 weights in the i4 layout, 1x1 filter, stride 1, no padding"),
    _conv("mf_convolve_s4", FILTER_S4, convolve_s4, "weight_encoding int4"),
    _conv("mf_convolve_cb4", FILTER_CB4, convolve_cb4, "weight_encoding cb4"),
    _conv("mf_convolve_sparse_s8", FILTER_SPARSE, convolve_sparse_s8, "weight_encoding sparse"),
    # 1-bit weights (issue 16)
    _conv("mf_convolve_b1", FILTER_S4, convolve_b1, "weight_encoding b1"),
    _conv("mf_convolve_grouped_s8", FILTER_S8, convolve_grouped_s8,
          "int8 weights, filter depth below the input depth (groups)"),
    # speed-m55 (issue 12): chosen for MVE targets by mcuforge.kernels.target
    _conv("mf_convolve3x3_s8", FILTER_S8, convolve_s8,
          "MVE targets: 3x3, stride 1 (C_in 16, 32, 64) or 2 (C_in 16, 32), C_out % 4 == 0"),
)

DEPTHWISE = family(
    "depthwise_conv", "convolution",
    KernelSpec(
        "mf_depthwise_conv_s8",
        (CTX, Params("dw_conv_params", "const mf_dw_conv_params *", DW_CONV_PARAMS), QUANT,
         INPUT_DIMS, Input("input"), FILTER_DIMS, FILTER_S8, BIAS, OUTPUT_DIMS, OUTPUT),
        family="depthwise_conv", when="int8 weights, any channel multiplier",
        scratch=window_scratch(depthwise_conv_s8), path=depthwise_path),
    # speed-m4 (issue 12): picked per layer where dw_rows_taken
    KernelSpec(
        "mf_depthwise_conv_rows_s8",
        (CTX, Params("dw_conv_params", "const mf_dw_conv_params *", DW_CONV_PARAMS), QUANT,
         INPUT_DIMS, Input("input"), FILTER_DIMS, FILTER_S8, BIAS, OUTPUT_DIMS, OUTPUT),
        family="depthwise_conv", when="int8 weights, any channel multiplier, where dw_rows_taken",
        scratch=DEPTHWISE_SCRATCH),
    # speed-m55 (issue 12): chosen for MVE targets by mcuforge.kernels.target
    KernelSpec(
        "mf_depthwise_conv3x3_s8",
        (CTX, Params("dw_conv_params", "const mf_dw_conv_params *", DW_CONV_PARAMS), QUANT,
         INPUT_DIMS, Input("input"), FILTER_DIMS, FILTER_S8, BIAS, OUTPUT_DIMS, OUTPUT),
        family="depthwise_conv", when="MVE targets: 3x3, multiplier 1, 32 <= C <= 128, C % 8 == 0",
        scratch=window_scratch(depthwise_conv_s8)),
)

def transpose_taps(kernel: int, stride: int) -> list[int]:
    """Taps of each stride phase p (the kernel positions p, p + stride, ...): how many."""
    return [len(range(p, kernel, stride)) for p in range(stride)]


def transpose_phases(w: np.ndarray, strides: tuple[int, int]) -> np.ndarray:
    """mf_transpose_conv_s8's filter layout: OHWI weights regrouped by stride phase. An output
    pixel whose padded coordinates are (py, px) modulo the strides is reached by the kernel
    positions (py + j * sh, px + i * sw) only; for each phase, in row-major order over (py, px),
    one block (C_out, those rows j, those columns i, C_in), so each output channel's taps for the
    pixel are one row. Within a row, every full quad of weights is stored in the order
    (0, 2, 1, 3), which SXTB16 turns into the pairs (0, 1) and (2, 3) that SMLAD multiplies with
    two int16 patch values each; the tail stays in order. A permutation of the OHWI weights."""
    sh, sw = strides
    blocks = []
    for py in range(sh):
        for px in range(sw):
            rows = w[:, py::sh, px::sw, :].reshape(w.shape[0], -1)
            quads = rows.shape[1] // 4 * 4
            swapped = rows.copy()
            swapped[:, :quads] = rows[:, :quads].reshape(rows.shape[0], -1, 4)[:, :, [0, 2, 1, 3]].reshape(
                rows.shape[0], quads)
            blocks.append(swapped.reshape(-1))
    return np.concatenate(blocks).astype(np.int8)


def transpose_conv_s8(input_dims: Dims, filter_dims: Dims, stride_h: int, stride_w: int) -> int:
    """One int16 patch (input offset added) of the taps that reach an output pixel: at most
    ceil(KH / stride_h) * ceil(KW / stride_w) * C_in values."""
    return -(-filter_dims[1] // stride_h) * -(-filter_dims[2] // stride_w) * input_dims[3] * INT16_BYTES


FILTER_PHASES = Const("filter", "const int8_t *", role="filter")  # transpose_phases(OHWI weights)

TRANSPOSE_CONV = family(
    "transpose_conv", "convolution",
    KernelSpec(
        "mf_transpose_conv_s8",
        (CTX, Params("conv_params", "const mf_conv_params *", CONV_PARAMS), QUANT, INPUT_DIMS,
         Input("input"), FILTER_DIMS, FILTER_PHASES, BIAS, OUTPUT_DIMS, OUTPUT),
        family="transpose_conv", when="TRANSPOSE_CONV, int8 weights, dilation 1",
        scratch=ScratchRule((*WINDOW_SCRATCH_ARGS, ("stride_h", "int32_t", "params.stride[0]"),
                             ("stride_w", "int32_t", "params.stride[1]")), transpose_conv_s8)),
)
