/*
 * mf_binary.h - inner products of the 1-bit (b1) weight format. Internal; not part of the
 * public API.
 *
 * A b1 weight is +1 or -1: bit k of the packed stream (bit k % 8 of byte k / 8, least
 * significant first) is set for +1 and clear for -1; rows follow each other bit after bit, so
 * a row may start mid-byte (compiler/mcuforge/ops/packed_weights.py, pack_b1). No weight is
 * ever multiplied.
 *
 * The kernels work on u = x + 128, the int8 inputs as unsigned bytes (x ^ 0x80), so that
 *     sum_k s_k * (x_k + input_offset) = 2 * S - T + (input_offset - 128) * sum_k s_k
 * where S is the sum of u over the set bits and T the sum of u over the row. The last term does
 * not depend on the input (padded cells hold u = 128 - input_offset, i.e. x + input_offset = 0):
 * the compiler folds it into the bias. T is computed once per patch (convolution) or input row
 * (dense). For S, bits are read 32 weights per word once a row's bits are byte-aligned (bit by
 * bit in the unaligned head and tail), and each nibble of bits selects a byte mask from a
 * 16-entry table that keeps the four inputs of its set bits; on a DSP core (MF_USE_DSP) one
 * USADA8 adds them, in portable C two masked adds into 16-bit lanes (SWAR).
 */
#ifndef MF_BINARY_H
#define MF_BINARY_H

#include "mf_internal.h"

/* 0 for a clear bit j of `bits`, all ones for a set one. */
#define MF_B1_MASK(bits, j) (-(int32_t)(((bits) >> (j)) & 1u))

/* u[j] ^ fb (fb: 0, or 0x80 to read int8 bytes as x + 128) and over the set bits of `bits`. */
#define MF_B1_AT(u, j, bits) ((int32_t)((u)[j] ^ fb) & MF_B1_MASK(bits, j))

/* Four bytes of the bit stream as a word, byte 0 lowest (any alignment, any byte order). */
static inline uint32_t mf_b1_word(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Byte j of entry n is 0xFF when bit j of nibble n is set. */
#define MF_B1_BYTES(n)                                                                             \
    (((n) & 1u ? 0xFFu : 0u) | ((n) & 2u ? 0xFF00u : 0u) | ((n) & 4u ? 0xFF0000u : 0u) |           \
     ((n) & 8u ? 0xFF000000u : 0u))

/* Four bytes of u from any address. */
static inline uint32_t mf_b1_read(const uint8_t *u)
{
    uint32_t v;
    memcpy(&v, u, sizeof v);
    return v;
}

#if MF_USE_DSP
#if defined(MF_EMULATE_DSP)
/* acc + the sum of the four unsigned bytes of x (USADA8 against 0). */
static inline uint32_t mf_b1_usada8(uint32_t x, uint32_t acc)
{
    return acc + (x & 0xFFu) + ((x >> 8) & 0xFFu) + ((x >> 16) & 0xFFu) + (x >> 24);
}
#else
static inline uint32_t mf_b1_usada8(uint32_t x, uint32_t acc) { return __usada8(x, 0u, acc); }
#endif
/* S over 8 bytes u[k..k+7] for the bit byte b (u: the bytes as stored, as unsigned). */
#define MF_B1_BYTE(k, b)                                                                           \
    do {                                                                                           \
        set = mf_b1_usada8((mf_read_u32(u + (k)) ^ flip) & masks[(b) & 15u], set);                 \
        set = mf_b1_usada8((mf_read_u32(u + (k) + 4) ^ flip) & masks[(b) >> 4], set);              \
    } while (0)
#define MF_B1_WORD_DONE()
#else
/* Portable: the selected bytes added in two 16-bit lanes of `lanes` (SWAR), which MF_B1_WORD_DONE
 * folds into `set` after at most 32 weights (8 * 2 * 255 per lane: no carry between lanes). */
#define MF_B1_LANES(k, n)                                                                          \
    do {                                                                                           \
        const uint32_t v = (mf_b1_read(u + (k)) ^ flip) & masks[(n)];                              \
        lanes += (v & 0x00FF00FFu) + ((v >> 8) & 0x00FF00FFu);                                     \
    } while (0)
#define MF_B1_BYTE(k, b)                                                                           \
    do {                                                                                           \
        MF_B1_LANES(k, (b) & 15u);                                                                 \
        MF_B1_LANES((k) + 4, (b) >> 4);                                                            \
    } while (0)
#define MF_B1_WORD_DONE()                                                                          \
    do {                                                                                           \
        set += (lanes & 0xFFFFu) + (lanes >> 16);                                                  \
        lanes = 0;                                                                                 \
    } while (0)
#endif

/* The sum of u[k] ^ flip over the set bits among len weights from bit `first` of `packed`; flip
 * is 0 (u already unsigned) or 0x80808080 (u holds int8 x: each byte read as x + 128). */
static inline int32_t mf_b1_set_u8(const uint8_t *u,
                                   uint32_t flip,
                                   const uint8_t *packed,
                                   int32_t first,
                                   int32_t len)
{
    const uint32_t fb = flip & 0xFFu;
    static const uint32_t masks[16] = {
        MF_B1_BYTES(0u),  MF_B1_BYTES(1u),  MF_B1_BYTES(2u),  MF_B1_BYTES(3u),
        MF_B1_BYTES(4u),  MF_B1_BYTES(5u),  MF_B1_BYTES(6u),  MF_B1_BYTES(7u),
        MF_B1_BYTES(8u),  MF_B1_BYTES(9u),  MF_B1_BYTES(10u), MF_B1_BYTES(11u),
        MF_B1_BYTES(12u), MF_B1_BYTES(13u), MF_B1_BYTES(14u), MF_B1_BYTES(15u)};
    const uint8_t *p = packed + (first >> 3);
    const int32_t shift = first & 7;
    int32_t k = 0;
    uint32_t set = 0;
    uint32_t lanes = 0; /* portable SWAR lanes */
    (void)lanes;
    if (shift != 0) {
        const uint32_t bits = (uint32_t)*p++ >> shift;
        const int32_t n = len < 8 - shift ? len : 8 - shift;
        for (; k < n; k++) {
            set += (uint32_t)MF_B1_AT(u, k, bits);
        }
    }
    for (; k + 32 <= len; k += 32, p += 4) {
        const uint32_t w = mf_b1_word(p);
        MF_B1_BYTE(k, w & 0xFFu);
        MF_B1_BYTE(k + 8, (w >> 8) & 0xFFu);
        MF_B1_BYTE(k + 16, (w >> 16) & 0xFFu);
        MF_B1_BYTE(k + 24, w >> 24);
        MF_B1_WORD_DONE();
    }
    for (; k + 8 <= len; k += 8) {
        const uint32_t b = *p++;
        MF_B1_BYTE(k, b);
    }
    MF_B1_WORD_DONE();
    if (k < len) {
        const uint32_t bits = *p;
        for (int32_t j = 0; k < len; k++, j++) {
            set += (uint32_t)((int32_t)(u[k] ^ fb) & MF_B1_MASK(bits, j));
        }
    }
    return (int32_t)set;
}

/* The sum of len bytes u[k] ^ flip (as for mf_b1_set_u8). */
static inline int32_t mf_b1_total_u8(const uint8_t *u, uint32_t flip, int32_t len)
{
    const uint32_t fb = flip & 0xFFu;
    int32_t k = 0;
    uint32_t total = 0;
#if MF_USE_DSP
    for (; k + 4 <= len; k += 4) {
        total = mf_b1_usada8(mf_read_u32(u + k) ^ flip, total);
    }
#else
    (void)flip;
#endif
    for (; k < len; k++) {
        total += u[k] ^ fb;
    }
    return (int32_t)total;
}

#endif /* MF_BINARY_H */
