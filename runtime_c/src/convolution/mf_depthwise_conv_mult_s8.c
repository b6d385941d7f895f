/*
 * mf_depthwise_conv_mult_s8 - the depthwise variant for channel multipliers above 1 (output
 * channel c * ch_mult + m reads input channel c): a plain loop over each output pixel's taps,
 * cells outside the image reading the input zero point. Called by mf_depthwise_conv_s8 after
 * its argument checks. Internal: see mf_internal.h.
 */
#include "mf_internal.h"

#include <stddef.h>

/* Any pixel, any channel multiplier: cells outside the image read as the zero point. */
static void mf_dw_pixel_generic(const mf_dw_conv_params *p,
                                const mf_nn_requant *rq,
                                const mf_dims *input_dims,
                                const int8_t *in,
                                const mf_dims *filter_dims,
                                const int8_t *filter,
                                int32_t cout,
                                int32_t oy,
                                int32_t ox,
                                int8_t *out)
{
    const int32_t cin = input_dims->c;
    const int32_t zp = -p->input_offset;
    const int32_t y0 = oy * p->stride.h - p->padding.h;
    const int32_t x0 = ox * p->stride.w - p->padding.w;
    for (int32_t ic = 0; ic < cin; ic++) {
        for (int32_t m = 0; m < p->ch_mult; m++) {
            const int32_t oc = ic * p->ch_mult + m;
            int32_t acc = mf_nn_bias(rq, oc);
            const int8_t *w = filter + oc;
            for (int32_t ky = 0; ky < filter_dims->h; ky++) {
                const int32_t iy = y0 + ky * p->dilation.h;
                const int row_in = iy >= 0 && iy < input_dims->h;
                for (int32_t kx = 0; kx < filter_dims->w; kx++) {
                    const int32_t ix = x0 + kx * p->dilation.w;
                    const int32_t xv = row_in && ix >= 0 && ix < input_dims->w
                                           ? in[((size_t)iy * input_dims->w + ix) * cin + ic]
                                           : zp;
                    acc += xv * *w;
                    w += cout;
                }
            }
            out[oc] = mf_nn_requant_out(rq, acc, oc);
        }
    }
}

void mf_depthwise_conv_mult_s8(const mf_dw_conv_params *p,
                               const mf_nn_requant *rq,
                               const mf_dims *input_dims,
                               const int8_t *input,
                               const mf_dims *filter_dims,
                               const int8_t *filter,
                               const mf_dims *output_dims,
                               int8_t *output)
{
    const size_t in_image = (size_t)input_dims->h * input_dims->w * input_dims->c;
    const int32_t cout = output_dims->c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                mf_dw_pixel_generic(
                    p, rq, input_dims, in, filter_dims, filter, cout, oy, ox, output);
                output += cout;
            }
        }
    }
}
