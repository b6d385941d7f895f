"""Stateful area (runtime_c/src/recurrent/): mf_svdf_s8 (int16 memory) and mf_svdf_s8_s8 (int8
memory and time weights), TFLite's integer SVDF with its persistent memory passed as a `State`
argument. Bound in mcuforge.kernel_params (`svdf`)."""

from __future__ import annotations

from mcuforge.kernels.common import OUTPUT
from mcuforge.kernels.spec import ConstStruct, Input, KernelSpec, Params, State, family, struct

SVDF_PARAMS = struct("mf_svdf_params", """
    batches: int32_t, input_size: int32_t, num_filters: int32_t, memory_size: int32_t, rank: int32_t
    state_zp: int32_t, output_zp: int32_t
    feature_multiplier: int32_t, feature_shift: int32_t, output_multiplier: int32_t, output_shift: int32_t
""")
SVDF_WEIGHTS = struct("mf_svdf_weights", """
    feature_weights: const int8_t *, feature_bias: const int32_t *
    time_weights: const int16_t *, bias: const int32_t *
""")

SVDF_S8_WEIGHTS = struct("mf_svdf_s8_weights", """
    feature_weights: const int8_t *, feature_bias: const int32_t *
    time_weights: const int8_t *, bias: const int32_t *
""")

SVDF = family(
    "svdf", "recurrent",
    KernelSpec("mf_svdf_s8",
               (Params("svdf_params", "const mf_svdf_params *", SVDF_PARAMS),
                ConstStruct("weights", "const mf_svdf_weights *", SVDF_WEIGHTS, "weights",
                            tuple(f"array:{f.name}" for f in SVDF_WEIGHTS.fields)),
                Input("input"), State("state", "int16_t *", "activation_state"), OUTPUT),
               family="svdf", when="SVDF (int8, int16 state and time weights)"),
    # real models (TFLite Micro's keyword_scrambled_8bit): int8 time weights and state
    KernelSpec("mf_svdf_s8_s8",
               (Params("svdf_params", "const mf_svdf_params *", SVDF_PARAMS),
                ConstStruct("weights", "const mf_svdf_s8_weights *", SVDF_S8_WEIGHTS, "weights",
                            tuple(f"array:{f.name}" for f in SVDF_S8_WEIGHTS.fields)),
                Input("input"), State("state", "int8_t *", "activation_state"), OUTPUT),
               family="svdf", when="SVDF (int8, int8 state and time weights)"),
)
