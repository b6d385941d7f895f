/*
 * mf_convolve_mve_s8 - the Helium (MVE) path of mf_convolve_s8: the receptive fields of two
 * output pixels gathered as int8 patches (im2col, padded cells holding the input zero point,
 * which the offset-folded bias makes contribute nothing), then both multiplied with the filter
 * by mf_nn_mat_mult_s8's MVE blocks. The patches are built with vector copies and fills: each
 * window row inside the image is one run of KW * C_in bytes (dilation 1 along x), copied 16
 * bytes per VLDRB/VSTRB pair with the last bytes under a tail predicate (a tail-predicated
 * DLSTP/LETP loop on the Cortex-M55), instead of library memcpy/memset calls, which cost more
 * than the copy itself on the short runs of first layers (3 input channels: 9-byte rows).
 * Called by mf_convolve_s8 after its argument checks. Internal: see mf_internal.h.
 */
#include "mf_internal.h"
#include "mf_mve_nn.h"

#include <stddef.h>

#if MF_USE_MVE

/* dst[0..n) = src[0..n). */
static inline void mf_mve_copy(int8_t *dst, const int8_t *src, int32_t n)
{
#if MF_MVE_ASM
    __asm__ volatile("wlstp.8 lr, %[n], 2f\n"
                     "1:\n\t"
                     "vldrb.8 q0, [%[s]], #16\n\t"
                     "vstrb.8 q0, [%[d]], #16\n\t"
                     "letp lr, 1b\n"
                     "2:\n"
                     : [d] "+r"(dst), [s] "+r"(src)
                     : [n] "r"(n)
                     : "q0", "lr", "memory");
#else
    for (int32_t i = 0; i < n; i += 16) {
        const mve_pred16_t m = vctp8q((uint32_t)(n - i));
        vstrbq_p_s8(dst + i, vldrbq_z_s8(src + i, m), m);
    }
#endif
}

/* dst[0..n) = v (16 copies of the byte in a vector). */
static inline void mf_mve_fill(int8_t *dst, int8x16_t v, int32_t n)
{
#if MF_MVE_ASM
    __asm__ volatile("wlstp.8 lr, %[n], 2f\n"
                     "1:\n\t"
                     "vstrb.8 %q[v], [%[d]], #16\n\t"
                     "letp lr, 1b\n"
                     "2:\n"
                     : [d] "+r"(dst)
                     : [n] "r"(n), [v] "w"(v)
                     : "lr", "memory");
#else
    for (int32_t i = 0; i < n; i += 16) {
        vstrbq_p_s8(dst + i, v, vctp8q((uint32_t)(n - i)));
    }
#endif
}

/* The receptive field of output pixel (oy, ox) as KH * KW * C_in bytes. */
static void mf_mve_patch(const mf_conv_params *p,
                         const mf_dims *input_dims,
                         const int8_t *in,
                         const mf_dims *filter_dims,
                         int32_t oy,
                         int32_t ox,
                         int8x16_t pad,
                         int8_t *patch)
{
    const int32_t cin = input_dims->c;
    const int32_t kw = filter_dims->w;
    const int32_t run = kw * cin;
    const int32_t y0 = oy * p->stride.h - p->padding.h;
    const int32_t x0 = ox * p->stride.w - p->padding.w;
    int32_t kx_lo = 0;
    int32_t kx_hi = kw;
    if (p->dilation.w == 1) {
        kx_lo = mf_clamp_i32(-x0, 0, kw);
        kx_hi = mf_clamp_i32(input_dims->w - x0, kx_lo, kw);
    }
    for (int32_t ky = 0; ky < filter_dims->h; ky++) {
        const int32_t iy = y0 + ky * p->dilation.h;
        if (iy < 0 || iy >= input_dims->h) {
            mf_mve_fill(patch, pad, run);
        } else if (p->dilation.w == 1) {
            const int8_t *row = in + (size_t)iy * input_dims->w * cin;
            if (kx_lo > 0) {
                mf_mve_fill(patch, pad, kx_lo * cin);
            }
            mf_mve_copy(patch + kx_lo * cin, row + (ptrdiff_t)(x0 + kx_lo) * cin,
                        (kx_hi - kx_lo) * cin);
            if (kx_hi < kw) {
                mf_mve_fill(patch + kx_hi * cin, pad, (kw - kx_hi) * cin);
            }
        } else {
            const int8_t *row = in + (size_t)iy * input_dims->w * cin;
            for (int32_t kx = 0; kx < kw; kx++) {
                const int32_t ix = x0 + kx * p->dilation.w;
                if (ix < 0 || ix >= input_dims->w) {
                    mf_mve_fill(patch + kx * cin, pad, cin);
                } else {
                    mf_mve_copy(patch + kx * cin, row + (size_t)ix * cin, cin);
                }
            }
        }
        patch += run;
    }
}

void mf_convolve_mve_s8(const mf_conv_params *p,
                        const mf_nn_requant *rq,
                        const mf_dims *input_dims,
                        const int8_t *input,
                        const mf_dims *filter_dims,
                        const int8_t *filter,
                        const mf_dims *output_dims,
                        int8_t *patches,
                        int8_t *output)
{
    const int32_t len = filter_dims->h * filter_dims->w * input_dims->c;
    const int32_t cout = output_dims->c;
    const int32_t ow = output_dims->w;
    const int32_t pixels = output_dims->h * ow;
    const size_t in_image = (size_t)input_dims->h * input_dims->w * input_dims->c;
    const int8x16_t pad = vdupq_n_s8((int8_t)(-p->input_offset));
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *in = input + (size_t)b * in_image;
        int32_t px = 0;
        for (; px + 2 <= pixels; px += 2) {
            const int32_t q = px + 1;
            mf_mve_patch(p, input_dims, in, filter_dims, px / ow, px % ow, pad, patches);
            mf_mve_patch(p, input_dims, in, filter_dims, q / ow, q % ow, pad, patches + len);
            mf_nn_mat_mult_s8(patches, patches + len, filter, len, cout, rq, output);
            output += 2 * cout;
        }
        if (px < pixels) {
            mf_mve_patch(p, input_dims, in, filter_dims, px / ow, px % ow, pad, patches);
            mf_nn_mat_mult_s8(patches, NULL, filter, len, cout, rq, output);
            output += cout;
        }
    }
}

#endif /* MF_USE_MVE */
