/*
 * mf_transpose_conv_s8 - int8 transposed convolution (TFLite TRANSPOSE_CONV, ONNX
 * ConvTranspose). Instead of scattering every input pixel into an int32 output-sized buffer as
 * TFLM's reference does, each output value gathers the taps that reach it (the same integer sum
 * in another order), so the only scratch is one patch.
 *
 * With pos = output index + padding, tap k reaches an output from input index (pos - k) / stride
 * when that division is exact: only the kernel positions k = pos % stride + j * stride, from input
 * index pos / stride - j. The compiler stores the weights grouped by that phase
 * (kernels/convolution.py transpose_phases), so for each output pixel the taps of one output
 * channel are one row, and an output value is a plain dot product: the pixel's patch (the input
 * cells of its taps, input offset added, 0 where a tap falls outside the input) against the
 * channel's row. Full quads of a row are stored (0, 2, 1, 3), so the DSP path takes them with
 * SXTB16 as the pairs (0, 1), (2, 3) and multiplies two channels per pass with SMLAD.
 */
#include "mf_internal.h"

#include <stddef.h>

/* Taps of phase p of a kernel of `kernel` positions at stride `stride`: p, p + stride, ... */
static inline int32_t mf_phase_taps(int32_t p, int32_t kernel, int32_t stride)
{
    return p < kernel ? (kernel - p + stride - 1) / stride : 0;
}

/* Two output channels over one patch: *a0 += patch . f0, *a1 += patch . f1 (rows of `len`, full
 * quads stored (0, 2, 1, 3)); every patch load serves both channels. */
static inline void mf_transpose_dot2(const int16_t *patch,
                                     const int8_t *f0,
                                     const int8_t *f1,
                                     int32_t len,
                                     int32_t *a0,
                                     int32_t *a1)
{
    const int32_t quads = len & ~3;
    int32_t acc0 = *a0;
    int32_t acc1 = *a1;
    int32_t q = 0;
#if MF_USE_DSP
    for (; q < quads; q += 4) {
        const uint32_t p01 = mf_read_u32(patch + q);
        const uint32_t p23 = mf_read_u32(patch + q + 2);
        const uint32_t w0 = mf_read_u32(f0 + q);
        const uint32_t w1 = mf_read_u32(f1 + q);
        acc0 = mf_smlad(p01, mf_sxtb16(w0), acc0);
        acc1 = mf_smlad(p01, mf_sxtb16(w1), acc1);
        acc0 = mf_smlad(p23, mf_sxtb16_ror8(w0), acc0);
        acc1 = mf_smlad(p23, mf_sxtb16_ror8(w1), acc1);
    }
    if (len - q >= 2) {
        /* a pair: the two weights of each row as halfwords 0 and 1 */
        const uint32_t pp = mf_read_u32(patch + q);
        const uint32_t w0 = (uint32_t)(uint8_t)f0[q] | ((uint32_t)(uint8_t)f0[q + 1] << 16);
        const uint32_t w1 = (uint32_t)(uint8_t)f1[q] | ((uint32_t)(uint8_t)f1[q + 1] << 16);
        acc0 = mf_smlad(pp, mf_sxtb16(w0), acc0);
        acc1 = mf_smlad(pp, mf_sxtb16(w1), acc1);
        q += 2;
    }
#else
    for (; q < quads; q += 4) {
        const int32_t x0 = patch[q];
        const int32_t x1 = patch[q + 1];
        const int32_t x2 = patch[q + 2];
        const int32_t x3 = patch[q + 3];
        acc0 += x0 * f0[q] + x1 * f0[q + 2] + x2 * f0[q + 1] + x3 * f0[q + 3];
        acc1 += x0 * f1[q] + x1 * f1[q + 2] + x2 * f1[q + 1] + x3 * f1[q + 3];
    }
#endif
    for (; q < len; q++) {
        acc0 += patch[q] * f0[q];
        acc1 += patch[q] * f1[q];
    }
    *a0 = acc0;
    *a1 = acc1;
}

/* What the output channels of every pixel share, in one struct: the pixel's channel loop reads
 * them from one base register. */
typedef struct {
    const int32_t *bias; /* NULL: zero */
    const int32_t *mult;
    const int32_t *shift;
    int32_t c_out;
    int32_t out_off;
    int32_t act_min;
    int32_t act_max;
} mf_transpose_out;

static inline int8_t mf_transpose_requant(const mf_transpose_out *o, int32_t acc, int32_t oc)
{
    const int32_t v = mf_requantize_fast(acc, o->mult[oc], o->shift[oc]) + o->out_off;
    return (int8_t)mf_clamp_i32(v, o->act_min, o->act_max);
}

#if !MF_USE_MVE /* MVE builds run mf_transpose_conv_mve_pixel (speed-m55) */
/* Every output channel of one pixel: out[oc] = requant(bias[oc] + patch . row oc of block), two
 * channels per pass (one call site of the dot product: a small function, inlined; measured
 * on the Cortex-M4, inlined is both faster and lighter on the stack than a call). */
static void mf_transpose_pixel(const mf_transpose_out *o,
                               const int16_t *patch,
                               const int8_t *block,
                               int32_t len,
                               int8_t *out)
{
    const int32_t c_out = o->c_out;
    for (int32_t oc = 0; oc < c_out; oc += 2) {
        /* an odd count's last channel: its row twice, the second sum unused */
        const int8_t *f0 = block + (size_t)oc * len;
        const int8_t *f1 = oc + 1 < c_out ? f0 + len : f0;
        int32_t a0 = o->bias != NULL ? o->bias[oc] : 0;
        int32_t a1 = o->bias != NULL && oc + 1 < c_out ? o->bias[oc + 1] : 0;
        mf_transpose_dot2(patch, f0, f1, len, &a0, &a1);
        out[oc] = mf_transpose_requant(o, a0, oc);
        if (oc + 1 < c_out) {
            out[oc + 1] = mf_transpose_requant(o, a1, oc + 1);
        }
    }
}
#endif

int32_t mf_transpose_conv_s8_get_buffer_size(const mf_dims *input_dims,
                                             const mf_dims *filter_dims,
                                             int32_t stride_h,
                                             int32_t stride_w)
{
    if (stride_h < 1 || stride_w < 1) {
        return 0;
    }
    return mf_phase_taps(0, filter_dims->h, stride_h) *
           mf_phase_taps(0, filter_dims->w, stride_w) * input_dims->c * (int32_t)sizeof(int16_t);
}

mf_status mf_transpose_conv_s8(const mf_context *ctx,
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
    const int32_t c_in = input_dims->c;
    const int32_t c_out = output_dims->c;
    if (p->stride.h < 1 || p->stride.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||
        p->dilation.h != 1 || p->dilation.w != 1 || !mf_activation_valid(&p->activation) ||
        filter_dims->c != c_in || filter_dims->n != c_out || output_dims->n != input_dims->n) {
        return MF_ARG_ERROR;
    }
    const int32_t needed =
        mf_transpose_conv_s8_get_buffer_size(input_dims, filter_dims, p->stride.h, p->stride.w);
    if (needed > 0 && (ctx == NULL || ctx->buf == NULL || ctx->size < needed)) {
        return MF_NO_SCRATCH;
    }
    int16_t *patch = (int16_t *)(ctx != NULL ? ctx->buf : NULL);
    const int32_t sh = p->stride.h;
    const int32_t sw = p->stride.w;
    const int32_t kw = filter_dims->w;
    const int32_t off = p->input_offset;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * c_in;
    const size_t in_row = (size_t)input_dims->w * c_in;
    const size_t chan = (size_t)c_out * c_in; /* bytes of one tap over every channel */
#if MF_USE_MVE
    const mf_nn_requant rq = {bias, quant_params->multiplier, quant_params->shift, 1,
                              p->output_offset, p->activation};
#else
    const mf_transpose_out ochan = {bias, quant_params->multiplier, quant_params->shift, c_out,
                                    p->output_offset, p->activation.min, p->activation.max};
#endif

    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        /* the row of phases (py): its first block, after the rows of phases above */
        int32_t py = p->padding.h % sh;
        int32_t iy0 = p->padding.h / sh;
        size_t rows_before = 0;
        for (int32_t q = 0; q < py; q++) {
            rows_before += (size_t)mf_phase_taps(q, filter_dims->h, sh);
        }
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t ny = mf_phase_taps(py, filter_dims->h, sh);
            int32_t px = p->padding.w % sw;
            int32_t ix0 = p->padding.w / sw;
            size_t cols_before = 0;
            for (int32_t q = 0; q < px; q++) {
                cols_before += (size_t)mf_phase_taps(q, kw, sw);
            }
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t nx = mf_phase_taps(px, kw, sw);
                const int32_t len = ny * nx * c_in;
                const int8_t *block = filter + chan * (rows_before * (size_t)kw + (size_t)ny * cols_before);
                int16_t *dst = patch;
                for (int32_t j = 0; j < ny; j++) {
                    const int32_t iy = iy0 - j;
                    for (int32_t i = 0; i < nx; i++, dst += c_in) {
                        const int32_t ix = ix0 - i;
                        if (iy < 0 || iy >= input_dims->h || ix < 0 || ix >= input_dims->w) {
                            for (int32_t c = 0; c < c_in; c++) {
                                MF_OPAQUE(dst); /* a loop, not a call to memset */
                                dst[c] = 0;
                            }
                            continue;
                        }
                        const int8_t *v = in + (size_t)iy * in_row + (size_t)ix * c_in;
                        for (int32_t c = 0; c < c_in; c++) {
                            dst[c] = (int16_t)(v[c] + off);
                        }
                    }
                }
#if MF_USE_MVE
                mf_transpose_conv_mve_pixel(patch, block, len, c_out, &rq, output);
#else
                mf_transpose_pixel(&ochan, patch, block, len, output);
#endif
                output += c_out;
                cols_before += (size_t)nx;
                if (++px == sw) {
                    px = 0;
                    cols_before = 0;
                    ix0++;
                }
            }
            rows_before += (size_t)ny;
            if (++py == sh) {
                py = 0;
                rows_before = 0;
                iy0++;
            }
        }
    }
    return MF_OK;
}
