/*
 * mf_dsp.h - the Armv7E-M DSP instructions the kernels use, as small inline functions.
 *
 * On a core with the DSP extension (Cortex-M4/M7/M33/M55: __ARM_FEATURE_DSP) they are the ACLE
 * intrinsics of <arm_acle.h>, plus one inline-asm SXTB16 with its built-in rotation. With
 * MF_EMULATE_DSP defined they are portable C with the same results bit for bit, so the host
 * tests run the very DSP code paths the Cortex-M4 runs (little-endian hosts only).
 *
 *   mf_sxtb16(x)       bytes 0 and 2 of x sign-extended into halfwords 0 and 1
 *   mf_sxtb16_ror8(x)  bytes 1 and 3 of x sign-extended into halfwords 0 and 1
 *   mf_smlad(a, b, c)  c + a.h0 * b.h0 + a.h1 * b.h1 (wraps modulo 2^32)
 *   mf_smlabb(a, b, c) c + a.h0 * b.h0;  mf_smlatt(a, b, c) c + a.h1 * b.h1
 *   mf_ssat8(x)        x saturated to [-128, 127]
 *   mf_max_s8x4(a, b)  per-byte signed maximum (SSUB8 then SEL)
 *   mf_min_s8x4(a, b)  per-byte signed minimum (SSUB8 then SEL)
 *   mf_read_u32(p)     4 bytes from any address (an unaligned LDR on Armv7-M)
 */
#ifndef MF_DSP_H
#define MF_DSP_H

#include <stdint.h>
#include <string.h>

#if defined(MF_EMULATE_DSP)

static inline int32_t mf_half_lo(uint32_t x) { return (int32_t)(int16_t)(uint16_t)(x & 0xFFFFu); }

static inline int32_t mf_half_hi(uint32_t x) { return (int32_t)(int16_t)(uint16_t)(x >> 16); }

static inline uint32_t mf_sxtb16(uint32_t x)
{
    const uint32_t lo = (uint32_t)(uint16_t)(int16_t)(int8_t)(uint8_t)(x & 0xFFu);
    const uint32_t hi = (uint32_t)(uint16_t)(int16_t)(int8_t)(uint8_t)((x >> 16) & 0xFFu);
    return lo | (hi << 16);
}

static inline uint32_t mf_sxtb16_ror8(uint32_t x) { return mf_sxtb16((x >> 8) | (x << 24)); }

/* The sum is taken modulo 2^32, as the instruction does (it only sets the Q flag). */
static inline int32_t mf_smlad(uint32_t a, uint32_t b, int32_t c)
{
    const uint32_t lo = (uint32_t)(mf_half_lo(a) * mf_half_lo(b));
    const uint32_t hi = (uint32_t)(mf_half_hi(a) * mf_half_hi(b));
    return (int32_t)((uint32_t)c + lo + hi);
}

static inline int32_t mf_smlabb(uint32_t a, uint32_t b, int32_t c)
{
    return (int32_t)((uint32_t)c + (uint32_t)(mf_half_lo(a) * mf_half_lo(b)));
}

static inline int32_t mf_smlatt(uint32_t a, uint32_t b, int32_t c)
{
    return (int32_t)((uint32_t)c + (uint32_t)(mf_half_hi(a) * mf_half_hi(b)));
}

static inline int32_t mf_ssat8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }

/* Byte i of a word as a signed value. */
static inline int32_t mf_byte_s8(uint32_t x, int i)
{
    return (int32_t)(int8_t)(uint8_t)(x >> (8 * i));
}

static inline uint32_t mf_max_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) {
        const int32_t x = mf_byte_s8(a, i);
        const int32_t y = mf_byte_s8(b, i);
        const int32_t v = x >= y ? x : y;
        r |= (uint32_t)(uint8_t)v << (8 * i);
    }
    return r;
}

static inline uint32_t mf_min_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) {
        const int32_t x = mf_byte_s8(a, i);
        const int32_t y = mf_byte_s8(b, i);
        const int32_t v = x <= y ? x : y;
        r |= (uint32_t)(uint8_t)v << (8 * i);
    }
    return r;
}

#else /* the Arm instructions */

#include <arm_acle.h>

static inline uint32_t mf_sxtb16(uint32_t x) { return (uint32_t)__sxtb16((int32_t)x); }

static inline uint32_t mf_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

static inline int32_t mf_smlad(uint32_t a, uint32_t b, int32_t c)
{
    return __smlad((int32_t)a, (int32_t)b, c);
}

static inline int32_t mf_smlabb(uint32_t a, uint32_t b, int32_t c)
{
    return __smlabb((int32_t)a, (int32_t)b, c);
}

static inline int32_t mf_smlatt(uint32_t a, uint32_t b, int32_t c)
{
    return __smlatt((int32_t)a, (int32_t)b, c);
}

static inline int32_t mf_ssat8(int32_t x) { return __ssat(x, 8); }

/* SSUB8 sets the GE flags that SEL reads: one asm block keeps the pair together. */
static inline uint32_t mf_max_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}

static inline uint32_t mf_min_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}

#endif

static inline uint32_t mf_read_u32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void mf_write_u32(void *p, uint32_t v) { memcpy(p, &v, sizeof v); }

#endif /* MF_DSP_H */
