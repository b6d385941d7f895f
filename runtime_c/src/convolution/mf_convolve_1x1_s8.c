/*
 * mf_convolve_1x1_s8 - 1x1 convolution, stride 1, no padding: every pixel is an independent
 * row, so the whole tensor is one (pixels x C_in) by (C_in x C_out) matrix multiply.
 *
 * The bias comes with the input offset folded in (mf_nn.h), so the multiply is plain int8.
 * Portable path: two pixel rows by two output channels per pass, straight from the input.
 * DSP path: two pixel rows widened to int16 (SXTB16 order) and interleaved in the scratch
 * buffer, then two rows by two channels with SMLAD. MVE path: the portable one, straight int8
 * rows, with mf_nn_mat_mult_s8 in Helium (no scratch used).
 */
#include "mf_internal.h"

#include <stddef.h>

int32_t mf_convolve_1x1_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    (void)filter_dims;
    return 2 * input_dims->c * (int32_t)sizeof(int16_t);
}

/* ---- speed-m4 (issue 12): one output channel (a segmentation or binary head) ---------------
 * out[r] = requant(bias + x_r . w) for every row r. The general kernels pay their per-row setup
 * and two-channel tails for a single dot product, so here the filter row is widened once (DSP:
 * in SXTB16 order, quad q as halfwords (w0, w2, w1, w3), into the scratch) and each row is read
 * four bytes at a time, two rows per pass; the channel's requantization constants are prepared
 * once (mf_rq1). Not inlined, so that its loop has the registers to itself. Rows are read in
 * order, at most two ahead of the first unfinished output. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_conv1x1_one_channel(const int8_t *input,
                                   int32_t rows,
                                   int32_t cin,
                                   const int8_t *filter,
                                   const mf_nn_requant *rq,
                                   int16_t *wide,
                                   int8_t *output)
{
    const int32_t b = rq->bias != NULL ? rq->bias[0] : 0;
    const int32_t m = rq->multiplier[0];
    const int32_t sh = rq->shift[0];
    const int32_t off = rq->output_offset;
    const int32_t lo = rq->activation.min;
    const int32_t hi = rq->activation.max;
    mf_rq1 q = {0, 0, 0, 0};
    const int fast = mf_rq1_init(&q, m, sh);
    const int32_t body = cin & ~3;
#if MF_USE_DSP
    for (int32_t i = 0; i < body; i += 4) {
        wide[i] = filter[i];
        wide[i + 1] = filter[i + 2];
        wide[i + 2] = filter[i + 1];
        wide[i + 3] = filter[i + 3];
    }
#else
    (void)wide;
#endif
    int32_t r = 0;
    for (; r + 2 <= rows; r += 2) {
        const int8_t *x0 = input + (size_t)r * cin;
        const int8_t *x1 = x0 + cin;
        int32_t a0 = b;
        int32_t a1 = b;
        int32_t i = 0;
#if MF_USE_DSP
        for (; i < body; i += 4) {
            const uint32_t wl = mf_read_u32(wide + i);
            const uint32_t wh = mf_read_u32(wide + i + 2);
            const uint32_t v0 = mf_read_u32(x0 + i);
            const uint32_t v1 = mf_read_u32(x1 + i);
            a0 = mf_smlad(mf_sxtb16(v0), wl, a0);
            a1 = mf_smlad(mf_sxtb16(v1), wl, a1);
            a0 = mf_smlad(mf_sxtb16_ror8(v0), wh, a0);
            a1 = mf_smlad(mf_sxtb16_ror8(v1), wh, a1);
        }
#else
        for (; i < body; i += 4) {
            const int32_t w0 = filter[i], w1 = filter[i + 1], w2 = filter[i + 2], w3 = filter[i + 3];
            a0 += x0[i] * w0 + x0[i + 1] * w1 + x0[i + 2] * w2 + x0[i + 3] * w3;
            a1 += x1[i] * w0 + x1[i + 1] * w1 + x1[i + 2] * w2 + x1[i + 3] * w3;
        }
#endif
        for (; i < cin; i++) {
            a0 += x0[i] * filter[i];
            a1 += x1[i] * filter[i];
        }
        const int32_t v0 = fast ? mf_rq1_apply(&q, a0) : mf_requantize_fast(a0, m, sh);
        const int32_t v1 = fast ? mf_rq1_apply(&q, a1) : mf_requantize_fast(a1, m, sh);
        output[r] = (int8_t)mf_clamp_i32(v0 + off, lo, hi);
        output[r + 1] = (int8_t)mf_clamp_i32(v1 + off, lo, hi);
    }
    if (r < rows) {
        const int8_t *x0 = input + (size_t)r * cin;
        int32_t a0 = b;
        for (int32_t i = 0; i < cin; i++) {
            a0 += x0[i] * filter[i];
        }
        output[r] = (int8_t)mf_clamp_i32(mf_requantize_fast(a0, m, sh) + off, lo, hi);
    }
}
/* ---- end speed-m4 ---------------------------------------------------------------------------- */

mf_status mf_convolve_1x1_s8(const mf_context *ctx,
                             const mf_conv_params *conv_params,
                             const mf_per_channel_quant_params *quant_params,
                             const mf_dims *input_dims,
                             const int8_t *input,
                             const mf_dims *filter_dims,
                             const int8_t *filter,
                             const int32_t *bias,
                             const mf_dims *output_dims,
                             int8_t *output)
{
    const mf_conv_params *p = conv_params;
    if (filter_dims->h != 1 || filter_dims->w != 1 || filter_dims->c != input_dims->c ||
        p->stride.h != 1 || p->stride.w != 1 || p->padding.h != 0 || p->padding.w != 0 ||
        output_dims->c != filter_dims->n || output_dims->n != input_dims->n ||
        output_dims->h != input_dims->h || output_dims->w != input_dims->w ||
        !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    if (ctx == NULL || ctx->buf == NULL ||
        ctx->size < mf_convolve_1x1_s8_get_buffer_size(input_dims, filter_dims)) {
        return MF_NO_SCRATCH;
    }
    assert(((uintptr_t)ctx->buf & 3u) == 0);
    /* Dilation does not matter for a 1x1 kernel. */
    const int32_t rows = input_dims->n * input_dims->h * input_dims->w;
    const int32_t cin = input_dims->c;
    const int32_t cout = output_dims->c;
    const mf_nn_requant rq = {
        bias, quant_params->multiplier, quant_params->shift, 1, p->output_offset, p->activation};

#if MF_USE_MVE /* every row in one call (mf_nn_mat_mult_s8.c) */
    mf_nn_mat_mult_rows_s8(input, rows, filter, cin, cout, &rq, output);
    return MF_OK;
#endif
    if (cout == 1) { /* speed-m4 */
        mf_conv1x1_one_channel(input, rows, cin, filter, &rq, (int16_t *)ctx->buf, output);
        return MF_OK;
    }
    int32_t r = 0;
#if MF_USE_DSP && !MF_USE_MVE /* MVE: the int8 rows of mf_nn_mat_mult_s8 */
    int16_t *x16 = (int16_t *)ctx->buf;
    for (; r + 2 <= rows; r += 2) {
        const int8_t *x = input + (size_t)r * cin;
        mf_nn_s8_to_s16_pair(x, x + cin, x16, cin);
        mf_nn_mat_mult_s16_pair(x16, filter, cin, cout, &rq, output + (size_t)r * cout);
    }
    if (r < rows) {
        mf_nn_vec_mat_mult_s8(input + (size_t)r * cin, filter, cin, cout, &rq,
                              output + (size_t)r * cout);
    }
#else
    for (; r + 2 <= rows; r += 2) {
        const int8_t *x = input + (size_t)r * cin;
        mf_nn_mat_mult_s8(x, x + cin, filter, cin, cout, &rq, output + (size_t)r * cout);
    }
    if (r < rows) {
        mf_nn_mat_mult_s8(input + (size_t)r * cin, NULL, filter, cin, cout, &rq,
                          output + (size_t)r * cout);
    }
#endif
    return MF_OK;
}
