"""Data movement (runtime_c/src/data_movement/): constant padding, concatenation, transpose,
and the generic N-D strided copy (mcuforge.codegen.copy_plan), one call per copy of a step."""

from __future__ import annotations

from mcuforge.kernels.common import INPUT_DIMS, OUTPUT
from mcuforge.kernels.spec import (
    DimsList,
    Input,
    InputList,
    KernelSpec,
    Output,
    ParamArray,
    Params,
    Scalar,
    family,
    struct,
)

PAD_PARAMS = struct("mf_pad_params", "before: int32_t[4], after: int32_t[4], value: int8_t")
# tflite-import: MF_COPY_MAX_RANK = 8 (copy_plan.MAX_RANK); a copy gives `rank` entries of each array
COPY_PARAMS = struct("mf_copy_params", "rank: int32_t, shape: int32_t[8] (rank), "
                     "input_stride: int32_t[8] (rank), output_stride: int32_t[8] (rank)")

DATA_MOVEMENT = family(
    "data_movement", "data_movement",
    KernelSpec("mf_pad_s8", (Params("pad_params", "const mf_pad_params *", PAD_PARAMS), INPUT_DIMS,
                             Input("input"), OUTPUT),
               family="data_movement", when="PAD"),
    KernelSpec("mf_concat_s8", (Scalar("num_inputs"), InputList("inputs"), DimsList("input_dims"),
                                Scalar("axis"), OUTPUT),
               family="data_movement", when="CONCATENATION"),
    KernelSpec("mf_transpose_s8", (INPUT_DIMS, Input("input"), ParamArray("perm"), OUTPUT),
               family="data_movement", when="TRANSPOSE"),
    # tflite-import: STRIDED_SLICE, SPLIT, TILE, BROADCAST_TO, GATHER, MIRROR_PAD; one call per entry of
    # params["copies"], reading input[input] + in_offset, writing output[output] + out_offset
    KernelSpec("mf_strided_copy_s8",
               (Params("copy_params", "const mf_copy_params *", COPY_PARAMS, var="copy", positional=True),
                Input("input", select="input", offset="in_offset"),
                Output(select="output", offset="out_offset")),
               family="data_movement", when="STRIDED_SLICE, SPLIT, TILE, BROADCAST_TO, GATHER, MIRROR_PAD",
               each="copies"),
)
