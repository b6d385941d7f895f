/*
 * mf_svdf_s8 - TFLite's SVDF layer, integer form, with its persistent memory (stateful area).
 *
 * Follows TFLite Micro's integer SVDF (int8 input, feature weights and output, int16 time
 * weights and activation state, int32 bias). Each call:
 *   1. ages the memory: every filter's M slots move one step toward the oldest;
 *   2. fills the newest slot of each filter with its feature response to the input, the int32
 *      sum of (x - input zero point) * w requantized to the state's scale and saturated to
 *      int16, plus the state's zero point, stored modulo 2^16 (TFLite Micro adds the zero point
 *      after its clamp; with TF's int16 state, zero point 0, nothing wraps);
 *   3. for each unit, sums over its `rank` filters the dot product of the filter's memory
 *      (minus the state zero point) with its time weights, adds the bias and requantizes to
 *      int8 at the output's encoding. No fused activation, as in TFLite Micro.
 * The zero points are folded on the host, exactly in integers: feature_bias[f] holds -input
 * zero point x the sum of feature row f, and bias[u] holds the layer's bias minus the state zero
 * point x the sum of unit u's time weights, so the inner loops are plain dot products (SMLAD on
 * the DSP path: four int8 or two int16 products per pair of instructions; VMLADAV on the MVE
 * path: sixteen int8 or eight int16 products per instruction, predicated tails).
 * The state (batches x filters x memory int16, filter-major) belongs to the caller and must
 * survive between calls; the generated model keeps it outside the arena and resets it to the
 * state zero point. The sums are accumulated per unit directly, so no scratch is needed.
 */
#include "mf_internal.h"
#include "mf_rows_s8.h"

#include <stddef.h>
#include <string.h>

#if MF_USE_MVE
#include "mf_mve.h"
#endif

static int32_t mf_svdf_dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t acc)
{
    int32_t i = 0;
#if MF_USE_MVE
    /* sixteen int8 products per VMLADAVA, the tail masked by VCTP8 (zeroing loads) */
    for (; i < n; i += 16) {
        const mve_pred16_t p = vctp8q((uint32_t)(n - i));
        acc = vmladavaq_s8(acc, vldrbq_z_s8(x + i, p), vldrbq_z_s8(w + i, p));
    }
    return acc;
#elif MF_USE_DSP
    for (; i + 4 <= n; i += 4) {
        const uint32_t xv = mf_read_u32(x + i);
        const uint32_t wv = mf_read_u32(w + i);
        acc = mf_smlad(mf_sxtb16(xv), mf_sxtb16(wv), acc);
        acc = mf_smlad(mf_sxtb16_ror8(xv), mf_sxtb16_ror8(wv), acc);
    }
#endif
    for (; i < n; i++) {
        acc += (int32_t)x[i] * (int32_t)w[i];
    }
    return acc;
}

static int32_t mf_svdf_dot_s16(const int16_t *a, const int16_t *b, int32_t n, int32_t acc)
{
    int32_t i = 0;
#if MF_USE_MVE
    /* eight int16 products per VMLADAVA, the tail masked by VCTP16 */
    for (; i < n; i += 8) {
        const mve_pred16_t p = vctp16q((uint32_t)(n - i));
        acc = vmladavaq_s16(acc, vldrhq_z_s16(a + i, p), vldrhq_z_s16(b + i, p));
    }
    return acc;
#elif MF_USE_DSP
    for (; i + 2 <= n; i += 2) {
        acc = mf_smlad(mf_read_u32(a + i), mf_read_u32(b + i), acc);
    }
#endif
    for (; i < n; i++) {
        acc += (int32_t)a[i] * (int32_t)b[i];
    }
    return acc;
}

#if MF_USE_MVE
/* memmove(s, s + 1, n values) forward, eight values per load/store: each store ends below the
 * next load's start, so nothing is read after it was overwritten. */
static void mf_svdf_age_mve(int16_t *s, size_t n)
{
    for (size_t k = 0; k < n; k += 8) {
        const mve_pred16_t p = vctp16q((uint32_t)(n - k));
        vstrhq_p_s16(s + k, vldrhq_z_s16(s + k + 1, p), p);
    }
}
#endif

static void mf_svdf_feature(const mf_svdf_params *p, int32_t f, int32_t acc, int16_t *s)
{
    const int32_t M = p->memory_size;
    const int32_t v =
        mf_clamp_i32(mf_requantize_fast(acc, p->feature_multiplier, p->feature_shift), -32768, 32767) +
        p->state_zp;
    /* zero point after the clamp, stored modulo 2^16, as TFLite Micro (its issue #2721) */
    s[(size_t)f * (size_t)M + (size_t)(M - 1)] = (int16_t)(((v + 32768) & 0xFFFF) - 32768);
}

mf_status mf_svdf_s8(const mf_svdf_params *p,
                     const mf_svdf_weights *w,
                     const int8_t *input,
                     int16_t *state,
                     int8_t *output)
{
    const int32_t B = p->batches, I = p->input_size, F = p->num_filters, M = p->memory_size;
    if (B < 1 || I < 1 || F < 1 || M < 1 || p->rank < 1 || F % p->rank != 0 ||
        p->output_zp < MF_INT8_MIN || p->output_zp > MF_INT8_MAX || state == NULL) {
        return MF_ARG_ERROR;
    }
    const int32_t units = F / p->rank;
    const size_t memory = (size_t)F * (size_t)M; /* state values per batch row */
    /* 1. one step older: the flat buffer moves by one; each filter's newest slot is rewritten */
#if MF_USE_MVE
    mf_svdf_age_mve(state, (size_t)B * memory - 1u);
#else
    memmove(state, state + 1, ((size_t)B * memory - 1u) * sizeof(int16_t));
#endif
    for (int32_t b = 0; b < B; b++) {
        const int8_t *x = input + (size_t)b * (size_t)I;
        int16_t *s = state + (size_t)b * memory;
        /* 2. the feature filter's response goes into the newest slot */
        int32_t f = 0;
        for (; f + 4 <= F; f += 4) { /* four feature rows share each input load */
            int32_t sums[4];
            memcpy(sums, w->feature_bias + f, sizeof(sums));
            mf_dot4_rows_s8(x, w->feature_weights + (size_t)f * (size_t)I, I, sums);
            for (int32_t r = 0; r < 4; r++) {
                mf_svdf_feature(p, f + r, sums[r], s);
            }
        }
        for (; f < F; f++) {
            mf_svdf_feature(p, f, mf_svdf_dot_s8(x, w->feature_weights + (size_t)f * (size_t)I, I,
                                                 w->feature_bias[f]), s);
        }
        /* 3. time filter over each filter's memory, rank sum, bias, requantize */
        for (int32_t u = 0; u < units; u++) {
            const size_t first = (size_t)u * (size_t)p->rank * (size_t)M; /* filter u * rank */
            const int32_t acc = mf_svdf_dot_s16(w->time_weights + first, s + first, p->rank * M, w->bias[u]);
            const int32_t y = mf_requantize_fast(acc, p->output_multiplier, p->output_shift) + p->output_zp;
            output[(size_t)b * (size_t)units + (size_t)u] = (int8_t)mf_clamp_i32(y, MF_INT8_MIN, MF_INT8_MAX);
        }
    }
    return MF_OK;
}
