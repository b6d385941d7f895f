"""Batched matrix product of two run-time tensors (attention, issue 11), in
runtime_c/src/fully_connected/ since each output row is one dense-layer row multiply.

mf_batch_matmul_s8 runs BATCH_MATMUL (TFLite BatchMatMul, ONNX MatMul of two activations,
Einsum that is a batched matrix product): lhs (B0, B1, M, K) or (B0, B1, K, M) with adj_x, rhs
(B0', B1', K, N) or (B0', B1', N, K) with adj_y, output (B0, B1, M, N), batch axes broadcast.
"""

from __future__ import annotations

from mcuforge.kernels.common import CTX, OUTPUT, OUTPUT_DIMS
from mcuforge.kernels.spec import Dims, DimsArg, Input, KernelSpec, Params, ScratchRule, family, struct

BATCH_MATMUL_PARAMS = struct("mf_batch_matmul_params", """
    lhs_offset: int32_t, rhs_offset: int32_t, output_offset: int32_t
    output_multiplier: int32_t, output_shift: int32_t
    adj_x: int32_t, adj_y: int32_t, activation: mf_activation
""")

INT32_BYTES = 4


def batch_matmul_s8(lhs_dims: Dims, rhs_dims: Dims, adj_x: int, adj_y: int) -> int:
    """Twin of mf_batch_matmul_s8_get_buffer_size: two int32 rows of N (the run-time bias), the
    rhs batch matrix transposed to (N, K) unless adj_y, the lhs one transposed to (M, K) with
    adj_x; rounded up to 4 bytes."""
    m, k = (lhs_dims[3], lhs_dims[2]) if adj_x else (lhs_dims[2], lhs_dims[3])
    n = rhs_dims[2] if adj_y else rhs_dims[3]
    size = 2 * n * INT32_BYTES + (0 if adj_y else k * n) + (m * k if adj_x else 0)
    return (size + 3) & ~3


BATCH_MATMUL_SCRATCH = ScratchRule(
    (("lhs_dims", "const mf_dims *", "dims.lhs"), ("rhs_dims", "const mf_dims *", "dims.rhs"),
     ("adj_x", "int32_t", "params.adj_x"), ("adj_y", "int32_t", "params.adj_y")),
    batch_matmul_s8)

BATCH_MATMUL = family(
    "batch_matmul", "fully_connected",
    KernelSpec("mf_batch_matmul_s8",
               (CTX, Params("params", "const mf_batch_matmul_params *", BATCH_MATMUL_PARAMS),
                DimsArg("lhs_dims"), Input("lhs", index=0), DimsArg("rhs_dims"), Input("rhs", index=1),
                OUTPUT_DIMS, OUTPUT),
               family="batch_matmul", when="BATCH_MATMUL", scratch=BATCH_MATMUL_SCRATCH),
)
