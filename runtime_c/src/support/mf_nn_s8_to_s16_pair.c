/*
 * mf_nn_s8_to_s16_pair - DSP path: two int8 rows widened to int16 and interleaved by quads in
 * the order SXTB16 leaves them, for mf_nn_mat_mult_s16_pair. Internal: see mf_internal.h.
 */
#include "mf_internal.h"

#if MF_USE_DSP

void mf_nn_s8_to_s16_pair(const int8_t *r0, const int8_t *r1, int16_t *dst, int32_t len)
{
    int32_t i = 0;
    for (; i + 4 <= len; i += 4) {
        const uint32_t v0 = mf_read_u32(r0 + i);
        const uint32_t v1 = mf_read_u32(r1 + i);
        mf_write_u32(dst, mf_sxtb16(v0));
        mf_write_u32(dst + 2, mf_sxtb16_ror8(v0));
        mf_write_u32(dst + 4, mf_sxtb16(v1));
        mf_write_u32(dst + 6, mf_sxtb16_ror8(v1));
        dst += 8;
    }
    const int32_t tail = len - i;
    for (int32_t j = 0; j < tail; j++) {
        dst[j] = r0[i + j];
        dst[tail + j] = r1[i + j];
    }
}

#endif /* MF_USE_DSP */
