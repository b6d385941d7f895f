/*
 * mf_convolve_b1 - 2-D convolution (NHWC x OHWI) with 1-bit weights (+1 / -1, the scale is in
 * the per-channel requantization), packed 8 per byte and read straight from flash.
 *
 * One im2col patch per output pixel of u = x + 128 as unsigned bytes (padded cells 128 -
 * input_offset, which stand for a zero input) and its total T; then per output channel
 * acc = bias + 2 * S - T, S the sum of the patch over the row's set bits (mf_binary.h). The
 * bias comes with (input_offset - 128) * (sum of the row's +-1 weights) folded in. Row oc
 * starts at bit oc * KH * KW * C_in.
 */
#include "mf_binary.h"

int32_t mf_convolve_b1_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    return filter_dims->h * filter_dims->w * input_dims->c;
}

/* The unsigned patch of output pixel (oy, ox). */
static void mf_b1_im2col(const mf_conv_params *p,
                         const mf_dims *input_dims,
                         const int8_t *in,
                         const mf_dims *filter_dims,
                         int32_t oy,
                         int32_t ox,
                         uint8_t *patch)
{
    const int32_t cin = input_dims->c;
    const int32_t y0 = oy * p->stride.h - p->padding.h;
    const int32_t x0 = ox * p->stride.w - p->padding.w;
    const uint8_t pad = (uint8_t)(128 - p->input_offset);
    for (int32_t ky = 0; ky < filter_dims->h; ky++) {
        const int32_t iy = y0 + ky * p->dilation.h;
        for (int32_t kx = 0; kx < filter_dims->w; kx++) {
            const int32_t ix = x0 + kx * p->dilation.w;
            if (iy < 0 || iy >= input_dims->h || ix < 0 || ix >= input_dims->w) {
                memset(patch, pad, (size_t)cin);
            } else {
                const uint8_t *src = (const uint8_t *)in + ((size_t)iy * input_dims->w + ix) * cin;
                int32_t c = 0;
                for (; c + 4 <= cin; c += 4) { /* four channels per word */
                    uint32_t w;
                    memcpy(&w, src + c, sizeof w);
                    w ^= 0x80808080u;
                    memcpy(patch + c, &w, sizeof w);
                }
                for (; c < cin; c++) {
                    patch[c] = (uint8_t)(src[c] ^ 0x80u);
                }
            }
            patch += cin;
        }
    }
}

mf_status mf_convolve_b1(const mf_context *ctx,
                         const mf_conv_params *conv_params,
                         const mf_per_channel_quant_params *quant_params,
                         const mf_dims *input_dims,
                         const int8_t *input,
                         const mf_dims *filter_dims,
                         const uint8_t *packed_filter,
                         const int32_t *bias,
                         const mf_dims *output_dims,
                         int8_t *output)
{
    const mf_conv_params *p = conv_params;
    if (filter_dims->c != input_dims->c || output_dims->c != filter_dims->n ||
        output_dims->n != input_dims->n || p->stride.h < 1 || p->stride.w < 1 ||
        p->dilation.h < 1 || p->dilation.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        p->input_offset < -127 || p->input_offset > 128 || !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const int32_t patch_len = filter_dims->h * filter_dims->w * input_dims->c;
    if (ctx == NULL || ctx->buf == NULL || ctx->size < patch_len) {
        return MF_NO_SCRATCH;
    }
    uint8_t *patch = (uint8_t *)ctx->buf;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * input_dims->c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                mf_b1_im2col(p, input_dims, in, filter_dims, oy, ox, patch);
                const int32_t total = mf_b1_total_u8(patch, 0u, patch_len);
                for (int32_t oc = 0; oc < output_dims->c; oc++) {
                    const int32_t set = mf_b1_set_u8(patch, 0u, packed_filter, oc * patch_len, patch_len);
                    const int32_t acc = (bias != NULL ? bias[oc] : 0) + 2 * set - total;
                    *output++ = mf_requantize_to_s8(acc, quant_params->multiplier[oc], quant_params->shift[oc],
                                                    p->output_offset, &p->activation);
                }
            }
        }
    }
    return MF_OK;
}
