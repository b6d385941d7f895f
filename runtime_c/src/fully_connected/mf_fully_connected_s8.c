/*
 * mf_fully_connected_s8 - int8 dense layer over rows of accum_depth inputs, with per-tensor or
 * per-channel requantization.
 *
 * The bias comes with the input offset folded in (mf_nn.h), so the rows are plain int8 dot
 * products (mf_nn_mat_mult_s8.c): on a DSP core four output channels per pass with SXTB16 and
 * SMLAD, elsewhere (MVE included, where mf_nn_mat_mult_s8 runs in Helium) two rows by two
 * channels. Asymmetric weights (filter_offset != 0, per-tensor
 * only) add filter_offset * sum(x) per row.
 */
#include "mf_internal.h"

#include <stddef.h>

int32_t mf_fully_connected_s8_get_buffer_size(int32_t accum_depth, int32_t output_depth)
{
    (void)accum_depth;
    (void)output_depth;
    return 0;
}

/* filter_offset != 0: the plain loop, with the input-dependent term of the offset product. */
static void mf_fc_asymmetric(const mf_fc_params *p,
                             const mf_nn_requant *rq,
                             int32_t batches,
                             int32_t k,
                             int32_t n,
                             const int8_t *input,
                             const int8_t *filter,
                             int8_t *output)
{
    for (int32_t b = 0; b < batches; b++) {
        const int8_t *x = input + (size_t)b * k;
        int32_t sum_x = 0;
        for (int32_t i = 0; i < k; i++) {
            sum_x += x[i];
        }
        const int8_t *w = filter;
        for (int32_t o = 0; o < n; o++) {
            int32_t acc = mf_nn_bias(rq, o) + p->filter_offset * sum_x;
            for (int32_t i = 0; i < k; i++) {
                acc += x[i] * w[i];
            }
            w += k;
            *output++ = mf_nn_requant_out(rq, acc, o);
        }
    }
}

mf_status mf_fully_connected_s8(const mf_context *ctx,
                                const mf_fc_params *fc_params,
                                const mf_per_channel_quant_params *quant_params,
                                int32_t batches,
                                int32_t accum_depth,
                                int32_t output_depth,
                                const int8_t *input,
                                const int8_t *filter,
                                const int32_t *bias,
                                int8_t *output)
{
    const mf_fc_params *p = fc_params;
    (void)ctx;
    if (batches < 0 || accum_depth < 1 || output_depth < 1 ||
        !mf_activation_valid(&p->activation)) {
        return MF_ARG_ERROR;
    }
    const mf_nn_requant rq = {bias,
                              quant_params->multiplier,
                              quant_params->shift,
                              p->per_channel ? 1 : 0,
                              p->output_offset,
                              p->activation};
    const int32_t k = accum_depth;
    const int32_t n = output_depth;
    if (p->filter_offset != 0) {
        mf_fc_asymmetric(p, &rq, batches, k, n, input, filter, output);
        return MF_OK;
    }
    int32_t b = 0;
#if MF_USE_DSP && !MF_USE_MVE /* MVE: the int8 rows of mf_nn_mat_mult_s8 */
    for (; b < batches; b++) {
        mf_nn_vec_mat_mult_s8(input + (size_t)b * k, filter, k, n, &rq, output + (size_t)b * n);
    }
#else
    for (; b + 2 <= batches; b += 2) {
        const int8_t *x = input + (size_t)b * k;
        mf_nn_mat_mult_s8(x, x + k, filter, k, n, &rq, output + (size_t)b * n);
    }
    if (b < batches) {
        mf_nn_mat_mult_s8(input + (size_t)b * k, NULL, filter, k, n, &rq, output + (size_t)b * n);
    }
#endif
    return MF_OK;
}
