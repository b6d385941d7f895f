/*
 * mf_convolve_1x1_s8 - 1x1 convolution, stride 1, no padding: every pixel is an independent
 * row, so the whole tensor is one (pixels x C_in) by (C_in x C_out) matrix multiply.
 *
 * The bias comes with the input offset folded in (mf_nn.h), so the multiply is plain int8.
 * Portable path: two pixel rows by two output channels per pass, straight from the input.
 * DSP path: two pixel rows widened to int16 (SXTB16 order) and interleaved in the scratch
 * buffer, then two rows by two channels with SMLAD. MVE path: the portable one, straight int8
 * rows, with mf_nn_mat_mult_s8 in Helium (no scratch used). Portable cores with SMLAL (the
 * Cortex-M3; m3, issue 12): each pixel pair packed into one word per input in the scratch
 * (mf_portable_nn.h), two multiply-accumulates per SMLAL; ARMv6-M keeps the int8 rows.
 */
#include "mf_internal.h"
#include "mf_portable_nn.h"

#include <stddef.h>

int32_t mf_convolve_1x1_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    (void)filter_dims;
    return 2 * input_dims->c * (int32_t)sizeof(int16_t);
}

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
#if MF_PT_PACKED /* m3: the row pair packed once into the scratch (mf_portable_nn.h) */
    int32_t *pk = (int32_t *)ctx->buf;
    for (; r + 2 <= rows; r += 2) {
        const int8_t *x = input + (size_t)r * cin;
        mf_nn_pack_pair_s8(x, x + cin, pk, cin);
        mf_nn_mat_mult_pk_s8(pk, filter, cin, cout, &rq, output + (size_t)r * cout,
                             output + (size_t)(r + 1) * cout);
    }
    if (r < rows) { /* a last odd row: a pair with itself, one row stored */
        const int8_t *x = input + (size_t)r * cin;
        mf_nn_pack_pair_s8(x, x, pk, cin);
        mf_nn_mat_mult_pk_s8(pk, filter, cin, cout, &rq, output + (size_t)r * cout, NULL);
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
#endif
    return MF_OK;
}
