"""Kernels that TFLite Micro's own example models need beyond the other families (real models
area): mf_requantize_s32, QUANTIZE from int8 or int16 to an int32 output (keyword_scrambled_8bit's
last op), bound in mcuforge.kernel_params_real; mf_transpose_conv_s16, TRANSPOSE_CONV in 16x8
mode (the seanet integration tests), bound in kernel_params_s16's table."""

from __future__ import annotations

from mcuforge.kernels.common import FILTER_DIMS, INPUT_DIMS, OUTPUT_DIMS, QUANT
from mcuforge.kernels.convolution import CONV_PARAMS, FILTER_S8
from mcuforge.kernels.int16 import BIAS64, IN16, OUT16, REQUANTIZE_PARAMS
from mcuforge.kernels.spec import Input, KernelSpec, Output, Params, Scalar, family

REAL_MODELS = family(
    "real_models", "basic_math",
    KernelSpec("mf_requantize_s32",
               (Params("requantize_params", "const mf_requantize_params *", REQUANTIZE_PARAMS),
                Scalar("size"), Input("input", "const void *"), Output(ctype="int32_t *")),
               family="real_models", when="QUANTIZE from int8 or int16 to int32"),
)

REAL_MODELS_S16 = family(
    "real_models_s16", "int16",
    KernelSpec("mf_transpose_conv_s16",
               (Params("conv_params", "const mf_conv_params *", CONV_PARAMS), QUANT, INPUT_DIMS, IN16,
                FILTER_DIMS, FILTER_S8, BIAS64, OUTPUT_DIMS, OUT16),
               family="real_models_s16", when="TRANSPOSE_CONV, int16 activations"),
)
