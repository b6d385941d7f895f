/*
 * mf_convolve_s8 - general int8 2-D convolution (NHWC x OHWI), per-channel requantization.
 *
 * The bias comes with the input offset folded in (mf_nn.h), so the receptive field of an
 * output pixel is gathered as raw int8 values (im2col), padded cells holding the input zero
 * point, which then contributes nothing; two output pixels at a time are multiplied with the
 * filter (mf_nn_mat_mult_s8.c), so every filter load feeds both.
 *
 * Portable path: the two int8 patches, two pixels by two output channels per pass.
 * DSP path: each patch is widened in place to int16 in SXTB16 order, then two pixels by two
 * channels with SMLAD (CMSIS-NN's scheme); a last odd pixel takes the int8 row path.
 */
#include "mf_internal.h"

#include <stddef.h>

int32_t mf_convolve_s8_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    /* Two patches of KH * KW * C_in int16 values (the DSP path; the portable one uses half). */
    return 2 * filter_dims->h * filter_dims->w * input_dims->c * (int32_t)sizeof(int16_t);
}

#if MF_USE_DSP
/* The patch of pixel (oy, ox) as int16 in `row` (2 * len bytes): gathered as int8 into the
 * upper half first, then widened forward, which never overtakes the bytes still to read. */
static void mf_patch_s16(const mf_conv_params *p,
                         const mf_dims *input_dims,
                         const int8_t *in,
                         const mf_dims *filter_dims,
                         int32_t oy,
                         int32_t ox,
                         int32_t len,
                         int16_t *row)
{
    int8_t *staged = (int8_t *)row + len;
    mf_im2col_s8(p, input_dims, in, filter_dims, oy, ox, staged);
    mf_nn_s8_to_s16_reordered(staged, row, len);
}
#endif

mf_status mf_convolve_s8(const mf_context *ctx,
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
    if (filter_dims->c != input_dims->c || output_dims->c != filter_dims->n ||
        output_dims->n != input_dims->n || p->stride.h < 1 || p->stride.w < 1 ||
        p->dilation.h < 1 || p->dilation.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const int32_t needed = mf_convolve_s8_get_buffer_size(input_dims, filter_dims);
    if (ctx == NULL || ctx->buf == NULL || ctx->size < needed) {
        return MF_NO_SCRATCH;
    }
    assert(((uintptr_t)ctx->buf & 3u) == 0);
    const int32_t len = filter_dims->h * filter_dims->w * input_dims->c;
    const int32_t cout = output_dims->c;
    const int32_t ow = output_dims->w;
    const int32_t pixels = output_dims->h * ow;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * input_dims->c;
    const mf_nn_requant rq = {
        bias, quant_params->multiplier, quant_params->shift, 1, p->output_offset, p->activation};

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        int32_t px = 0;
#if MF_USE_DSP
        int16_t *rows = (int16_t *)ctx->buf;
        for (; px + 2 <= pixels; px += 2) {
            const int32_t q = px + 1;
            mf_patch_s16(p, input_dims, in, filter_dims, px / ow, px % ow, len, rows);
            mf_patch_s16(p, input_dims, in, filter_dims, q / ow, q % ow, len, rows + len);
            mf_nn_mat_mult_s16(rows, rows + len, filter, len, cout, &rq, output);
            output += 2 * cout;
        }
        if (px < pixels) {
            int8_t *patch = (int8_t *)ctx->buf;
            mf_im2col_s8(p, input_dims, in, filter_dims, px / ow, px % ow, patch);
            mf_nn_vec_mat_mult_s8(patch, filter, len, cout, &rq, output);
            output += cout;
        }
#else
        int8_t *patches = (int8_t *)ctx->buf;
        for (; px + 2 <= pixels; px += 2) {
            const int32_t q = px + 1;
            mf_im2col_s8(p, input_dims, in, filter_dims, px / ow, px % ow, patches);
            mf_im2col_s8(p, input_dims, in, filter_dims, q / ow, q % ow, patches + len);
            mf_nn_mat_mult_s8(patches, patches + len, filter, len, cout, &rq, output);
            output += 2 * cout;
        }
        if (px < pixels) {
            mf_im2col_s8(p, input_dims, in, filter_dims, px / ow, px % ow, patches);
            mf_nn_mat_mult_s8(patches, NULL, filter, len, cout, &rq, output);
            output += cout;
        }
#endif
    }
    return MF_OK;
}
