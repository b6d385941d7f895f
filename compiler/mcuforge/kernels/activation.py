"""Activations (runtime_c/src/activation/): the 256-entry lookup table that runs every
one-byte-in, one-byte-out op (the `lut` trait of its OpDef), PReLU and softmax."""

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
