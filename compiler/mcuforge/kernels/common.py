"""Structs and arguments shared by several kernel families (mf_nn.h's common types)."""

from __future__ import annotations

from mcuforge.kernels.spec import Const, ConstStruct, Context, DimsArg, Output, struct

DIMS = struct("mf_dims", "n: int32_t, h: int32_t, w: int32_t, c: int32_t")
TILE = struct("mf_tile", "h: int32_t, w: int32_t")
ACTIVATION = struct("mf_activation", "min: int32_t, max: int32_t")
CONTEXT = struct("mf_context", "buf: void *, size: int32_t")
PER_CHANNEL_QUANT = struct("mf_per_channel_quant_params",
                           "multiplier: const int32_t *, shift: const int32_t *")
PER_TENSOR_QUANT = struct("mf_per_tensor_quant_params", "multiplier: int32_t, shift: int32_t")


class Quant(ConstStruct):
    """`const mf_per_channel_quant_params *quant_params` from the multiplier and shift arrays,
    declared with the parameters (not late)."""

    late = False


QUANT = Quant("quant_params", "const mf_per_channel_quant_params *", PER_CHANNEL_QUANT, "quant",
              ("array:multiplier", "array:shift"))
CTX = Context()
OUTPUT = Output()
BIAS = Const("bias", "const int32_t *", role="bias", optional=True)
INPUT_DIMS = DimsArg("input_dims")
FILTER_DIMS = DimsArg("filter_dims")
OUTPUT_DIMS = DimsArg("output_dims")
