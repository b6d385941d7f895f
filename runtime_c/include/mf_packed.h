/*
 * mf_packed.h - the loops shared by the packed weight formats (int4, 4-bit codebook, sparse).
 * Internal; not part of the public API.
 *
 * Every packed convolution runs the same driver: argument and scratch checks, one int16 im2col
 * patch per output pixel (input offset added, padded cells 0), one inner product per output
 * channel, requantization. Every packed dense layer runs the same loop over rows and outputs,
 * adding the input offset on the fly. Only the inner product differs between formats: each
 * kernel file passes its own as ACCUMULATE, statements that add row `oc` (dense: `o`) of its
 * weights times the patch (dense: the row `x`) to `acc`, which starts at the bias. ROW_START
 * runs before the first output channel of every pixel (dense: every batch row): the sparse
 * format resets its mask and value pointers there, as rows are visited in order.
 *
 * Macros rather than functions taking an inner-product callback: measured on the digits CNN
 * (Cortex-M4, QEMU), an inline driver with a function-pointer inner product that GCC did inline
 * still cost 9-37% more instructions, as the extra arguments moved the filter pointer and the
 * loop bound out of registers in the innermost loop; the macro expands to the loops each kernel
 * had before, instruction for instruction.
 */
#ifndef MF_PACKED_H
#define MF_PACKED_H

#include "mf_internal.h"

#include <stddef.h>

/* One int16 im2col patch of KH * KW * C_in values: the scratch of every packed convolution. */
static inline int32_t mf_packed_conv_buffer_size(const mf_dims *input_dims,
                                                 const mf_dims *filter_dims)
{
    return filter_dims->h * filter_dims->w * input_dims->c * (int32_t)sizeof(int16_t);
}

/* The body of a packed convolution, whose arguments are mf_convolve_s8's (the filter aside). */
#define MF_PACKED_CONVOLVE(ROW_START, ACCUMULATE)                                                  \
    do {                                                                                           \
        const mf_conv_params *p = conv_params;                                                     \
        if (filter_dims->c != input_dims->c || output_dims->c != filter_dims->n ||                 \
            output_dims->n != input_dims->n || p->stride.h < 1 || p->stride.w < 1 ||               \
            p->dilation.h < 1 || p->dilation.w < 1 || p->padding.h < 0 || p->padding.w < 0 ||      \
            !mf_activation_valid(&p->activation)) {                                                \
            return MF_ARG_ERROR;                                                                   \
        }                                                                                          \
        const int32_t needed = mf_packed_conv_buffer_size(input_dims, filter_dims);                \
        if (ctx == NULL || ctx->buf == NULL || ctx->size < needed) {                               \
            return MF_NO_SCRATCH;                                                                  \
        }                                                                                          \
        assert(((uintptr_t)ctx->buf & 3u) == 0);                                                   \
        int16_t *patch = (int16_t *)ctx->buf;                                                      \
        const int32_t patch_len = filter_dims->h * filter_dims->w * input_dims->c;                 \
        const size_t in_image = (size_t)input_dims->h * input_dims->w * input_dims->c;            \
        for (int32_t b = 0; b < input_dims->n; b++) {                                              \
            const int8_t *in = input + (size_t)b * in_image;                                       \
            for (int32_t oy = 0; oy < output_dims->h; oy++) {                                      \
                for (int32_t ox = 0; ox < output_dims->w; ox++) {                                  \
                    mf_im2col_s16(p, input_dims, in, filter_dims, oy, ox, patch);                  \
                    ROW_START                                                                      \
                    for (int32_t oc = 0; oc < output_dims->c; oc++) {                              \
                        int32_t acc = bias != NULL ? bias[oc] : 0;                                 \
                        ACCUMULATE                                                                 \
                        *output++ = mf_requantize_to_s8(acc,                                       \
                                                        quant_params->multiplier[oc],              \
                                                        quant_params->shift[oc],                   \
                                                        p->output_offset,                          \
                                                        &p->activation);                           \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        return MF_OK;                                                                              \
    } while (0)

/* The body of a packed dense layer, whose arguments are mf_fully_connected_s8's (the filter
 * aside); the weights are symmetric (filter_offset 0) and the bias is the layer's own. */
#define MF_PACKED_FULLY_CONNECTED(ROW_START, ACCUMULATE)                                           \
    do {                                                                                           \
        const mf_fc_params *p = fc_params;                                                         \
        (void)ctx;                                                                                 \
        if (batches < 0 || accum_depth < 1 || output_depth < 1 || p->filter_offset != 0 ||         \
            !mf_activation_valid(&p->activation)) {                                                \
            return MF_ARG_ERROR;                                                                   \
        }                                                                                          \
        for (int32_t b = 0; b < batches; b++) {                                                    \
            const int8_t *x = input + (size_t)b * accum_depth;                                     \
            ROW_START                                                                              \
            for (int32_t o = 0; o < output_depth; o++) {                                           \
                int32_t acc = bias != NULL ? bias[o] : 0;                                          \
                ACCUMULATE                                                                         \
                const int32_t q = p->per_channel ? o : 0;                                          \
                *output++ = mf_requantize_to_s8(acc,                                               \
                                                quant_params->multiplier[q],                       \
                                                quant_params->shift[q],                            \
                                                p->output_offset,                                  \
                                                &p->activation);                                   \
            }                                                                                      \
        }                                                                                          \
        return MF_OK;                                                                              \
    } while (0)

#endif /* MF_PACKED_H */
