/*
 * mf_transpose_conv_mve_s8 - the Helium (MVE) output-channel loop of mf_transpose_conv_s8: every
 * output channel of one output pixel from that pixel's int16 patch (input offset added). Output
 * channels sit in the four int32 lanes: a stored weight position s is one gather of the four
 * channels' bytes (rows `len` bytes apart in the phase block) and one VMLA by the patch value it
 * pairs with (full quads of a row are stored (0, 2, 1, 3), so stored position s pairs with patch
 * value s with bits 0 and 1 swapped inside full quads). The four sums are requantized as one
 * vector (mf_mve_nn.h); the last c_out % 4 channels are one tail-predicated group. Products and
 * sums are exact int32, as in the scalar loop. Internal: see mf_internal.h.
 */
#include "mf_internal.h"
#include "mf_mve_nn.h"

#include <stddef.h>

#if MF_USE_MVE

void mf_transpose_conv_mve_pixel(const int16_t *patch,
                                 const int8_t *block,
                                 int32_t len,
                                 int32_t c_out,
                                 const mf_nn_requant *rq,
                                 int8_t *out)
{
    const int32_t quads = len & ~3;
    /* byte offsets of the four channels' rows inside the block */
    const uint32x4_t rows = vreinterpretq_u32_s32(
        vmulq_n_s32(vreinterpretq_s32_u32(vidupq_n_u32(0, 1)), len));
    for (int32_t oc = 0; oc < c_out; oc += 4) {
        const mve_pred16_t p = vctp32q((uint32_t)(c_out - oc));
        const int8_t *w = block + (size_t)oc * (size_t)len;
        int32x4_t acc = mf_mve_bias4(rq->bias, oc, p);
        int32_t s = 0;
        for (; s < quads; s += 4) {
            acc = vmlaq_n_s32(acc, vldrbq_gather_offset_z_s32(w + s, rows, p), patch[s]);
            acc = vmlaq_n_s32(acc, vldrbq_gather_offset_z_s32(w + s + 1, rows, p), patch[s + 2]);
            acc = vmlaq_n_s32(acc, vldrbq_gather_offset_z_s32(w + s + 2, rows, p), patch[s + 1]);
            acc = vmlaq_n_s32(acc, vldrbq_gather_offset_z_s32(w + s + 3, rows, p), patch[s + 3]);
        }
        for (; s < len; s++) {
            acc = vmlaq_n_s32(acc, vldrbq_gather_offset_z_s32(w + s, rows, p), patch[s]);
        }
        mf_mve_requant_store4(rq, acc, oc, p, out + oc);
    }
}

#endif /* MF_USE_MVE */
