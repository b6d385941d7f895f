"""Reductions and normalization (area: reductions): mf_reduce_s8 and mf_arg_s8
(runtime_c/src/pooling/), mf_squared_difference_s8 (runtime_c/src/basic_math/) and
mf_layer_norm_s8 (runtime_c/src/normalization/). Bound in mcuforge.kernel_params_reduce."""

from __future__ import annotations

from mcuforge.kernels.basic_math import ADD_PARAMS
from mcuforge.kernels.common import OUTPUT, OUTPUT_DIMS
from mcuforge.kernels.spec import (
    Const,
    DimsArg,
    Input,
    KernelSpec,
    Output,
    ParamArray,
    Params,
    Scalar,
    family,
    struct,
)

REDUCE_RANK = 5  # MF_REDUCE_RANK
REDUCE_PARAMS = struct("mf_reduce_params", """
    kind: int32_t, input_offset: int32_t, output_offset: int32_t
    multiplier: int32_t, shift: int32_t, activation: mf_activation
""")
LAYER_NORM_PARAMS = struct("mf_layer_norm_params", """
    input_offset: int32_t, output_offset: int32_t
    eps: int64_t, activation: mf_activation
""")

REDUCE = family(
    "reduce", "pooling",
    KernelSpec("mf_reduce_s8",
               (Params("reduce_params", "const mf_reduce_params *", REDUCE_PARAMS),
                ParamArray("shape", length=REDUCE_RANK), ParamArray("reduced", length=REDUCE_RANK),
                Input("input"), OUTPUT),
               family="reduce", when="MEAN (other than over H and W of 4-D), SUM, REDUCE_MAX, REDUCE_MIN"),
)

ARG = family(
    "arg", "pooling",
    KernelSpec("mf_arg_s8",
               (Scalar("outer"), Scalar("axis_len"), Scalar("inner"), Scalar("largest"),
                Scalar("select_last"), Scalar("index_bytes"), Input("input"), Output(ctype="void *")),
               family="arg", when="ARG_MAX, ARG_MIN (int32 or int64 indices)"),
)

SQUARED_DIFFERENCE = family(
    "squared_difference", "basic_math",
    KernelSpec("mf_squared_difference_s8",
               (Params("params", "const mf_add_params *", ADD_PARAMS), DimsArg("input1_dims"),
                Input("input1"), DimsArg("input2_dims"), Input("input2", index=1), OUTPUT_DIMS, OUTPUT),
               family="squared_difference", when="SQUARED_DIFFERENCE"),
)

LAYER_NORM = family(
    "layer_norm", "normalization",
    KernelSpec("mf_layer_norm_s8",
               (Params("params", "const mf_layer_norm_params *", LAYER_NORM_PARAMS), Scalar("rows"),
                Scalar("depth"), Const("multiplier", "const int32_t *", role="multiplier"),
                Const("shift", "const int32_t *", role="shift"),
                Const("bias", "const int32_t *", role="bias"), Input("input"), OUTPUT),
               family="layer_norm", when="LAYER_NORM over the last axis"),
)
