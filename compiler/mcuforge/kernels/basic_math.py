"""Broadcasting binary arithmetic (runtime_c/src/basic_math/): add, sub, mul, and (elementwise-ops)
maximum, minimum, div. Each may run in place when an input has the output's dims."""

from __future__ import annotations

from mcuforge.kernels.common import OUTPUT, OUTPUT_DIMS
from mcuforge.kernels.spec import DimsArg, Input, KernelSpec, Params, family, struct

ADD_PARAMS = struct("mf_add_params", """
    input1_offset: int32_t, input2_offset: int32_t
    output_offset: int32_t, left_shift: int32_t
    input1_multiplier: int32_t, input1_shift: int32_t
    input2_multiplier: int32_t, input2_shift: int32_t
    output_multiplier: int32_t, output_shift: int32_t
    activation: mf_activation
""")
MUL_PARAMS = struct("mf_mul_params", """
    input1_offset: int32_t, input2_offset: int32_t
    output_offset: int32_t, output_multiplier: int32_t
    output_shift: int32_t, activation: mf_activation
""")


def _binary(name: str, params: Params | None, when: str) -> KernelSpec:
    head = (params,) if params is not None else ()
    return KernelSpec(name, (*head, DimsArg("input1_dims"), Input("input1"), DimsArg("input2_dims"),
                             Input("input2", index=1), OUTPUT_DIMS, OUTPUT),
                      family="basic_math", when=when, in_place=True)


BASIC_MATH = family(
    "basic_math", "basic_math",
    _binary("mf_elementwise_add_s8", Params("add_params", "const mf_add_params *", ADD_PARAMS), "ADD"),
    _binary("mf_elementwise_sub_s8", Params("sub_params", "const mf_add_params *", ADD_PARAMS), "SUB"),
    _binary("mf_elementwise_mul_s8", Params("mul_params", "const mf_mul_params *", MUL_PARAMS), "MUL"),
)

# elementwise-ops: max/min compare codes of one shared quantization (no parameters); div is
# TFLite Micro's int8 Div with mul's parameters (multiplier of s1 / (s2 * so)).
ELEMENTWISE_MATH = family(
    "elementwise_math", "basic_math",
    _binary("mf_elementwise_maximum_s8", None, "MAXIMUM"),
    _binary("mf_elementwise_minimum_s8", None, "MINIMUM"),
    _binary("mf_elementwise_div_s8", Params("div_params", "const mf_mul_params *", MUL_PARAMS), "DIV"),
)
