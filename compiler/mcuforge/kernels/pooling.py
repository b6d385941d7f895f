"""Pooling and reductions (runtime_c/src/pooling/): average and max pooling, mean over H, W."""

from __future__ import annotations

from mcuforge.kernels.common import CTX, FILTER_DIMS, INPUT_DIMS, OUTPUT, OUTPUT_DIMS
from mcuforge.kernels.spec import Input, KernelSpec, Params, family, no_scratch, struct

POOL_PARAMS = struct("mf_pool_params", """
    stride: mf_tile, padding: mf_tile
    activation: mf_activation
""")
MEAN_PARAMS = struct("mf_mean_params", """
    input_offset: int32_t, output_offset: int32_t
    multiplier: int32_t, shift: int32_t, activation: mf_activation
""")
POOL = Params("pool_params", "const mf_pool_params *", POOL_PARAMS)


def avgpool_s8(output_w: int, channels: int) -> int:
    return 0


POOLING = family(
    "pooling", "pooling",
    KernelSpec("mf_avgpool_s8",
               (CTX, POOL, INPUT_DIMS, Input("input"), FILTER_DIMS, OUTPUT_DIMS, OUTPUT),
               family="pooling", when="AVERAGE_POOL_2D",
               scratch=no_scratch((("output_w", "int32_t", "dims.output[2]"),
                                   ("channels", "int32_t", "dims.output[3]")))),
    KernelSpec("mf_maxpool_s8", (POOL, INPUT_DIMS, Input("input"), FILTER_DIMS, OUTPUT_DIMS, OUTPUT),
               family="pooling", when="MAX_POOL_2D"),
)

MEAN = family(
    "mean", "pooling",
    KernelSpec("mf_mean_s8",
               (Params("mean_params", "const mf_mean_params *", MEAN_PARAMS), INPUT_DIMS,
                Input("input"), OUTPUT),
               family="mean", when="MEAN over H and W of a 4-D tensor"),
)
