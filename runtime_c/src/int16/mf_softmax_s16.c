/*
 * mf_softmax_s16 - int16 softmax over the last axis (TFLite Micro's SoftmaxInt16): the
 * difference to the row maximum is scaled so that [-65535, 0] spans [-10, 0], looked up in the
 * interpolated exp table; the row sum is normalised by its leading zeros and looked up in the
 * 1 / (1 + x) table; every exp times that reciprocal, rounded. Output Q0.15 in [0, 32767].
 * The two 513-entry tables come from the host (compiler/mcuforge/ops/int16_tables.py).
 * The exps are kept in the output row until the sum is known; may run in place.
 */
#include "mf_fixed_point.h"
#include "mf_s16.h"

mf_status mf_softmax_s16(const mf_int16_activation_params *softmax_params,
                         int32_t rows,
                         int32_t depth,
                         const int16_t *exp_lut,
                         const int16_t *reciprocal_lut,
                         const int16_t *input,
                         int16_t *output)
{
    const mf_int16_activation_params p = *softmax_params;
    if (rows < 0 || depth < 1 || p.input_multiplier < 0) {
        return MF_ARG_ERROR;
    }
    for (int32_t r = 0; r < rows; r++) {
        const int16_t *in = input + (size_t)r * depth;
        int16_t *out = output + (size_t)r * depth;
        int32_t max_in_row = MF_INT16_MIN;
        for (int32_t c = 0; c < depth; c++) {
            max_in_row = mf_max_i32(max_in_row, in[c]);
        }
        int32_t sum = 0; /* Q16.15 */
        for (int32_t c = 0; c < depth; c++) {
            const int32_t scaled =
                mf_requantize(in[c] - max_in_row, p.input_multiplier, p.input_left_shift);
            const int16_t e =
                mf_lut_lookup_s16(mf_clamp_i32(scaled + 32767, MF_INT16_MIN, MF_INT16_MAX), exp_lut);
            out[c] = e;
            sum += e;
        }
        /* 1 / sum: sum normalised to [1, 2) in Q1.15 (rounded), x = sum - 1 recentred. */
        const int32_t clz = mf_clz_u32((uint32_t)sum);
        const int32_t shifted = (int32_t)((((int64_t)sum << (clz - 1)) + (1 << 13)) >> 14);
        const int16_t reciprocal = mf_lut_lookup_s16(
            mf_clamp_i32(shifted - ((1 << 15) + (1 << 16)), MF_INT16_MIN, MF_INT16_MAX),
            reciprocal_lut);
        const int32_t right = 31 - clz;
        const int64_t round = (int64_t)1 << (right - 1);
        for (int32_t c = 0; c < depth; c++) {
            const int64_t v = ((int64_t)out[c] * reciprocal + round) >> right;
            out[c] = (int16_t)(v < 0 ? 0 : (v > MF_INT16_MAX ? MF_INT16_MAX : v));
        }
    }
    return MF_OK;
}
