/*
 * mf_depthwise_conv_s16 - depthwise 2-D convolution of int16 activations with int8 weights
 * (TFLite Micro's 16x8 DepthwiseConvPerChannel): output channel c * ch_mult + m sums input
 * channel c times its filter over the taps inside the input (the tap range found once per
 * output pixel; each filter row summed in int32, the rows in int64), plus the int64 bias,
 * requantized per output channel with the int64 MultiplyByQuantizedMultiplier. With channel
 * multiplier 1 each tap adds a contiguous row of channels to int32 sums kept in the scratch
 * (4 bytes per channel); on the MVE path (Cortex-M55) eight channels at a time stay in vector
 * registers over the taps.
 */
#include "mf_s16.h"

#include <stddef.h>

int32_t mf_depthwise_conv_s16_get_buffer_size(const mf_dims *input_dims, const mf_dims *filter_dims)
{
    /* channel multiplier 1 and at most 511 taps: one int32 sum per channel */
    if (filter_dims->c == input_dims->c && filter_dims->h * filter_dims->w <= 511) {
        return 4 * filter_dims->c;
    }
    return 0;
}

/* Channel multiplier 1: per output pixel, the taps inside the input in turn, each adding its
 * contiguous row of channels to one int32 sum per channel (at most 511 products of 2^22). */
static void mf_depthwise_m1_s16(const mf_dw_conv_params *p,
                                const mf_per_channel_quant_params *q,
                                const mf_dims *input_dims,
                                const int16_t *input,
                                const mf_dims *filter_dims,
                                const int8_t *filter,
                                const int64_t *bias,
                                const mf_dims *output_dims,
                                int16_t *output,
                                int32_t *sums)
{
    const int32_t c = input_dims->c;
    const int32_t kh = filter_dims->h;
    const int32_t kw = filter_dims->w;
    const int32_t dh = p->dilation.h;
    const int32_t dw = p->dilation.w;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int16_t *in = input + (size_t)b * in_h * in_w * c;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * p->stride.h - p->padding.h;
            const int32_t ky0 = y0 < 0 ? (-y0 + dh - 1) / dh : 0;
            const int32_t ky1 = in_h - y0 <= 0 ? 0 : mf_min_i32(kh, (in_h - y0 + dh - 1) / dh);
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * p->stride.w - p->padding.w;
                const int32_t kx0 = x0 < 0 ? (-x0 + dw - 1) / dw : 0;
                const int32_t kx1 = in_w - x0 <= 0 ? 0 : mf_min_i32(kw, (in_w - x0 + dw - 1) / dw);
#if MF_USE_MVE
                /* Helium: eight channels at a time in two int32x4 sums kept in registers over
                 * the taps (loads widen int16 and int8 to int32), the tail masked by VCTP32 */
                for (int32_t ch = 0; ch < c; ch += 8) {
                    const mve_pred16_t p0 = vctp32q((uint32_t)(c - ch));
                    const mve_pred16_t p1 = vctp32q((uint32_t)mf_max_i32(c - ch - 4, 0));
                    int32x4_t s0 = vdupq_n_s32(0);
                    int32x4_t s1 = vdupq_n_s32(0);
                    for (int32_t ky = ky0; ky < ky1; ky++) {
                        for (int32_t kx = kx0; kx < kx1; kx++) {
                            const int16_t *px =
                                in + ((size_t)(y0 + ky * dh) * in_w + (x0 + kx * dw)) * c + ch;
                            const int8_t *w = filter + ((size_t)ky * kw + kx) * c + ch;
                            s0 = vaddq_s32(s0, vmulq_s32(vldrhq_z_s32(px, p0), vldrbq_z_s32(w, p0)));
                            s1 = vaddq_s32(s1, vmulq_s32(vldrhq_z_s32(px + 4, p1),
                                                         vldrbq_z_s32(w + 4, p1)));
                        }
                    }
                    vstrwq_p_s32(sums + ch, s0, p0);
                    vstrwq_p_s32(sums + ch + 4, s1, p1);
                }
#else
                memset(sums, 0, sizeof(int32_t) * (size_t)c);
                for (int32_t ky = ky0; ky < ky1; ky++) {
                    for (int32_t kx = kx0; kx < kx1; kx++) {
                        const int16_t *px =
                            in + ((size_t)(y0 + ky * dh) * in_w + (x0 + kx * dw)) * c;
                        const int8_t *w = filter + ((size_t)ky * kw + kx) * c;
                        for (int32_t ch = 0; ch < c; ch++) {
                            sums[ch] += (int32_t)px[ch] * w[ch];
                        }
                    }
                }
#endif
                int32_t ch = 0;
#if MF_USE_MVE
                for (; ch + 4 <= c; ch += 4) { /* four channels in one vector where they fit */
                    int64_t acc[4];
                    for (int32_t r = 0; r < 4; r++) {
                        acc[r] = (int64_t)sums[ch + r] + (bias != NULL ? bias[ch + r] : 0);
                    }
                    if (!mf_requantize4_s16_mve(acc, q, ch, 1, p->output_offset, &p->activation, output)) {
                        for (int32_t r = 0; r < 4; r++) {
                            output[r] = mf_requantize_s64_to_s16(acc[r], q->multiplier[ch + r], q->shift[ch + r],
                                                                 p->output_offset, &p->activation);
                        }
                    }
                    output += 4;
                }
#endif
                for (; ch < c; ch++) {
                    const int64_t acc = (int64_t)sums[ch] + (bias != NULL ? bias[ch] : 0);
                    *output++ = mf_requantize_s64_to_s16(acc, q->multiplier[ch], q->shift[ch],
                                                         p->output_offset, &p->activation);
                }
            }
        }
    }
}

mf_status mf_depthwise_conv_s16(const mf_context *ctx,
                                const mf_dw_conv_params *dw_conv_params,
                                const mf_per_channel_quant_params *quant_params,
                                const mf_dims *input_dims,
                                const int16_t *input,
                                const mf_dims *filter_dims,
                                const int8_t *filter,
                                const int64_t *bias,
                                const mf_dims *output_dims,
                                int16_t *output)
{
    const mf_dw_conv_params *p = dw_conv_params;
    const int32_t c_in = input_dims->c;
    const int32_t mult = p->ch_mult;
    const int32_t c_out = output_dims->c;
    if (p->input_offset != 0 || mult < 1 || c_out != c_in * mult || filter_dims->c != c_out ||
        output_dims->n != input_dims->n || p->stride.h < 1 || p->stride.w < 1 ||
        p->dilation.h < 1 || p->dilation.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        !mf_activation_valid_s16(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const int32_t need = mf_depthwise_conv_s16_get_buffer_size(input_dims, filter_dims);
    if (need > 0) {
        if (ctx == NULL || ctx->buf == NULL || ctx->size < need) {
            return MF_NO_SCRATCH;
        }
        mf_depthwise_m1_s16(p, quant_params, input_dims, input, filter_dims, filter, bias,
                            output_dims, output, (int32_t *)ctx->buf);
        return MF_OK;
    }
    const int32_t kh = filter_dims->h;
    const int32_t kw = filter_dims->w;
    const int32_t dh = p->dilation.h;
    const int32_t dw = p->dilation.w;
    const int32_t in_h = input_dims->h;
    const int32_t in_w = input_dims->w;
    if (kw > 511) {
        return MF_ARG_ERROR; /* a filter row's int32 sum holds 511 products of at most 2^22 */
    }
    const size_t in_image = (size_t)in_h * in_w * c_in;

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int16_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * p->stride.h - p->padding.h;
            /* the taps ky with 0 <= y0 + ky * dh < in_h */
            const int32_t ky0 = y0 < 0 ? (-y0 + dh - 1) / dh : 0;
            const int32_t ky1 = in_h - y0 <= 0 ? 0 : mf_min_i32(kh, (in_h - y0 + dh - 1) / dh);
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * p->stride.w - p->padding.w;
                const int32_t kx0 = x0 < 0 ? (-x0 + dw - 1) / dw : 0;
                const int32_t kx1 = in_w - x0 <= 0 ? 0 : mf_min_i32(kw, (in_w - x0 + dw - 1) / dw);
                for (int32_t ch = 0; ch < c_in; ch++) {
                    for (int32_t m = 0; m < mult; m++) {
                        const int32_t o = ch * mult + m;
                        int64_t acc = bias != NULL ? bias[o] : 0;
                        for (int32_t ky = ky0; ky < ky1; ky++) {
                            const int16_t *row = in + (size_t)(y0 + ky * dh) * in_w * c_in + ch;
                            const int8_t *wrow = filter + (size_t)ky * kw * c_out + o;
                            int32_t sum = 0;
                            for (int32_t kx = kx0; kx < kx1; kx++) {
                                sum += (int32_t)row[(size_t)(x0 + kx * dw) * c_in] *
                                       wrow[(size_t)kx * c_out];
                            }
                            acc += sum;
                        }
                        *output++ = mf_requantize_s64_to_s16(acc, quant_params->multiplier[o],
                                                             quant_params->shift[o],
                                                             p->output_offset, &p->activation);
                    }
                }
            }
        }
    }
    return MF_OK;
}
