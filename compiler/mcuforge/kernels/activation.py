"""Activations (runtime_c/src/activation/): the 256-entry lookup table that runs every
one-byte-in, one-byte-out op (the ops with the `lut` trait), PReLU, softmax and (elementwise-ops)
the row normalizations log-softmax and L2 normalization."""

from __future__ import annotations

from mcuforge.kernels.common import INPUT_DIMS, OUTPUT
from mcuforge.kernels.spec import Const, DimsArg, Input, KernelSpec, Params, Scalar, family, struct

PRELU_PARAMS = struct("mf_prelu_params", """
    input_offset: int32_t, alpha_offset: int32_t
    output_offset: int32_t
    identity_multiplier: int32_t, identity_shift: int32_t
    alpha_multiplier: int32_t, alpha_shift: int32_t
    activation: mf_activation
""")
SOFTMAX_PARAMS = struct("mf_softmax_params", """
    input_multiplier: int32_t, input_left_shift: int32_t
    diff_min: int32_t
""")

LUT = family(
    "lut", "activation",
    KernelSpec("mf_lut_s8", (Const("table", "const int8_t *", role="table"), Scalar("size"),
                             Input("input"), OUTPUT),
               family="lut", when="any int8 -> int8 op of one value", in_place=True),
)

PRELU = family(
    "prelu", "activation",
    KernelSpec("mf_prelu_s8", (Params("prelu_params", "const mf_prelu_params *", PRELU_PARAMS),
                               INPUT_DIMS, Input("input"), DimsArg("alpha_dims"),
                               Input("alpha", index=1), OUTPUT),
               family="prelu", when="PRELU"),
)

SOFTMAX = family(
    "softmax", "activation",
    KernelSpec("mf_softmax_s8", (Params("softmax_params", "const mf_softmax_params *", SOFTMAX_PARAMS),
                                 Scalar("rows"), Scalar("depth"), Input("input"), OUTPUT),
               family="softmax", when="SOFTMAX over the last axis"),
)

# -- elementwise-ops: row normalizations over the last axis ------------------------------------

L2_NORM_PARAMS = struct("mf_l2_norm_params", "input_offset: int32_t")
LOG_SOFTMAX_PARAMS = struct("mf_log_softmax_params", """
    input_multiplier: int32_t, input_left_shift: int32_t
    reverse_multiplier: int32_t, reverse_shift: int32_t
    diff_min: int32_t
""")

L2_NORMALIZATION = family(
    "l2_normalization", "activation",
    KernelSpec("mf_l2_normalization_s8", (Params("l2_params", "const mf_l2_norm_params *", L2_NORM_PARAMS),
                                          Scalar("rows"), Scalar("depth"), Input("input"), OUTPUT),
               family="l2_normalization", when="L2_NORMALIZATION over the last axis"),
)

LOG_SOFTMAX = family(
    "log_softmax", "activation",
    KernelSpec("mf_log_softmax_s8", (Params("log_softmax_params", "const mf_log_softmax_params *",
                                            LOG_SOFTMAX_PARAMS),
                                     Scalar("rows"), Scalar("depth"), Input("input"), OUTPUT),
               family="log_softmax", when="LOG_SOFTMAX over the last axis"),
)
