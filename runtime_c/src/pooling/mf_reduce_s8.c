/*
 * mf_reduce_s8 - int8 reductions over any axes of a tensor of rank <= 5: sum or mean with one
 * requantization (TFLite Micro's QuantizedMeanOrSum; the mean's 1/count is folded into the
 * multiplier on the host), maximum and minimum (TFLite Micro's ReduceGeneric, raw values).
 *
 * The host merges neighbouring axes that are all kept or all reduced, so a reduction is at most
 * five nested loops over the kept axes (the output, in order) around five over the reduced ones.
 */
#include "mf_internal.h"

#include <stddef.h>

static int32_t mf_reduce_one(const mf_reduce_params *p,
                             const int8_t *in,
                             const int32_t *ext,
                             const int32_t *stride)
{
    int32_t acc = p->kind == MF_REDUCE_MAX ? MF_INT8_MIN : (p->kind == MF_REDUCE_MIN ? MF_INT8_MAX : 0);
    for (int32_t a = 0; a < ext[0]; a++) {
        for (int32_t b = 0; b < ext[1]; b++) {
            for (int32_t c = 0; c < ext[2]; c++) {
                for (int32_t d = 0; d < ext[3]; d++) {
                    const int8_t *row = in + (size_t)a * stride[0] + (size_t)b * stride[1] +
                                        (size_t)c * stride[2] + (size_t)d * stride[3];
                    const int32_t n = ext[4];
                    const int32_t s = stride[4];
                    if (p->kind == MF_REDUCE_SUM) {
                        for (int32_t e = 0; e < n; e++) {
                            acc += row[(size_t)e * s];
                        }
                    } else if (p->kind == MF_REDUCE_MAX) {
                        for (int32_t e = 0; e < n; e++) {
                            acc = mf_max_i32(acc, row[(size_t)e * s]);
                        }
                    } else {
                        for (int32_t e = 0; e < n; e++) {
                            acc = mf_min_i32(acc, row[(size_t)e * s]);
                        }
                    }
                }
            }
        }
    }
    return acc;
}

mf_status mf_reduce_s8(const mf_reduce_params *reduce_params,
                       const int32_t *shape,
                       const int32_t *reduced,
                       const int8_t *input,
                       int8_t *output)
{
    const mf_reduce_params params = *reduce_params;
    const mf_reduce_params *p = &params;
    if (p->kind < MF_REDUCE_SUM || p->kind > MF_REDUCE_MIN || !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    int32_t stride[MF_REDUCE_RANK];
    int32_t keep[MF_REDUCE_RANK];
    int32_t red[MF_REDUCE_RANK];
    int32_t count = 1;
    int32_t step = 1;
    for (int32_t i = MF_REDUCE_RANK - 1; i >= 0; i--) {
        if (shape[i] < 1) {
            return MF_ARG_ERROR;
        }
        stride[i] = step;
        step *= shape[i];
        keep[i] = reduced[i] ? 1 : shape[i];
        red[i] = reduced[i] ? shape[i] : 1;
        count *= red[i];
    }
    /* The sum of count int8 values plus offsets must stay inside int32. */
    if (p->kind == MF_REDUCE_SUM && count > (1 << 22)) {
        return MF_ARG_ERROR;
    }
    const int32_t offset_sum = p->input_offset * count;
    int8_t *out = output;
    for (int32_t a = 0; a < keep[0]; a++) {
        for (int32_t b = 0; b < keep[1]; b++) {
            for (int32_t c = 0; c < keep[2]; c++) {
                for (int32_t d = 0; d < keep[3]; d++) {
                    for (int32_t e = 0; e < keep[4]; e++) {
                        const int8_t *in = input + (size_t)a * stride[0] + (size_t)b * stride[1] +
                                           (size_t)c * stride[2] + (size_t)d * stride[3] +
                                           (size_t)e * stride[4];
                        const int32_t acc = mf_reduce_one(p, in, red, stride);
                        if (p->kind == MF_REDUCE_SUM) {
                            const int32_t v = mf_requantize(acc + offset_sum, p->multiplier, p->shift) +
                                              p->output_offset;
                            *out++ = (int8_t)mf_clamp_i32(v, p->activation.min, p->activation.max);
                        } else {
                            *out++ = (int8_t)acc;
                        }
                    }
                }
            }
        }
    }
    return MF_OK;
}
