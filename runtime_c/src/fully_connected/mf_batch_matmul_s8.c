/*
 * mf_batch_matmul_s8 - int8 x int8 -> int8 batched matrix product of two run-time tensors
 * (attention scores Q K^T and the weighted sum softmax(.) V), as TFLite Micro's int8 BatchMatMul.
 *
 * Each output row is one call of the dense-layer row multiply (mf_nn_mat_mult_s8.c): the rhs
 * matrix, laid out as N rows of K values (copied transposed into scratch unless adj_y says it is
 * stored that way already), plays the filter, and the offsets become a per-column bias built at
 * run time, since neither operand is known on the host:
 *   sum_k (a_ik + oa)(b_kj + ob) = sum_k a_ik b_kj + oa * colsum_j(b) + ob * rowsum_i(a) + K oa ob.
 * The bias of row i is base_j + ob * rowsum_i(a) with base_j = oa * colsum_j(b) + K oa ob. Every
 * term fits int32 for K below 33000, as TFLite's own int32 accumulator needs.
 */
#include "mf_internal.h"

#include <stddef.h>

/* Scratch layout: base[N] and row_bias[N] (int32), then the (N, K) rhs copy unless adj_y, then
 * the (M, K) lhs copy if adj_x. */
static int32_t mf_bmm_scratch(const mf_dims *lhs_dims,
                              const mf_dims *rhs_dims,
                              int32_t adj_x,
                              int32_t adj_y,
                              int32_t *rows,
                              int32_t *depth,
                              int32_t *cols)
{
    *rows = adj_x ? lhs_dims->c : lhs_dims->w;
    *depth = adj_x ? lhs_dims->w : lhs_dims->c;
    *cols = adj_y ? rhs_dims->w : rhs_dims->c;
    int32_t bytes = 2 * *cols * (int32_t)sizeof(int32_t);
    if (!adj_y) {
        bytes += *cols * *depth;
    }
    if (adj_x) {
        bytes += *rows * *depth;
    }
    return (bytes + 3) & ~3;
}

int32_t mf_batch_matmul_s8_get_buffer_size(const mf_dims *lhs_dims,
                                           const mf_dims *rhs_dims,
                                           int32_t adj_x,
                                           int32_t adj_y)
{
    int32_t m, k, n;
    return mf_bmm_scratch(lhs_dims, rhs_dims, adj_x, adj_y, &m, &k, &n);
}

/* dst (cols, rows) = src (rows, cols) transposed. */
static void mf_bmm_transpose(const int8_t *src, int32_t rows, int32_t cols, int8_t *dst)
{
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *s = src + (size_t)r * cols;
        int8_t *d = dst + r;
        for (int32_t c = 0; c < cols; c++) {
            d[(size_t)c * rows] = s[c];
        }
    }
}

/* One batch: a (M, K) rows, b (N, K) rows. */
static void mf_bmm_one(const mf_batch_matmul_params *p,
                       const int8_t *a,
                       const int8_t *b,
                       int32_t m,
                       int32_t k,
                       int32_t n,
                       int32_t *base,
                       int32_t *row_bias,
                       int8_t *out)
{
    const int32_t kab = k * p->lhs_offset * p->rhs_offset;
    for (int32_t j = 0; j < n; j++) {
        const int8_t *bj = b + (size_t)j * k;
        int32_t sum = 0;
        for (int32_t i = 0; i < k; i++) {
            sum += bj[i];
        }
        base[j] = p->lhs_offset * sum + kab;
    }
    mf_nn_requant rq = {row_bias, &p->output_multiplier, &p->output_shift, 0, p->output_offset,
                        p->activation};
    for (int32_t i = 0; i < m; i++) {
        const int8_t *ai = a + (size_t)i * k;
        int32_t sum = 0;
        for (int32_t t = 0; t < k; t++) {
            sum += ai[t];
        }
        const int32_t row_term = p->rhs_offset * sum;
        for (int32_t j = 0; j < n; j++) {
            row_bias[j] = base[j] + row_term;
        }
#if MF_USE_DSP && !MF_USE_MVE /* MVE: the int8 rows of mf_nn_mat_mult_s8 */
        mf_nn_vec_mat_mult_s8(ai, b, k, n, &rq, out + (size_t)i * n);
#else
        mf_nn_mat_mult_s8(ai, NULL, b, k, n, &rq, out + (size_t)i * n);
#endif
    }
}

/* The step of an operand's batch axis: 0 when it is broadcast (size 1). */
static size_t mf_bmm_step(int32_t size, size_t matrix)
{
    return size == 1 ? 0 : matrix;
}

mf_status mf_batch_matmul_s8(const mf_context *ctx,
                             const mf_batch_matmul_params *params,
                             const mf_dims *lhs_dims,
                             const int8_t *lhs,
                             const mf_dims *rhs_dims,
                             const int8_t *rhs,
                             const mf_dims *output_dims,
                             int8_t *output)
{
    const mf_batch_matmul_params p = *params; /* in locals: the output stores alias everything */
    int32_t m, k, n;
    const int32_t need = mf_bmm_scratch(lhs_dims, rhs_dims, p.adj_x, p.adj_y, &m, &k, &n);
    const int32_t k_rhs = p.adj_y ? rhs_dims->c : rhs_dims->w;
    if (m < 1 || k < 1 || n < 1 || k != k_rhs || output_dims->w != m || output_dims->c != n ||
        !mf_activation_valid(&p.activation)) {
        return MF_ARG_ERROR;
    }
    const int32_t batch_n = output_dims->n, batch_h = output_dims->h;
    if ((lhs_dims->n != batch_n && lhs_dims->n != 1) || (rhs_dims->n != batch_n && rhs_dims->n != 1) ||
        (lhs_dims->h != batch_h && lhs_dims->h != 1) || (rhs_dims->h != batch_h && rhs_dims->h != 1)) {
        return MF_ARG_ERROR;
    }
    if (ctx == NULL || ctx->buf == NULL || ctx->size < need) {
        return MF_NO_SCRATCH;
    }
    int32_t *base = (int32_t *)ctx->buf;
    int32_t *row_bias = base + n;
    int8_t *b_rows = (int8_t *)(row_bias + n);
    int8_t *a_rows = p.adj_y ? b_rows : b_rows + (size_t)n * k;
    const size_t mk = (size_t)m * k, kn = (size_t)k * n;
    const size_t lhs_h = mf_bmm_step(lhs_dims->h, mk), rhs_h = mf_bmm_step(rhs_dims->h, kn);
    const size_t lhs_n = mf_bmm_step(lhs_dims->n, mk * lhs_dims->h);
    const size_t rhs_n = mf_bmm_step(rhs_dims->n, kn * rhs_dims->h);
    const int8_t *b_done = NULL; /* the rhs matrix b_rows holds, when transposed */
    const int8_t *a_done = NULL;
    for (int32_t bn = 0; bn < batch_n; bn++) {
        for (int32_t bh = 0; bh < batch_h; bh++) {
            const int8_t *a = lhs + bn * lhs_n + bh * lhs_h;
            const int8_t *b = rhs + bn * rhs_n + bh * rhs_h;
            if (p.adj_x) {
                if (a != a_done) {
                    mf_bmm_transpose(a, k, m, a_rows);
                    a_done = a;
                }
                a = a_rows;
            }
            if (!p.adj_y) {
                if (b != b_done) {
                    mf_bmm_transpose(b, k, n, b_rows);
                    b_done = b;
                }
                b = b_rows;
            }
            int8_t *out = output + ((size_t)bn * batch_h + bh) * m * n;
            mf_bmm_one(&p, a, b, m, k, n, base, row_bias, out);
        }
    }
    return MF_OK;
}
