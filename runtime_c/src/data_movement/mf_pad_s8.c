/*
 * mf_pad_s8 - constant padding of a 4-D int8 tensor.
 *
 * Written row by row: a whole padded (n, h) row of the output is either all constant or
 * constant - input row - constant, so memset/memcpy do the work.
 */
#include "mf_internal.h"

#include <stddef.h>
#include <string.h>

mf_status mf_pad_s8(const mf_pad_params *pad_params,
                     const mf_dims *input_dims,
                     const int8_t *input,
                     int8_t *output)
{
    const mf_pad_params *p = pad_params;
    for (int32_t i = 0; i < 4; i++) {
        if (p->before[i] < 0 || p->after[i] < 0) {
            return MF_ARG_ERROR;
        }
    }
    const int32_t on = input_dims->n + p->before[0] + p->after[0];
    const int32_t oh = input_dims->h + p->before[1] + p->after[1];
    const int32_t ow = input_dims->w + p->before[2] + p->after[2];
    const int32_t oc = input_dims->c + p->before[3] + p->after[3];
    const size_t out_row = (size_t)ow * oc; /* one output (n, h) row */
    const size_t in_pixel = (size_t)input_dims->c;
    const int8_t value = p->value;

    for (int32_t n = 0; n < on; n++) {
        const int32_t in_n = n - p->before[0];
        for (int32_t h = 0; h < oh; h++) {
            const int32_t in_h = h - p->before[1];
            if (in_n < 0 || in_n >= input_dims->n || in_h < 0 || in_h >= input_dims->h) {
                memset(output, value, out_row);
                output += out_row;
                continue;
            }
            const int8_t *src =
                input + ((size_t)in_n * input_dims->h + in_h) * input_dims->w * in_pixel;
            memset(output, value, (size_t)p->before[2] * oc);
            output += (size_t)p->before[2] * oc;
            for (int32_t w = 0; w < input_dims->w; w++) {
                memset(output, value, (size_t)p->before[3]);
                output += p->before[3];
                memcpy(output, src, in_pixel);
                output += in_pixel;
                src += in_pixel;
                memset(output, value, (size_t)p->after[3]);
                output += p->after[3];
            }
            memset(output, value, (size_t)p->after[2] * oc);
            output += (size_t)p->after[2] * oc;
        }
    }
    return MF_OK;
}
