/*
 * mf_svdf_s8_s8 - TFLite's SVDF layer, integer form with int8 time weights and an int8
 * persistent memory (stateful area).
 *
 * Follows TFLite Micro's integer SVDF instantiated for int8 state (EvalInt8SvdfReference in
 * kernels/svdf_common.cc, the variant TFLite Micro's keyword_scrambled_8bit model uses). The
 * steps are mf_svdf_s8's (see there); only the memory and time weights are int8: the feature
 * response saturates to [-128, 127], then gets the state zero point added and is stored
 * modulo 2^8, as the tflite-micro interpreter does. The zero points are folded into
 * feature_bias and bias on the host exactly as for mf_svdf_s8. The state (batches x filters x
 * memory int8, filter-major) belongs to the caller and must survive between calls.
 * Both inner loops are int8 dot products (SMLAD on the DSP path: four products per pair); the
 * requantizations use mf_requantize_fast (QuantizeMultiplier's multipliers are never negative).
 */
#include "mf_internal.h"

#include <stddef.h>
#include <string.h>

static int32_t mf_svdf8_dot(const int8_t *a, const int8_t *b, int32_t n, int32_t acc)
{
    int32_t i = 0;
#if MF_USE_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t av = mf_read_u32(a + i);
        const uint32_t bv = mf_read_u32(b + i);
        acc = mf_smlad(mf_sxtb16(av), mf_sxtb16(bv), acc);
        acc = mf_smlad(mf_sxtb16_ror8(av), mf_sxtb16_ror8(bv), acc);
    }
#endif
    for (; i < n; i++) {
        acc += (int32_t)a[i] * (int32_t)b[i];
    }
    return acc;
}

mf_status mf_svdf_s8_s8(const mf_svdf_params *p,
                        const mf_svdf_s8_weights *w,
                        const int8_t *input,
                        int8_t *state,
                        int8_t *output)
{
    const int32_t B = p->batches, I = p->input_size, F = p->num_filters, M = p->memory_size;
    if (B < 1 || I < 1 || F < 1 || M < 1 || p->rank < 1 || F % p->rank != 0 ||
        p->output_zp < MF_INT8_MIN || p->output_zp > MF_INT8_MAX ||
        p->state_zp < MF_INT8_MIN || p->state_zp > MF_INT8_MAX || state == NULL ||
        p->feature_multiplier < 0 || p->output_multiplier < 0 || p->feature_shift < -31 ||
        p->feature_shift > 31 || p->output_shift < -31 || p->output_shift > 31) {
        return MF_ARG_ERROR;
    }
    const int32_t units = F / p->rank;
    const size_t memory = (size_t)F * (size_t)M; /* state values per batch row */
    /* every filter's memory one step older; each filter's newest slot is rewritten below */
    memmove(state, state + 1, (size_t)B * memory - 1u);
    for (int32_t b = 0; b < B; b++) {
        const int8_t *x = input + (size_t)b * (size_t)I;
        int8_t *s = state + (size_t)b * memory;
        for (int32_t f = 0; f < F; f++) {
            const int32_t acc = mf_svdf8_dot(x, w->feature_weights + (size_t)f * (size_t)I, I,
                                             w->feature_bias[f]);
            const int32_t v = mf_clamp_i32(mf_requantize_fast(acc, p->feature_multiplier, p->feature_shift),
                                           MF_INT8_MIN, MF_INT8_MAX) + p->state_zp;
            /* TFLite Micro adds the zero point after the clamp and stores the sum narrowed to
             * int8, wrapping (its issue #2721); the same, without implementation-defined casts */
            s[(size_t)f * (size_t)M + (size_t)(M - 1)] = (int8_t)(((v + 128) & 0xFF) - 128);
        }
        for (int32_t u = 0; u < units; u++) {
            const size_t first = (size_t)u * (size_t)p->rank * (size_t)M; /* filter u * rank */
            const int32_t acc = mf_svdf8_dot(w->time_weights + first, s + first, p->rank * M, w->bias[u]);
            const int32_t y = mf_requantize_fast(acc, p->output_multiplier, p->output_shift) + p->output_zp;
            output[(size_t)b * (size_t)units + (size_t)u] = (int8_t)mf_clamp_i32(y, MF_INT8_MIN, MF_INT8_MAX);
        }
    }
    return MF_OK;
}
