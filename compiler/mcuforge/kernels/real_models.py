"""Kernels that TFLite Micro's own example models need beyond the other families (real models
area): mf_requantize_s32, QUANTIZE from int8 or int16 to an int32 output (keyword_scrambled_8bit's
last op). Bound in mcuforge.kernel_params_real."""

from __future__ import annotations

from mcuforge.kernels.int16 import REQUANTIZE_PARAMS
from mcuforge.kernels.spec import Input, KernelSpec, Output, Params, Scalar, family

REAL_MODELS = family(
    "real_models", "basic_math",
    KernelSpec("mf_requantize_s32",
               (Params("requantize_params", "const mf_requantize_params *", REQUANTIZE_PARAMS),
                Scalar("size"), Input("input", "const void *"), Output(ctype="int32_t *")),
               family="real_models", when="QUANTIZE from int8 or int16 to int32"),
)
