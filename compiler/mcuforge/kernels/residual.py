"""ic area (issue 13): a residual block computed row by row (runtime_c/src/convolution/
mf_residual_rows_s8.c): conv A -> conv B -> add with the block input, one output row at a time,
each piece a call of mf_convolve_s8 on a band of rows or mf_elementwise_add_s8 on one row, the
output written over the input (in place) when the input dies there. Its op, RESIDUAL_ROWS
(ops/residual_rows.py), is made by codegen.residual_rows where it lowers the arena."""

from __future__ import annotations

from mcuforge.kernels.basic_math import ADD_PARAMS
from mcuforge.kernels.common import CTX, INPUT_DIMS, OUTPUT, OUTPUT_DIMS, PER_CHANNEL_QUANT, Quant
from mcuforge.kernels.convolution import convolve_s8
from mcuforge.kernels.spec import Const, Dims, DimsArg, Input, KernelSpec, Params, ScratchRule, family, struct

RESIDUAL_ROWS_PARAMS = struct("mf_residual_rows_params", """
    a_input_offset: int32_t, a_output_offset: int32_t
    a_pad_h: int32_t, a_pad_w: int32_t
    a_act_min: int32_t, a_act_max: int32_t
    b_input_offset: int32_t, b_output_offset: int32_t
    b_pad_h: int32_t, b_pad_w: int32_t
    b_act_min: int32_t, b_act_max: int32_t
    shortcut_first: int32_t
""")


def _round4(n: int) -> int:
    return (n + 3) & ~3


def residual_rows_s8(input_dims: Dims, filter_a_dims: Dims, filter_b_dims: Dims) -> int:
    """Twin of mf_residual_rows_s8_get_buffer_size: KH_b rows of W x CM int8, one row of W x C
    int8 (each rounded up to 4 bytes), then the larger mf_convolve_s8 scratch of its two calls."""
    mid = (1, filter_b_dims[1], input_dims[2], filter_a_dims[0])
    ring = _round4(filter_b_dims[1] * input_dims[2] * filter_a_dims[0])
    rows = ring + _round4(input_dims[2] * input_dims[3])
    return rows + max(convolve_s8(input_dims, filter_a_dims), convolve_s8(mid, filter_b_dims))


RESIDUAL_ROWS = family(
    "residual_rows", "convolution",
    KernelSpec(
        "mf_residual_rows_s8",
        (CTX,
         Params("rows_params", "const mf_residual_rows_params *", RESIDUAL_ROWS_PARAMS, var="rows_params"),
         Params("add_params", "const mf_add_params *", ADD_PARAMS, var="add_params"),
         Quant("quant_a", "const mf_per_channel_quant_params *", PER_CHANNEL_QUANT, "quant_a",
               ("array:multiplier_a", "array:shift_a")),
         Quant("quant_b", "const mf_per_channel_quant_params *", PER_CHANNEL_QUANT, "quant_b",
               ("array:multiplier_b", "array:shift_b")),
         INPUT_DIMS, Input("input"),
         DimsArg("filter_a_dims"), Const("filter_a", "const int8_t *", role="filter_a"),
         Const("bias_a", "const int32_t *", role="bias_a"),
         DimsArg("filter_b_dims"), Const("filter_b", "const int8_t *", role="filter_b"),
         Const("bias_b", "const int32_t *", role="bias_b"),
         OUTPUT_DIMS, OUTPUT),
        family="residual_rows", when="RESIDUAL_ROWS (a fused residual block, codegen.residual_rows)",
        scratch=ScratchRule((("input_dims", "const mf_dims *", "dims.input"),
                             ("filter_a_dims", "const mf_dims *", "dims.filter_a"),
                             ("filter_b_dims", "const mf_dims *", "dims.filter_b")), residual_rows_s8),
        in_place=True),
)
