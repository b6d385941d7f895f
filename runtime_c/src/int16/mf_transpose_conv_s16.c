/*
 * mf_transpose_conv_s16 - TRANSPOSE_CONV with int16 activations and int8 weights (TFLite's 16x8
 * mode; TFLite Micro's seanet integration tests have such layers), after TFLite Micro's
 * reference_integer_ops::TransposeConv for int16: every input pixel (y, x) adds x * w[o, ky, kx, :]
 * to output pixel (y * stride_h - pad_top + ky, x * stride_w - pad_left + kx), the sums exact in
 * int64; then the int64 bias, TFLite's int64 MultiplyByQuantizedMultiplier per output channel,
 * the output zero point (0) and the activation clamp. Computed here output pixel by output
 * pixel (the input pixels and taps that reach it), the same integers in another order, so no
 * scratch is needed. Weights OHWI as the model has them; input zero point 0 (16x8 mode).
 */
#include "mf_s16.h"

#include <stddef.h>

mf_status mf_transpose_conv_s16(const mf_conv_params *conv_params,
                                const mf_per_channel_quant_params *quant_params,
                                const mf_dims *input_dims,
                                const int16_t *input,
                                const mf_dims *filter_dims,
                                const int8_t *filter,
                                const int64_t *bias,
                                const mf_dims *output_dims,
                                int16_t *output)
{
    const mf_conv_params *p = conv_params;
    const int32_t H = input_dims->h, W = input_dims->w, C = input_dims->c;
    const int32_t KH = filter_dims->h, KW = filter_dims->w, CO = output_dims->c;
    const int32_t sh = p->stride.h, sw = p->stride.w;
    if (filter_dims->n != CO || filter_dims->c != C || output_dims->n != input_dims->n || sh < 1 ||
        sw < 1 || p->padding.h < 0 || p->padding.w < 0 || p->input_offset != 0 ||
        !mf_activation_valid_s16(&p->activation)) {
        return MF_ARG_ERROR;
    }
    for (int32_t n = 0; n < output_dims->n; n++) {
        const int16_t *in = input + (size_t)n * (size_t)H * (size_t)W * (size_t)C;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                int16_t *out = output + (((size_t)n * (size_t)output_dims->h + (size_t)oy) *
                                             (size_t)output_dims->w + (size_t)ox) * (size_t)CO;
                for (int32_t o = 0; o < CO; o++) {
                    int64_t acc = bias != NULL ? bias[o] : 0;
                    for (int32_t ky = 0; ky < KH; ky++) {
                        const int32_t ty = oy + p->padding.h - ky; /* = y * sh for a tap */
                        if (ty < 0 || ty % sh != 0 || ty / sh >= H) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < KW; kx++) {
                            const int32_t tx = ox + p->padding.w - kx;
                            if (tx < 0 || tx % sw != 0 || tx / sw >= W) {
                                continue;
                            }
                            const int16_t *x = in + ((size_t)(ty / sh) * (size_t)W + (size_t)(tx / sw)) * (size_t)C;
                            const int8_t *w = filter + (((size_t)o * (size_t)KH + (size_t)ky) * (size_t)KW +
                                                        (size_t)kx) * (size_t)C;
                            acc += mf_dot_s16_s8(x, w, C);
                        }
                    }
                    out[o] = mf_requantize_s64_to_s16(acc, quant_params->multiplier[o], quant_params->shift[o],
                                                      p->output_offset, &p->activation);
                }
            }
        }
    }
    return MF_OK;
}
