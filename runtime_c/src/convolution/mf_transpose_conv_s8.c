/*
 * mf_transpose_conv_s8 - int8 transposed convolution (TFLite TRANSPOSE_CONV, ONNX
 * ConvTranspose). Instead of scattering every input pixel into an int32 output-sized buffer as
 * TFLM's reference does, each output value gathers the taps that reach it (the same integer
 * sum in another order), so no scratch is needed.
 */
#include "mf_internal.h"

#include <stddef.h>

/* The taps of one output coordinate: with pos = output index + padding, tap k reaches it from
 * input index (pos - k) / stride when that division is exact and the index is inside [0, size).
 * Those taps are k = first + j * stride for input index last - j, j = 0 .. count - 1. */
typedef struct {
    int32_t first; /* first tap */
    int32_t last;  /* input index of the first tap */
    int32_t count; /* number of taps */
} mf_taps;

static mf_taps mf_transpose_taps(int32_t pos, int32_t stride, int32_t kernel, int32_t size)
{
    mf_taps t;
    const int32_t k0 = pos % stride;
    const int32_t i0 = (pos - k0) / stride;
    const int32_t skip = i0 >= size ? i0 - size + 1 : 0; /* taps reading past the input's end */
    t.first = k0 + skip * stride;
    t.last = i0 - skip;
    t.count = 0;
    if (t.first < kernel && t.last >= 0) {
        t.count = mf_min_i32((kernel - t.first + stride - 1) / stride, t.last + 1);
    }
    return t;
}

mf_status mf_transpose_conv_s8(const mf_conv_params *conv_params,
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
    const int32_t c_in = input_dims->c;
    const int32_t c_out = output_dims->c;
    if (p->stride.h < 1 || p->stride.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        p->dilation.h < 1 || p->dilation.w < 1 || !mf_activation_valid(&p->activation) || p->dilation.h != 1 || p->dilation.w != 1 ||
        filter_dims->c != c_in || filter_dims->n != c_out || output_dims->n != input_dims->n) {
        return MF_ARG_ERROR;
    }
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c_in;
    const size_t filter_row = (size_t)filter_dims->h * filter_dims->w * c_in;
    const size_t in_row = (size_t)input_dims->w * c_in;
    const size_t filter_kernel_row = (size_t)filter_dims->w * c_in;
    const int32_t off = p->input_offset;

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const mf_taps ty =
                mf_transpose_taps(oy + p->padding.h, p->stride.h, filter_dims->h, input_dims->h);
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const mf_taps tx =
                    mf_transpose_taps(ox + p->padding.w, p->stride.w, filter_dims->w, input_dims->w);
                /* no taps: the output is the bias alone (and the origin is never read) */
                const int any = ty.count > 0 && tx.count > 0;
                const int8_t *in0 =
                    any ? in + (size_t)ty.last * in_row + (size_t)tx.last * c_in : in;
                const size_t f0 =
                    any ? (size_t)ty.first * filter_kernel_row + (size_t)tx.first * c_in : 0;
                for (int32_t oc = 0; oc < c_out; oc++) {
                    int32_t acc = bias != NULL ? bias[oc] : 0;
                    const int8_t *fy = filter + (size_t)oc * filter_row + f0;
                    const int8_t *vy = in0;
                    for (int32_t jy = 0; jy < (any ? ty.count : 0); jy++) {
                        const int8_t *f = fy;
                        const int8_t *v = vy;
                        for (int32_t jx = 0; jx < tx.count; jx++) {
                            for (int32_t i = 0; i < c_in; i++) {
                                acc += (v[i] + off) * f[i];
                            }
                            f += (size_t)p->stride.w * c_in;
                            v -= c_in;
                        }
                        fy += (size_t)p->stride.h * filter_kernel_row;
                        vy -= in_row;
                    }
                    acc = mf_requantize_fast(acc, quant_params->multiplier[oc], quant_params->shift[oc]);
                    acc += p->output_offset;
                    *output++ = (int8_t)mf_clamp_i32(acc, p->activation.min, p->activation.max);
                }
            }
        }
    }
    return MF_OK;
}
