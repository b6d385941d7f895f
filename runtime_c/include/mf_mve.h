/*
 * mf_mve.h - the Helium (M-profile Vector Extension, MVE) intrinsics the kernels use.
 *
 * On a core with MVE (Cortex-M55/M85: __ARM_FEATURE_MVE) this is <arm_mve.h>. With
 * MF_EMULATE_MVE defined it defines the same vector types and the subset of intrinsics the
 * runtime uses in portable C, with the architecture's results bit for bit (Arm's MVE
 * intrinsics reference and the Armv8.1-M pseudocode), so the host tests run the very MVE code
 * paths the Cortex-M55 runs, also under ASan/UBSan (little-endian hosts only).
 *
 * Rules for kernel code, so that both builds accept it: only the explicitly typed intrinsic
 * names (vaddq_s32, never the overloaded vaddq), no C operators or brace initializers on vector
 * types, vectors built from memory or from vdupq_n/vsetq_lane. Semantics emulated:
 *   - 128-bit vectors: int8x16_t, uint8x16_t, int16x8_t, uint16x8_t, int32x4_t, uint32x4_t;
 *   - mve_pred16_t: one bit per byte of the vector, a lane active when its lowest byte's bit is
 *     set (vctp*q set all bits of the first n lanes);
 *   - integer arithmetic wraps modulo 2^lane-bits unless the name has a q (saturating);
 *   - vqrdmulhq: (2ab + 2^31) >> 32 saturated (only INT32_MIN * INT32_MIN saturates);
 *   - vshlq / vshlq_r: shift by the signed low byte of each lane (or of a scalar register),
 *     left when positive (bits past the lane lost), right (arithmetic, truncating) when negative;
 *   - vrshlq / vrshlq_n: the same with the right shifts rounding (+2^(n-1) before the shift,
 *     computed without overflow);
 *   - vmladav(a)q: the sum of the lane products (plus the accumulator), modulo 2^32;
 *   - zeroing loads (_z) leave inactive lanes 0 and read no memory for them; predicated stores
 *     (_p) write only active lanes; gathers and scatters address base + byte offset (or
 *     offset << log2(size) for _shifted_offset).
 */
#ifndef MF_MVE_H
#define MF_MVE_H

#include <stdint.h>

#if !defined(MF_EMULATE_MVE)

#include <arm_mve.h>

#else /* MF_EMULATE_MVE */

#include <string.h>

/* Out of line: every emulated intrinsic is a small loop, and inlining hundreds of them makes the
 * sanitizer build of the kernels take minutes. */
#if defined(__GNUC__)
#define MF_EMU_FN static __attribute__((unused, noinline))
#else
#define MF_EMU_FN static
#endif

typedef struct {
    int8_t v[16];
} int8x16_t;
typedef struct {
    uint8_t v[16];
} uint8x16_t;
typedef struct {
    int16_t v[8];
} int16x8_t;
typedef struct {
    uint16_t v[8];
} uint16x8_t;
typedef struct {
    int32_t v[4];
} int32x4_t;
typedef struct {
    uint32_t v[4];
} uint32x4_t;
typedef uint16_t mve_pred16_t;

/* ---- predicates ------------------------------------------------------------------------- */

/* The first min(n, lanes) lanes of `bytes`-byte lanes active. */
MF_EMU_FN mve_pred16_t mf_emu_vctp(uint32_t n, uint32_t bytes)
{
    const uint32_t lanes = 16u / bytes;
    const uint32_t active = n < lanes ? n : lanes;
    return (mve_pred16_t)(active * bytes >= 16 ? 0xFFFFu : ((1u << (active * bytes)) - 1u));
}

MF_EMU_FN mve_pred16_t vctp8q(uint32_t n) { return mf_emu_vctp(n, 1); }
MF_EMU_FN mve_pred16_t vctp16q(uint32_t n) { return mf_emu_vctp(n, 2); }
MF_EMU_FN mve_pred16_t vctp32q(uint32_t n) { return mf_emu_vctp(n, 4); }

MF_EMU_FN int mf_emu_on(mve_pred16_t p, int lane, int bytes)
{
    return (p >> (lane * bytes)) & 1;
}

/* ---- duplicates, lanes ------------------------------------------------------------------ */

MF_EMU_FN int8x16_t vdupq_n_s8(int8_t a)
{
    int8x16_t r;
    for (int i = 0; i < 16; i++) {
        r.v[i] = a;
    }
    return r;
}

MF_EMU_FN int16x8_t vdupq_n_s16(int16_t a)
{
    int16x8_t r;
    for (int i = 0; i < 8; i++) {
        r.v[i] = a;
    }
    return r;
}

MF_EMU_FN int32x4_t vdupq_n_s32(int32_t a)
{
    int32x4_t r;
    for (int i = 0; i < 4; i++) {
        r.v[i] = a;
    }
    return r;
}

MF_EMU_FN uint32x4_t vdupq_n_u32(uint32_t a)
{
    uint32x4_t r;
    for (int i = 0; i < 4; i++) {
        r.v[i] = a;
    }
    return r;
}

MF_EMU_FN int32x4_t vsetq_lane_s32(int32_t a, int32x4_t b, int lane)
{
    b.v[lane] = a;
    return b;
}

MF_EMU_FN int32_t vgetq_lane_s32(int32x4_t a, int lane) { return a.v[lane]; }

/* a, a + imm, a + 2 imm, a + 3 imm (imm 1, 2, 4 or 8). */
MF_EMU_FN uint32x4_t vidupq_n_u32(uint32_t a, int imm)
{
    uint32x4_t r;
    for (int i = 0; i < 4; i++) {
        r.v[i] = a + (uint32_t)(i * imm);
    }
    return r;
}

/* ---- contiguous loads: int8 to 8/16/32-bit lanes, int16, int32 -------------------------- */

#define MF_EMU_LOAD(name, vtype, etype, lanes, bytes, src_t)                                 \
    MF_EMU_FN vtype name(const src_t *p)                                                 \
    {                                                                                        \
        vtype r;                                                                             \
        for (int i = 0; i < (lanes); i++) {                                                  \
            r.v[i] = (etype)p[i];                                                            \
        }                                                                                    \
        return r;                                                                            \
    }                                                                                        \
    MF_EMU_FN vtype name##_z(const src_t *p, mve_pred16_t m)                             \
    {                                                                                        \
        vtype r;                                                                             \
        for (int i = 0; i < (lanes); i++) {                                                  \
            r.v[i] = mf_emu_on(m, i, (bytes)) ? (etype)p[i] : (etype)0;                      \
        }                                                                                    \
        return r;                                                                            \
    }

MF_EMU_LOAD(mf_emu_ldrb_s8, int8x16_t, int8_t, 16, 1, int8_t)
MF_EMU_LOAD(mf_emu_ldrb_u8, uint8x16_t, uint8_t, 16, 1, uint8_t)
MF_EMU_LOAD(mf_emu_ldrb_s16, int16x8_t, int16_t, 8, 2, int8_t)
MF_EMU_LOAD(mf_emu_ldrb_s32, int32x4_t, int32_t, 4, 4, int8_t)
MF_EMU_LOAD(mf_emu_ldrh_s16, int16x8_t, int16_t, 8, 2, int16_t)
MF_EMU_LOAD(mf_emu_ldrh_s32, int32x4_t, int32_t, 4, 4, int16_t)
MF_EMU_LOAD(mf_emu_ldrw_s32, int32x4_t, int32_t, 4, 4, int32_t)
MF_EMU_LOAD(mf_emu_ldrw_u32, uint32x4_t, uint32_t, 4, 4, uint32_t)
#undef MF_EMU_LOAD

#define vldrbq_s8(p) mf_emu_ldrb_s8(p)
#define vldrbq_z_s8(p, m) mf_emu_ldrb_s8_z(p, m)
#define vldrbq_u8(p) mf_emu_ldrb_u8(p)
#define vldrbq_s16(p) mf_emu_ldrb_s16(p)
#define vldrbq_z_s16(p, m) mf_emu_ldrb_s16_z(p, m)
#define vldrbq_s32(p) mf_emu_ldrb_s32(p)
#define vldrbq_z_s32(p, m) mf_emu_ldrb_s32_z(p, m)
#define vldrhq_s16(p) mf_emu_ldrh_s16(p)
#define vldrhq_z_s16(p, m) mf_emu_ldrh_s16_z(p, m)
#define vldrhq_s32(p) mf_emu_ldrh_s32(p)
#define vldrhq_z_s32(p, m) mf_emu_ldrh_s32_z(p, m)
#define vldrwq_s32(p) mf_emu_ldrw_s32(p)
#define vldrwq_z_s32(p, m) mf_emu_ldrw_s32_z(p, m)
#define vldrwq_u32(p) mf_emu_ldrw_u32(p)

/* ---- gathers: base + byte offset (int8 to int32 lanes), base + 4 * offset (int32) ------- */

MF_EMU_FN int32x4_t vldrbq_gather_offset_s32(const int8_t *base, uint32x4_t offset)
{
    int32x4_t r;
    for (int i = 0; i < 4; i++) {
        r.v[i] = base[offset.v[i]];
    }
    return r;
}

MF_EMU_FN int32x4_t vldrbq_gather_offset_z_s32(const int8_t *base,
                                                   uint32x4_t offset,
                                                   mve_pred16_t m)
{
    int32x4_t r;
    for (int i = 0; i < 4; i++) {
        r.v[i] = mf_emu_on(m, i, 4) ? base[offset.v[i]] : 0;
    }
    return r;
}

MF_EMU_FN int32x4_t vldrwq_gather_shifted_offset_s32(const int32_t *base, uint32x4_t offset)
{
    int32x4_t r;
    for (int i = 0; i < 4; i++) {
        r.v[i] = base[offset.v[i]];
    }
    return r;
}

/* ---- stores: int8 lanes, 32-bit lanes narrowed to their low byte, int32 ----------------- */

MF_EMU_FN void vstrbq_s8(int8_t *p, int8x16_t a) { memcpy(p, a.v, 16); }

MF_EMU_FN void vstrbq_p_s8(int8_t *p, int8x16_t a, mve_pred16_t m)
{
    for (int i = 0; i < 16; i++) {
        if (mf_emu_on(m, i, 1)) {
            p[i] = a.v[i];
        }
    }
}

MF_EMU_FN void vstrbq_s16(int8_t *p, int16x8_t a)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (int8_t)(uint8_t)((uint16_t)a.v[i] & 0xFFu);
    }
}

MF_EMU_FN void vstrbq_p_s16(int8_t *p, int16x8_t a, mve_pred16_t m)
{
    for (int i = 0; i < 8; i++) {
        if (mf_emu_on(m, i, 2)) {
            p[i] = (int8_t)(uint8_t)((uint16_t)a.v[i] & 0xFFu);
        }
    }
}

MF_EMU_FN void vstrbq_s32(int8_t *p, int32x4_t a)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (int8_t)(uint8_t)((uint32_t)a.v[i] & 0xFFu);
    }
}

MF_EMU_FN void vstrbq_p_s32(int8_t *p, int32x4_t a, mve_pred16_t m)
{
    for (int i = 0; i < 4; i++) {
        if (mf_emu_on(m, i, 4)) {
            p[i] = (int8_t)(uint8_t)((uint32_t)a.v[i] & 0xFFu);
        }
    }
}

MF_EMU_FN void vstrwq_s32(int32_t *p, int32x4_t a) { memcpy(p, a.v, 16); }

MF_EMU_FN void vstrwq_p_s32(int32_t *p, int32x4_t a, mve_pred16_t m)
{
    for (int i = 0; i < 4; i++) {
        if (mf_emu_on(m, i, 4)) {
            p[i] = a.v[i];
        }
    }
}

MF_EMU_FN void vstrbq_scatter_offset_s32(int8_t *base, uint32x4_t offset, int32x4_t a)
{
    for (int i = 0; i < 4; i++) {
        base[offset.v[i]] = (int8_t)(uint8_t)((uint32_t)a.v[i] & 0xFFu);
    }
}

MF_EMU_FN void vstrbq_scatter_offset_p_s32(int8_t *base,
                                               uint32x4_t offset,
                                               int32x4_t a,
                                               mve_pred16_t m)
{
    for (int i = 0; i < 4; i++) {
        if (mf_emu_on(m, i, 4)) {
            base[offset.v[i]] = (int8_t)(uint8_t)((uint32_t)a.v[i] & 0xFFu);
        }
    }
}

/* ---- lane-wise arithmetic on int32 lanes ------------------------------------------------ */

MF_EMU_FN int32_t mf_emu_wrap32(int64_t x) { return (int32_t)(uint32_t)(uint64_t)x; }

MF_EMU_FN int32_t mf_emu_sat32(int64_t x)
{
    return x > INT32_MAX ? INT32_MAX : (x < INT32_MIN ? INT32_MIN : (int32_t)x);
}

#define MF_EMU_BINARY_S32(name, expr)                                                         \
    MF_EMU_FN int32x4_t name(int32x4_t a, int32x4_t b)                                   \
    {                                                                                        \
        int32x4_t r;                                                                         \
        for (int i = 0; i < 4; i++) {                                                        \
            const int64_t x = a.v[i];                                                        \
            const int64_t y = b.v[i];                                                        \
            r.v[i] = (expr);                                                                 \
        }                                                                                    \
        return r;                                                                            \
    }

MF_EMU_BINARY_S32(vaddq_s32, mf_emu_wrap32(x + y))
MF_EMU_BINARY_S32(vsubq_s32, mf_emu_wrap32(x - y))
MF_EMU_BINARY_S32(vmulq_s32, mf_emu_wrap32((int64_t)((uint64_t)x * (uint64_t)y)))
MF_EMU_BINARY_S32(vqaddq_s32, mf_emu_sat32(x + y))
MF_EMU_BINARY_S32(vmaxq_s32, x > y ? (int32_t)x : (int32_t)y)
MF_EMU_BINARY_S32(vminq_s32, x < y ? (int32_t)x : (int32_t)y)
MF_EMU_BINARY_S32(vandq_s32, (int32_t)((uint32_t)x & (uint32_t)y))
#undef MF_EMU_BINARY_S32

MF_EMU_FN int32x4_t vaddq_n_s32(int32x4_t a, int32_t b) { return vaddq_s32(a, vdupq_n_s32(b)); }

MF_EMU_FN int32x4_t vmulq_n_s32(int32x4_t a, int32_t b) { return vmulq_s32(a, vdupq_n_s32(b)); }

/* add + m1 * m2 (VMLA, vector by scalar). */
MF_EMU_FN int32x4_t vmlaq_n_s32(int32x4_t add, int32x4_t m1, int32_t m2)
{
    return vaddq_s32(add, vmulq_n_s32(m1, m2));
}

/* m1 * m2 + add (VMLAS: vector times vector plus scalar). */
MF_EMU_FN int32x4_t vmlasq_n_s32(int32x4_t m1, int32x4_t m2, int32_t add)
{
    return vaddq_n_s32(vmulq_s32(m1, m2), add);
}

/* Saturating rounding doubling multiply, high half: (2ab + 2^31) >> 32. */
MF_EMU_FN int32_t mf_emu_qrdmulh(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b; /* |ab| < 2^62 here: 2ab + 2^31 fits */
    return (int32_t)((2 * ab + ((int64_t)1 << 31)) >> 32); /* arithmetic: floors */
}

MF_EMU_FN int32x4_t vqrdmulhq_s32(int32x4_t a, int32x4_t b)
{
    int32x4_t r;
    for (int i = 0; i < 4; i++) {
        r.v[i] = mf_emu_qrdmulh(a.v[i], b.v[i]);
    }
    return r;
}

MF_EMU_FN int32x4_t vqrdmulhq_n_s32(int32x4_t a, int32_t b)
{
    return vqrdmulhq_s32(a, vdupq_n_s32(b));
}

/* x shifted by the signed amount n (left when n > 0, bits past the lane lost; arithmetic right
 * when n < 0), rounding the right shifts when `rounding`. */
MF_EMU_FN int32_t mf_emu_shift32(int32_t x, int32_t n, int rounding)
{
    if (n >= 0) {
        return n >= 32 ? 0 : (int32_t)((uint32_t)x << n);
    }
    const int32_t s = -n > 40 ? 40 : -n;
    int64_t v = x;
    if (rounding) {
        v += (int64_t)1 << (s - 1);
    }
    /* >> of a negative value is arithmetic on every compiler we target (as mf_internal.h). */
    return (int32_t)(v >> s);
}

MF_EMU_FN int32x4_t mf_emu_shl_s32(int32x4_t a, int32x4_t b, int rounding)
{
    int32x4_t r;
    for (int i = 0; i < 4; i++) {
        r.v[i] = mf_emu_shift32(a.v[i], (int8_t)(uint8_t)((uint32_t)b.v[i] & 0xFFu), rounding);
    }
    return r;
}

MF_EMU_FN int32x4_t vshlq_s32(int32x4_t a, int32x4_t b) { return mf_emu_shl_s32(a, b, 0); }

MF_EMU_FN int32x4_t vrshlq_s32(int32x4_t a, int32x4_t b) { return mf_emu_shl_s32(a, b, 1); }

/* Shift by a scalar register (its low byte, signed). */
MF_EMU_FN int32x4_t vshlq_r_s32(int32x4_t a, int32_t b)
{
    return mf_emu_shl_s32(a, vdupq_n_s32(b), 0);
}

MF_EMU_FN int32x4_t vrshlq_n_s32(int32x4_t a, int32_t b)
{
    return mf_emu_shl_s32(a, vdupq_n_s32(b), 1);
}

/* Immediate shifts: left by [0, 31], arithmetic right by [1, 32]. */
MF_EMU_FN int32x4_t vshlq_n_s32(int32x4_t a, int imm)
{
    return mf_emu_shl_s32(a, vdupq_n_s32(imm), 0);
}

MF_EMU_FN int32x4_t vshrq_n_s32(int32x4_t a, int imm)
{
    return mf_emu_shl_s32(a, vdupq_n_s32(-imm), 0);
}

/* ---- across-vector sums ----------------------------------------------------------------- */

MF_EMU_FN int32_t vmladavaq_s8(int32_t acc, int8x16_t a, int8x16_t b)
{
    uint32_t s = (uint32_t)acc;
    for (int i = 0; i < 16; i++) {
        s += (uint32_t)((int32_t)a.v[i] * b.v[i]);
    }
    return (int32_t)s;
}

MF_EMU_FN int32_t vmladavq_s8(int8x16_t a, int8x16_t b) { return vmladavaq_s8(0, a, b); }

MF_EMU_FN int32_t vmladavaq_s16(int32_t acc, int16x8_t a, int16x8_t b)
{
    uint32_t s = (uint32_t)acc;
    for (int i = 0; i < 8; i++) {
        s += (uint32_t)((int32_t)a.v[i] * b.v[i]);
    }
    return (int32_t)s;
}

MF_EMU_FN int32_t vmladavaq_s32(int32_t acc, int32x4_t a, int32x4_t b)
{
    uint32_t s = (uint32_t)acc;
    for (int i = 0; i < 4; i++) {
        s += (uint32_t)a.v[i] * (uint32_t)b.v[i];
    }
    return (int32_t)s;
}

MF_EMU_FN int32_t vaddvaq_s8(int32_t acc, int8x16_t a)
{
    uint32_t s = (uint32_t)acc;
    for (int i = 0; i < 16; i++) {
        s += (uint32_t)(int32_t)a.v[i];
    }
    return (int32_t)s;
}

MF_EMU_FN int32_t vaddvaq_s32(int32_t acc, int32x4_t a)
{
    uint32_t s = (uint32_t)acc;
    for (int i = 0; i < 4; i++) {
        s += (uint32_t)a.v[i];
    }
    return (int32_t)s;
}

MF_EMU_FN int32_t vaddvq_s32(int32x4_t a) { return vaddvaq_s32(0, a); }

/* ---- int8 lanes --------------------------------------------------------------------------- */

MF_EMU_FN int8x16_t vmaxq_s8(int8x16_t a, int8x16_t b)
{
    for (int i = 0; i < 16; i++) {
        a.v[i] = a.v[i] > b.v[i] ? a.v[i] : b.v[i];
    }
    return a;
}

MF_EMU_FN int8x16_t vminq_s8(int8x16_t a, int8x16_t b)
{
    for (int i = 0; i < 16; i++) {
        a.v[i] = a.v[i] < b.v[i] ? a.v[i] : b.v[i];
    }
    return a;
}

/* ---- int16 lanes --------------------------------------------------------------------------- */

MF_EMU_FN int16x8_t vaddq_s16(int16x8_t a, int16x8_t b)
{
    for (int i = 0; i < 8; i++) {
        a.v[i] = (int16_t)(uint16_t)((uint32_t)(uint16_t)a.v[i] + (uint16_t)b.v[i]);
    }
    return a;
}

/* ---- used by the recurrent and int16 kernels ------------------------------------------- */

MF_EMU_FN uint32x4_t vreinterpretq_u32_s32(int32x4_t a)
{
    uint32x4_t r;
    memcpy(r.v, a.v, 16);
    return r;
}

MF_EMU_FN int32x4_t vreinterpretq_s32_u32(uint32x4_t a)
{
    int32x4_t r;
    memcpy(r.v, a.v, 16);
    return r;
}

/* |a| per lane, wrapping (VABS: INT32_MIN stays INT32_MIN) */
MF_EMU_FN int32x4_t vabsq_s32(int32x4_t a)
{
    for (int i = 0; i < 4; i++) {
        a.v[i] = a.v[i] < 0 ? (int32_t)(0u - (uint32_t)a.v[i]) : a.v[i];
    }
    return a;
}

/* the high half of the signed 64-bit product per lane (VMULH, no rounding) */
MF_EMU_FN int32x4_t vmulhq_s32(int32x4_t a, int32x4_t b)
{
    for (int i = 0; i < 4; i++) {
        const int64_t prod = (int64_t)a.v[i] * b.v[i];
        a.v[i] = (int32_t)(prod >> 32);
    }
    return a;
}

/* the largest of a and every lane of b (VMAXV) */
MF_EMU_FN int32_t vmaxvq_s32(int32_t a, int32x4_t b)
{
    for (int i = 0; i < 4; i++) {
        a = b.v[i] > a ? b.v[i] : a;
    }
    return a;
}

/* acc + the sum of the lane products, in 64 bits (VMLALDAVA) */
MF_EMU_FN int64_t vmlaldavaq_s16(int64_t acc, int16x8_t a, int16x8_t b)
{
    for (int i = 0; i < 8; i++) {
        acc += (int64_t)a.v[i] * b.v[i];
    }
    return acc;
}

/* a predicate with all four bits of each 32-bit lane that compares true */
MF_EMU_FN mve_pred16_t mf_emu_lanes32(const int *on)
{
    mve_pred16_t m = 0;
    for (int i = 0; i < 4; i++) {
        m = (mve_pred16_t)(m | (on[i] ? 0xFu << (4 * i) : 0u));
    }
    return m;
}

MF_EMU_FN mve_pred16_t vcmpgeq_n_s32(int32x4_t a, int32_t b)
{
    const int on[4] = {a.v[0] >= b, a.v[1] >= b, a.v[2] >= b, a.v[3] >= b};
    return mf_emu_lanes32(on);
}

MF_EMU_FN mve_pred16_t vcmpltq_n_s32(int32x4_t a, int32_t b)
{
    const int on[4] = {a.v[0] < b, a.v[1] < b, a.v[2] < b, a.v[3] < b};
    return mf_emu_lanes32(on);
}

/* lane i from a where the predicate is on, else from b (VPSEL) */
MF_EMU_FN int32x4_t vpselq_s32(int32x4_t a, int32x4_t b, mve_pred16_t p)
{
    for (int i = 0; i < 4; i++) {
        b.v[i] = mf_emu_on(p, i, 4) ? a.v[i] : b.v[i];
    }
    return b;
}

/* unsigned 16-bit table entries base[offset[i]], zero-extended (VLDRH gather, shifted offset) */
MF_EMU_FN uint32x4_t vldrhq_gather_shifted_offset_u32(const uint16_t *base, uint32x4_t offset)
{
    uint32x4_t r;
    for (int i = 0; i < 4; i++) {
        r.v[i] = base[offset.v[i]];
    }
    return r;
}

/* the low 16 bits of each 32-bit lane (VSTRH, narrowing) */
MF_EMU_FN void vstrhq_s32(int16_t *p, int32x4_t a)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (int16_t)(uint16_t)(uint32_t)a.v[i];
    }
}

MF_EMU_FN void vstrhq_p_s16(int16_t *p, int16x8_t a, mve_pred16_t m)
{
    for (int i = 0; i < 8; i++) {
        if (mf_emu_on(m, i, 2)) {
            p[i] = a.v[i];
        }
    }
}

/* ---- speed-m55 (issue 12): int16 lanes for the depthwise 3x3 of mf_depthwise_conv3_mve16_s8.c -- */

/* a, a + imm, ... (eight 16-bit lanes, imm 1, 2, 4 or 8). */
MF_EMU_FN uint16x8_t vidupq_n_u16(uint32_t a, int imm)
{
    uint16x8_t r;
    for (int i = 0; i < 8; i++) {
        r.v[i] = (uint16_t)(a + (uint32_t)(i * imm));
    }
    return r;
}

/* Lane i: base[offset[i]] sign-extended (byte offsets). */
MF_EMU_FN int16x8_t vldrbq_gather_offset_s16(const int8_t *base, uint16x8_t offset)
{
    int16x8_t r;
    for (int i = 0; i < 8; i++) {
        r.v[i] = base[offset.v[i]];
    }
    return r;
}

/* VMULLB / VMULLT: the products of the even (bottom) or odd (top) int16 lanes as int32. */
MF_EMU_FN int32x4_t vmullbq_int_s16(int16x8_t a, int16x8_t b)
{
    int32x4_t r;
    for (int i = 0; i < 4; i++) {
        r.v[i] = (int32_t)a.v[2 * i] * b.v[2 * i];
    }
    return r;
}

MF_EMU_FN int32x4_t vmulltq_int_s16(int16x8_t a, int16x8_t b)
{
    int32x4_t r;
    for (int i = 0; i < 4; i++) {
        r.v[i] = (int32_t)a.v[2 * i + 1] * b.v[2 * i + 1];
    }
    return r;
}

MF_EMU_FN int16_t mf_emu_sat16(int32_t x)
{
    return (int16_t)(x > INT16_MAX ? INT16_MAX : x < INT16_MIN ? INT16_MIN : x);
}

/* VQMOVNB / VQMOVNT: b saturated to int16 into the even (bottom) or odd (top) lanes of a. */
MF_EMU_FN int16x8_t vqmovnbq_s32(int16x8_t a, int32x4_t b)
{
    for (int i = 0; i < 4; i++) {
        a.v[2 * i] = mf_emu_sat16(b.v[i]);
    }
    return a;
}

MF_EMU_FN int16x8_t vqmovntq_s32(int16x8_t a, int32x4_t b)
{
    for (int i = 0; i < 4; i++) {
        a.v[2 * i + 1] = mf_emu_sat16(b.v[i]);
    }
    return a;
}

MF_EMU_FN int16x8_t vqaddq_s16(int16x8_t a, int16x8_t b)
{
    for (int i = 0; i < 8; i++) {
        a.v[i] = mf_emu_sat16((int32_t)a.v[i] + b.v[i]);
    }
    return a;
}

MF_EMU_FN int16x8_t vmaxq_s16(int16x8_t a, int16x8_t b)
{
    for (int i = 0; i < 8; i++) {
        a.v[i] = a.v[i] > b.v[i] ? a.v[i] : b.v[i];
    }
    return a;
}

MF_EMU_FN int16x8_t vminq_s16(int16x8_t a, int16x8_t b)
{
    for (int i = 0; i < 8; i++) {
        a.v[i] = a.v[i] < b.v[i] ? a.v[i] : b.v[i];
    }
    return a;
}

#endif /* MF_EMULATE_MVE */

#endif /* MF_MVE_H */
