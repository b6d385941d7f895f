"""Data movement (runtime_c/src/data_movement/): constant padding, concatenation, transpose."""

from __future__ import annotations

from mcuforge.kernels.common import INPUT_DIMS, OUTPUT
from mcuforge.kernels.spec import (
    DimsList,
    Input,
    InputList,
    KernelSpec,
    ParamArray,
    Params,
    Scalar,
    family,
    struct,
)

PAD_PARAMS = struct("mf_pad_params", "before: int32_t[4], after: int32_t[4], value: int8_t")

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
)
