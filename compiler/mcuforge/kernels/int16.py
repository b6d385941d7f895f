"""int16-activation kernels (runtime_c/src/int16/; issue 11, TFLite's 16x8 mode): int16
activations with zero point 0, int8 symmetric weights, int64 biases. They take the int8 kernels'
parameter structs; mcuforge.kernel_params_s16 binds them. Data movement of int16 tensors runs
through the int8 byte-moving kernels (pad, strided copy), so it has no spec here."""

from __future__ import annotations

from mcuforge.kernels.activation import PRELU_PARAMS, SOFTMAX_PARAMS
from mcuforge.kernels.basic_math import ADD_PARAMS, MUL_PARAMS
from mcuforge.kernels.common import CTX, FILTER_DIMS, INPUT_DIMS, OUTPUT_DIMS, QUANT
from mcuforge.kernels.convolution import CONV_PARAMS, DW_CONV_PARAMS, FILTER_S8
from mcuforge.kernels.fully_connected import FC_PARAMS, SCRATCH_ARGS
from mcuforge.kernels.matmul import BATCH_MATMUL_PARAMS
from mcuforge.kernels.pooling import MEAN_PARAMS, POOL
from mcuforge.kernels.spec import (
    Const,
    DimsArg,
    Input,
    KernelSpec,
    Output,
    Params,
    Scalar,
    family,
    no_scratch,
    struct,
    window_scratch,
)

IN16 = Input("input", "const int16_t *")
OUT16 = Output(ctype="int16_t *")
BIAS64 = Const("bias", "const int64_t *", role="bias", optional=True)
ACTIVATION_S16_PARAMS = struct("mf_int16_activation_params",
                               "input_multiplier: int32_t, input_left_shift: int32_t")
ACTIVATION_S16 = Params("activation_params", "const mf_int16_activation_params *", ACTIVATION_S16_PARAMS)
SIGMOID_TABLE = Const("sigmoid_table", "const uint16_t *", role="sigmoid_table")
REQUANTIZE_PARAMS = struct("mf_requantize_params", """
    input_offset: int32_t, output_offset: int32_t
    multiplier: int32_t, shift: int32_t
    input_bits: int32_t, output_bits: int32_t
""")


# int16-ops: LEAKY_RELU and clamps, MINIMUM/MAXIMUM, bilinear resize, BATCH_MATMUL
def _table(name: str) -> Const:
    return Const(name, "const int32_t *", role=name)


def conv_s16_scratch(input_dims: tuple[int, ...], filter_dims: tuple[int, ...]) -> int:
    """Twin of mf_convolve_s16_get_buffer_size: one int16 patch of KH * KW * D values (D the
    filter depth: C_in, or one group's channels; none for a 1x1 filter, read in place)."""
    _, kh, kw, c = filter_dims
    return 0 if kh == 1 and kw == 1 else 2 * kh * kw * c


def depthwise_s16_scratch(input_dims: tuple[int, ...], filter_dims: tuple[int, ...]) -> int:
    """Twin of mf_depthwise_conv_s16_get_buffer_size: an int32 sum per channel when the channel
    multiplier is 1 and the filter has at most 511 taps (else none)."""
    _, kh, kw, c = filter_dims
    return 4 * c if c == input_dims[3] and kh * kw <= 511 else 0


def _binary(name: str, params: Params | None, when: str) -> KernelSpec:
    head = (params,) if params is not None else ()
    return KernelSpec(name, (*head, DimsArg("input1_dims"), Input("input1", "const int16_t *"),
                             DimsArg("input2_dims"), Input("input2", "const int16_t *", index=1),
                             OUTPUT_DIMS, OUT16),
                      family="int16", when=when, in_place=True)


INT16 = family(
    "int16", "int16",
    KernelSpec("mf_convolve_s16",
               (CTX, Params("conv_params", "const mf_conv_params *", CONV_PARAMS), QUANT, INPUT_DIMS, IN16,
                FILTER_DIMS, FILTER_S8, BIAS64, OUTPUT_DIMS, OUT16),
               family="int16", when="CONV_2D, int16 activations, grouped too (1x1 filters read in place)",
               scratch=window_scratch(conv_s16_scratch)),
    KernelSpec("mf_depthwise_conv_s16",
               (CTX, Params("dw_conv_params", "const mf_dw_conv_params *", DW_CONV_PARAMS), QUANT, INPUT_DIMS,
                IN16, FILTER_DIMS, FILTER_S8, BIAS64, OUTPUT_DIMS, OUT16),
               family="int16", when="DEPTHWISE_CONV_2D, int16 activations",
               scratch=window_scratch(depthwise_s16_scratch)),
    KernelSpec("mf_fully_connected_s16",
               (CTX, Params("fc_params", "const mf_fc_params *", FC_PARAMS), QUANT, Scalar("batches"),
                Scalar("accum_depth"), Scalar("output_depth"), IN16, FILTER_S8, BIAS64, OUT16),
               family="int16", when="FULLY_CONNECTED, int16 activations", scratch=no_scratch(SCRATCH_ARGS)),
    _binary("mf_elementwise_add_s16", Params("add_params", "const mf_add_params *", ADD_PARAMS), "ADD"),
    _binary("mf_elementwise_sub_s16", Params("sub_params", "const mf_add_params *", ADD_PARAMS), "SUB"),
    _binary("mf_elementwise_mul_s16", Params("mul_params", "const mf_mul_params *", MUL_PARAMS), "MUL"),
    KernelSpec("mf_avgpool_s16", (CTX, POOL, INPUT_DIMS, IN16, FILTER_DIMS, OUTPUT_DIMS, OUT16),
               family="int16", when="AVERAGE_POOL_2D, int16",
               scratch=no_scratch((("output_w", "int32_t", "dims.output[2]"),
                                   ("channels", "int32_t", "dims.output[3]")))),
    KernelSpec("mf_maxpool_s16", (POOL, INPUT_DIMS, IN16, FILTER_DIMS, OUTPUT_DIMS, OUT16),
               family="int16", when="MAX_POOL_2D, int16"),
    KernelSpec("mf_mean_s16", (Params("mean_params", "const mf_mean_params *", MEAN_PARAMS), INPUT_DIMS,
                               IN16, OUT16),
               family="int16", when="MEAN over H and W of a 4-D int16 tensor"),
    KernelSpec("mf_softmax_s16",
               (Params("softmax_params", "const mf_int16_activation_params *", ACTIVATION_S16_PARAMS),
                Scalar("rows"),
                Scalar("depth"), Const("exp_lut", "const int16_t *", role="exp_lut"),
                Const("reciprocal_lut", "const int16_t *", role="reciprocal_lut"), IN16, OUT16),
               family="int16", when="SOFTMAX, int16", in_place=True),
    *(KernelSpec(f"mf_{name}_s16", (ACTIVATION_S16, Scalar("size"), SIGMOID_TABLE, IN16, OUT16),
                 family="int16", when=f"{name.upper()}, int16", in_place=True)
      for name in ("logistic", "tanh")),
    # int16-ops: the remaining 16x8 ops
    KernelSpec("mf_softmax_s8_s16",
               (Params("softmax_params", "const mf_softmax_params *", SOFTMAX_PARAMS), Scalar("rows"),
                Scalar("depth"), Input("input"), OUT16),
               family="int16", when="SOFTMAX, int8 in, int16 out (scale 1/65536, zero point -32768)"),
    KernelSpec("mf_leaky_relu_s16",
               (Params("leaky_relu_params", "const mf_prelu_params *", PRELU_PARAMS),
                Scalar("size"), IN16, OUT16),
               family="int16", when="LEAKY_RELU and CLAMP (RELU, RELU6, RELU_N1_TO_1), int16", in_place=True),
    _binary("mf_elementwise_maximum_s16", None, "MAXIMUM, int16"),
    _binary("mf_elementwise_minimum_s16", None, "MINIMUM, int16"),
    KernelSpec("mf_resize_bilinear_s16",
               (INPUT_DIMS, IN16, OUTPUT_DIMS, _table("y_table"), _table("x_table"), OUT16),
               family="int16", when="RESIZE_BILINEAR, int16"),
    KernelSpec("mf_batch_matmul_s16",
               (Params("params", "const mf_batch_matmul_params *", BATCH_MATMUL_PARAMS),
                DimsArg("lhs_dims"), Input("lhs", "const int16_t *", index=0), DimsArg("rhs_dims"),
                Input("rhs", "const int16_t *", index=1), OUTPUT_DIMS, OUT16),
               family="int16", when="BATCH_MATMUL, int16 operands"),
    KernelSpec("mf_requantize_s16",
               (Params("requantize_params", "const mf_requantize_params *", REQUANTIZE_PARAMS),
                Scalar("size"), Input("input", "const void *"), Output(ctype="void *")),
               family="int16", when="QUANTIZE between int8 and int16 (or int16 and int16)"),
)
