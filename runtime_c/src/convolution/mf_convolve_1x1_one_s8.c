/*
 * mf_convolve_1x1_one_s8 - 1x1 convolution, stride 1, no padding, to ONE output channel (a
 * segmentation or binary-classification head; speed-m4, issue 12): out[r] = requant(bias +
 * x_r . w) for every pixel row r. A kernel of its own, picked by the compiler when C_out is 1
 * (kernels/convolution.py, conv_kernel), so that other models do not link its code.
 *
 * The general 1x1 kernel pays its per-row setup and two-channel tails for a single dot product;
 * here the filter row is widened once (DSP: in SXTB16 order, quad q as halfwords (w0, w2, w1,
 * w3), into the scratch) and each row is read four bytes at a time, two rows per pass (a last
 * odd row paired with itself); the channel's requantization constants are prepared once
 * (mf_rq1). A left shift (the rare non-negative shift), and MVE builds, take mf_convolve_1x1_s8.
 * Rows are read and outputs written in order, at most two rows ahead of the first unfinished
 * output.
 */
#include "mf_internal.h"

#include <stddef.h>

int32_t mf_convolve_1x1_one_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    return mf_convolve_1x1_s8_get_buffer_size(input_dims, filter_dims);
}

#if !MF_USE_MVE
/* The whole layer; 0 when the channel's shift is a left shift (then the general kernel).
 * The steps as in the file comment; one call site of each keeps the code small. Not inlined:
 * inside the caller its loop would not have the registers to itself. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int mf_conv1x1_one_channel(const int8_t *input,
                                  int32_t rows,
                                  int32_t cin,
                                  const int8_t *filter,
                                  const mf_nn_requant *rq,
                                  int16_t *wide,
                                  int8_t *output)
{
    mf_rq1 q;
    if (!mf_rq1_init(&q, rq->multiplier[0], rq->shift[0])) {
        return 0;
    }
    const int32_t b = rq->bias != NULL ? rq->bias[0] : 0;
    const int32_t off = rq->output_offset;
    const int32_t lo = rq->activation.min;
    const int32_t hi = rq->activation.max;
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
    (void)body;
#endif
    for (int32_t r = 0; r < rows; r += 2) {
        const int8_t *x0 = input + (size_t)r * cin;
        const int8_t *x1 = r + 1 < rows ? x0 + cin : x0;
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
#endif
        for (; i < cin; i++) {
            a0 += x0[i] * filter[i];
            a1 += x1[i] * filter[i];
        }
        output[r] = (int8_t)mf_clamp_i32(mf_rq1_apply(&q, a0) + off, lo, hi);
        if (r + 1 < rows) {
            output[r + 1] = (int8_t)mf_clamp_i32(mf_rq1_apply(&q, a1) + off, lo, hi);
        }
    }
    return 1;
}
#endif

mf_status mf_convolve_1x1_one_s8(const mf_context *ctx,
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
#if !MF_USE_MVE
    const mf_conv_params *p = conv_params;
    if (filter_dims->n == 1 && filter_dims->h == 1 && filter_dims->w == 1 &&
        filter_dims->c == input_dims->c && output_dims->c == 1 && p->stride.h == 1 &&
        p->stride.w == 1 && p->padding.h == 0 && p->padding.w == 0 &&
        output_dims->n == input_dims->n && output_dims->h == input_dims->h &&
        output_dims->w == input_dims->w && mf_activation_valid(&p->activation) && ctx != NULL &&
        ctx->buf != NULL &&
        ctx->size >= mf_convolve_1x1_one_s8_get_buffer_size(input_dims, filter_dims)) {
        assert(((uintptr_t)ctx->buf & 3u) == 0);
        const int32_t rows = input_dims->n * input_dims->h * input_dims->w;
        const mf_nn_requant rq = {
            bias, quant_params->multiplier, quant_params->shift, 1, p->output_offset, p->activation};
        if (mf_conv1x1_one_channel(input, rows, input_dims->c, filter, &rq, (int16_t *)ctx->buf,
                                   output)) {
            return MF_OK;
        }
    }
#endif
    /* Helium builds, a left shift, and arguments the general kernel checks and reports. */
    return mf_convolve_1x1_s8(ctx, conv_params, quant_params, input_dims, input, filter_dims, filter,
                              bias, output_dims, output);
}
