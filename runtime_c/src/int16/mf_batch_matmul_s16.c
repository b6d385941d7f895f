/*
 * mf_batch_matmul_s16 - int16 x int16 -> int16 batched matrix product of two run-time tensors,
 * as TFLite Micro's int16 BatchMatMul (its reference BatchMatMul with an int64 accumulator):
 * zero points are 0 in 16x8 mode, so out = clamp(requant64(sum_k lhs * rhs)) with TFLite's int64
 * MultiplyByQuantizedMultiplier. Operands are read in place along their strides (adj_x, adj_y),
 * so it needs no scratch.
 */
#include "mf_s16.h"

#include <stddef.h>

/* The step of an operand's batch axis: 0 when it is broadcast (size 1). */
static size_t mf_bmm16_step(int32_t size, size_t matrix)
{
    return size == 1 ? 0 : matrix;
}

#if MF_USE_DSP
/* SMLALD: acc + a.h0 * b.h0 + a.h1 * b.h1 in 64 bits (exact, unlike SMLAD's 32-bit sum of two
 * int16 squares, which can wrap). C with the same result where the DSP is emulated. */
static inline int64_t mf_smlald(uint32_t a, uint32_t b, int64_t acc)
{
#if defined(MF_EMULATE_DSP)
    return acc + (int32_t)(int16_t)(a & 0xFFFFu) * (int16_t)(b & 0xFFFFu) +
           (int64_t)((int32_t)(int16_t)(a >> 16) * (int16_t)(b >> 16));
#else
    return (int64_t)__smlald((int32_t)a, (int32_t)b, (uint64_t)acc);
#endif
}
#endif

/* sum_t a[t * sa] * b[t * sb] for t < k, exactly: each product fits int32, the sum int64. Where
 * both rows are contiguous (Q K^T: lhs rows, rhs stored (N, K) with adj_y), the DSP path takes
 * two products per SMLALD. */
static int64_t mf_bmm16_dot(const int16_t *a, size_t sa, const int16_t *b, size_t sb, int32_t k)
{
    int64_t acc = 0;
    int32_t t = 0;
#if MF_USE_DSP
    if (sa == 1 && sb == 1) {
        for (; t + 1 < k; t += 2) {
            acc = mf_smlald(mf_read_u32(a + t), mf_read_u32(b + t), acc);
        }
    }
#endif
    for (; t < k; t++) {
        acc += (int32_t)a[t * sa] * b[t * sb];
    }
    return acc;
}

mf_status mf_batch_matmul_s16(const mf_batch_matmul_params *params,
                              const mf_dims *lhs_dims,
                              const int16_t *lhs,
                              const mf_dims *rhs_dims,
                              const int16_t *rhs,
                              const mf_dims *output_dims,
                              int16_t *output)
{
    const mf_batch_matmul_params p = *params; /* in locals: the output stores alias everything */
    const int32_t m = p.adj_x ? lhs_dims->c : lhs_dims->w;
    const int32_t k = p.adj_x ? lhs_dims->w : lhs_dims->c;
    const int32_t n = p.adj_y ? rhs_dims->w : rhs_dims->c;
    const int32_t k_rhs = p.adj_y ? rhs_dims->c : rhs_dims->w;
    const int32_t batch_n = output_dims->n, batch_h = output_dims->h;
    if (m < 1 || k < 1 || n < 1 || k != k_rhs || output_dims->w != m || output_dims->c != n ||
        p.lhs_offset != 0 || p.rhs_offset != 0 || !mf_activation_valid_s16(&p.activation) ||
        p.output_multiplier < 0 || p.output_shift < -31 || p.output_shift > 7 ||
        (lhs_dims->n != batch_n && lhs_dims->n != 1) || (rhs_dims->n != batch_n && rhs_dims->n != 1) ||
        (lhs_dims->h != batch_h && lhs_dims->h != 1) || (rhs_dims->h != batch_h && rhs_dims->h != 1)) {
        return MF_ARG_ERROR;
    }
    /* element (i, t) of lhs and (t, j) of rhs as seen by the product */
    const size_t a_row = p.adj_x ? 1 : (size_t)k, a_col = p.adj_x ? (size_t)m : 1;
    const size_t b_row = p.adj_y ? 1 : (size_t)n, b_col = p.adj_y ? (size_t)k : 1;
    const size_t mk = (size_t)m * k, kn = (size_t)k * n;
    const size_t lhs_h = mf_bmm16_step(lhs_dims->h, mk), rhs_h = mf_bmm16_step(rhs_dims->h, kn);
    const size_t lhs_n = mf_bmm16_step(lhs_dims->n, mk * lhs_dims->h);
    const size_t rhs_n = mf_bmm16_step(rhs_dims->n, kn * rhs_dims->h);
    for (int32_t bn = 0; bn < batch_n; bn++) {
        for (int32_t bh = 0; bh < batch_h; bh++) {
            const int16_t *a = lhs + bn * lhs_n + bh * lhs_h;
            const int16_t *b = rhs + bn * rhs_n + bh * rhs_h;
            for (int32_t i = 0; i < m; i++) {
                for (int32_t j = 0; j < n; j++) {
                    const int64_t acc = mf_bmm16_dot(a + i * a_row, a_col, b + j * b_col, b_row, k);
                    *output++ = mf_requantize_s64_to_s16(acc, p.output_multiplier, p.output_shift,
                                                         p.output_offset, &p.activation);
                }
            }
        }
    }
    return MF_OK;
}
