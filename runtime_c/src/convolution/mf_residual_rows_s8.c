/*
 * mf_residual_rows_s8 - a residual block (conv A -> conv B -> add with the block input) computed
 * row by row (issue 13; the line buffers of TinyEngine / MCUNetV2): a buffer of conv B's window
 * rows of conv A's output, one row of conv B's output, and the add written to the output row, so
 * the block needs KH_b + 1 rows instead of two whole tensors and may write over its input. Every
 * value comes from mf_convolve_s8 on a band of rows or mf_elementwise_add_s8 on one row.
 */
#include <string.h>

#include "mf_internal.h"

/* speed-m55: on Helium the 3x3 convolutions of the block run mf_convolve3x3_s8 (which hands
 * other shapes to mf_convolve_s8; same scratch) */
#if MF_USE_MVE
#define MF_ROWS_CONV mf_convolve3x3_s8
#else
#define MF_ROWS_CONV mf_convolve_s8
#endif

static int32_t mf_round4(int32_t n)
{
    return (n + 3) & ~3;
}

int32_t mf_residual_rows_s8_get_buffer_size(const mf_dims *input_dims,
                                            const mf_dims *filter_a_dims,
                                            const mf_dims *filter_b_dims)
{
    const mf_dims mid = {1, filter_b_dims->h, input_dims->w, filter_a_dims->n};
    const int32_t conv_a = mf_convolve_s8_get_buffer_size(input_dims, filter_a_dims);
    const int32_t conv_b = mf_convolve_s8_get_buffer_size(&mid, filter_b_dims);
    return mf_round4(filter_b_dims->h * input_dims->w * filter_a_dims->n) +
           mf_round4(input_dims->w * input_dims->c) + (conv_a > conv_b ? conv_a : conv_b);
}

/* Conv A's output rows [r0, r1) of one image into dst: the band of input rows they read, with
 * the band's own top padding (rows past the band's end are padding only at the image's end). */
static mf_status mf_rows_a(const mf_context *ctx, const mf_residual_rows_params *p,
                           const mf_per_channel_quant_params *quant, const mf_dims *input_dims,
                           const int8_t *image, const mf_dims *filter_dims, const int8_t *filter,
                           const int32_t *bias, int32_t r0, int32_t r1, int8_t *dst)
{
    const int32_t top = r0 - p->a_pad_h;
    const int32_t a0 = top > 0 ? top : 0;
    const int32_t end = r1 - 1 - p->a_pad_h + filter_dims->h;
    const int32_t a1 = end < input_dims->h ? end : input_dims->h;
    const mf_conv_params conv = {p->a_input_offset, p->a_output_offset, {1, 1}, {a0 - top, p->a_pad_w},
                                 {1, 1}, {p->a_act_min, p->a_act_max}};
    const mf_dims band = {1, a1 - a0, input_dims->w, input_dims->c};
    const mf_dims out = {1, r1 - r0, input_dims->w, filter_dims->n};
    return MF_ROWS_CONV(ctx, &conv, quant, &band, image + (size_t)a0 * input_dims->w * input_dims->c,
                          filter_dims, filter, bias, &out, dst);
}

mf_status mf_residual_rows_s8(const mf_context *ctx,
                              const mf_residual_rows_params *rows_params,
                              const mf_add_params *add_params,
                              const mf_per_channel_quant_params *quant_a,
                              const mf_per_channel_quant_params *quant_b,
                              const mf_dims *input_dims,
                              const int8_t *input,
                              const mf_dims *filter_a_dims,
                              const int8_t *filter_a,
                              const int32_t *bias_a,
                              const mf_dims *filter_b_dims,
                              const int8_t *filter_b,
                              const int32_t *bias_b,
                              const mf_dims *output_dims,
                              int8_t *output)
{
    const mf_residual_rows_params *p = rows_params;
    const int32_t h = input_dims->h, w = input_dims->w, c = input_dims->c;
    const int32_t cm = filter_a_dims->n, kb = filter_b_dims->h;
    if (output_dims->n != input_dims->n || output_dims->h != h || output_dims->w != w ||
        output_dims->c != c || filter_b_dims->n != c || filter_b_dims->c != cm ||
        filter_a_dims->c != c || p->a_pad_h < 0 || p->b_pad_h < 0 || p->a_pad_h > p->b_pad_h ||
        p->a_pad_h >= filter_a_dims->h || p->b_pad_h >= kb || p->a_pad_w >= filter_a_dims->w ||
        p->b_pad_w >= filter_b_dims->w) {
        return MF_ARG_ERROR;
    }
    const int32_t needed = mf_residual_rows_s8_get_buffer_size(input_dims, filter_a_dims, filter_b_dims);
    if (ctx == NULL || ctx->buf == NULL || ctx->size < needed) {
        return MF_NO_SCRATCH;
    }
    const int32_t row_m = w * cm, row_c = w * c;
    int8_t *ring = (int8_t *)ctx->buf;
    int8_t *brow = ring + mf_round4(kb * row_m);
    int8_t *rest = brow + mf_round4(row_c);
    const mf_context conv_ctx = {rest, ctx->size - (int32_t)(rest - ring)};
    const mf_conv_params conv_b = {p->b_input_offset, p->b_output_offset, {1, 1}, {0, p->b_pad_w},
                                   {1, 1}, {p->b_act_min, p->b_act_max}};
    const mf_dims row_dims = {1, 1, w, c};
    const mf_dims brow_dims = {1, 1, w, c};
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *image = input + (size_t)b * h * row_c;
        int8_t *out = output + (size_t)b * h * row_c;
        int32_t lo_held = 0, hi_held = 0; /* conv-A rows [lo_held, hi_held) are in the ring */
        for (int32_t y = 0; y < h; y++) {
            const int32_t top = y - p->b_pad_h;
            const int32_t lo = top > 0 ? top : 0;
            const int32_t hi = top + kb < h ? top + kb : h;
            if (lo > lo_held) { /* drop the rows above the window */
                if (hi_held > lo) {
                    memmove(ring, ring + (size_t)(lo - lo_held) * row_m, (size_t)(hi_held - lo) * row_m);
                } else {
                    hi_held = lo;
                }
                lo_held = lo;
            }
            if (hi > hi_held) {
                const mf_status s = mf_rows_a(&conv_ctx, p, quant_a, input_dims, image, filter_a_dims,
                                              filter_a, bias_a, hi_held, hi,
                                              ring + (size_t)(hi_held - lo_held) * row_m);
                if (s != MF_OK) {
                    return s;
                }
                hi_held = hi;
            }
            mf_conv_params cb = conv_b;
            cb.padding.h = lo - top;
            const mf_dims window = {1, hi - lo, w, cm};
            const mf_status s = MF_ROWS_CONV(&conv_ctx, &cb, quant_b, &window, ring, filter_b_dims,
                                               filter_b, bias_b, &brow_dims, brow);
            if (s != MF_OK) {
                return s;
            }
            const int8_t *x_row = image + (size_t)y * row_c;
            const mf_status t = p->shortcut_first
                ? mf_elementwise_add_s8(add_params, &row_dims, x_row, &row_dims, brow, &row_dims,
                                        out + (size_t)y * row_c)
                : mf_elementwise_add_s8(add_params, &row_dims, brow, &row_dims, x_row, &row_dims,
                                        out + (size_t)y * row_c);
            if (t != MF_OK) {
                return t;
            }
        }
    }
    return MF_OK;
}
