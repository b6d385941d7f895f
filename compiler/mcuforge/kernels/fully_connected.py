"""Fully connected layers (runtime_c/src/fully_connected/), one C function per weight format.

Variants of FULLY_CONNECTED, chosen at compile time by `fc_kernel`: mf_fully_connected_s8 for
int8 weights, _s4 / _cb4 / _sparse_s8 / _b1 for the op's `weight_encoding` (int4, 4-bit codebook,
bitmap + nonzero values, sign bits). No variant needs scratch (their *_get_buffer_size return 0).
"""

from __future__ import annotations

from collections.abc import Callable

from mcuforge.kernels.common import BIAS, CTX, OUTPUT, QUANT
from mcuforge.kernels.convolution import (
    ENCODED_SUFFIX,
    FILTER_CB4,
    FILTER_I4,
    FILTER_S4,
    FILTER_S8,
    FILTER_SPARSE,
)
from mcuforge.kernels.spec import (
    CallLike,
    Const,
    ConstStruct,
    Input,
    KernelSpec,
    Params,
    Scalar,
    family,
    no_scratch,
    struct,
)

FC_PARAMS = struct("mf_fc_params", """
    input_offset: int32_t, filter_offset: int32_t
    output_offset: int32_t, per_channel: int32_t, activation: mf_activation
""")

SCRATCH_ARGS = (("accum_depth", "int32_t", "params.accum_depth"),
                ("output_depth", "int32_t", "params.output_depth"))


def fc_kernel(encoding: str | None) -> str:
    return "mf_fully_connected_" + (ENCODED_SUFFIX[encoding] if encoding else "s8")


def fc_path(call: CallLike) -> str:
    """mf_fully_connected_s8 with asymmetric weights adds filter_offset * sum(x) per row."""
    return "asymmetric" if call.params["filter_offset"] else ""


def _fc(name: str, filter_arg: ConstStruct | Const, when: str,
        path: Callable[[CallLike], str] | None = None) -> KernelSpec:
    return KernelSpec(
        name,
        (CTX, Params("fc_params", "const mf_fc_params *", FC_PARAMS), QUANT, Scalar("batches"),
         Scalar("accum_depth"), Scalar("output_depth"), Input("input"), filter_arg, BIAS, OUTPUT),
        family="fully_connected", when=when, scratch=no_scratch(SCRATCH_ARGS), path=path)


FULLY_CONNECTED = family(
    "fully_connected", "fully_connected",
    _fc("mf_fully_connected_s8", FILTER_S8, "int8 weights", fc_path),
    # m4pw (issue 12): chosen for DSP targets by mcuforge.kernels.target (filter: dsp_i4.pack_i4)
    _fc("mf_fully_connected_i4_s8", FILTER_I4, "DSP targets: symmetric int8 weights in the i4 layout"),
    _fc("mf_fully_connected_s4", FILTER_S4, "weight_encoding int4"),
    _fc("mf_fully_connected_cb4", FILTER_CB4, "weight_encoding cb4"),
    _fc("mf_fully_connected_sparse_s8", FILTER_SPARSE, "weight_encoding sparse"),
    # 1-bit weights (issue 16)
    _fc("mf_fully_connected_b1", FILTER_S4, "weight_encoding b1 (offset term folded into the bias)"),
)
