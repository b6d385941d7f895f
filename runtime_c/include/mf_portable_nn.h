/*
 * mf_portable_nn.h - m3 (issue 12): the portable family's packed row pairs (Cortex-M3, and any
 * core without the DSP extension that has a 32 x 32 -> 64 multiply-accumulate, SMLAL).
 *
 * Two int8 rows x0, x1 of k values are packed once into k words p[i] = x0[i] + x1[i] * 2^23
 * (exact in int32: |x1 * 2^23| <= 2^30). One SMLAL of p[i] with a filter value w then adds
 * both products at once to a 64-bit sum t = s0 + s1 * 2^23, where s0, s1 are the two rows' dot
 * products. Over at most MF_PK_CHUNK inputs |s0| <= 252 * 128 * 128 < 2^22, so s0 is t's low
 * 23 bits sign-extended and s1 = (t - s0) / 2^23 exactly: two multiply-accumulates per
 * instruction, bit-exact. ARMv6-M (Cortex-M0+) has no SMLAL: there MF_PT_PACKED is 0 and the
 * callers keep the int8 paths of mf_nn_mat_mult_s8.
 */
#ifndef MF_PORTABLE_NN_H
#define MF_PORTABLE_NN_H

#include "mf_internal.h"

#if !MF_USE_DSP && !MF_USE_MVE && !(defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB == 1)
#define MF_PT_PACKED 1
#else
#define MF_PT_PACKED 0
#endif

/* Inputs per 64-bit sum before it is split: |s0| <= MF_PK_CHUNK * 2^14 < 2^22. */
#define MF_PK_CHUNK 252

/* The packed pair of two int8 rows: p[i] = x0[i] + x1[i] * 2^23, i < k (four at a time; one
 * copy in mf_nn_mat_mult_pk_s8.c for every caller). */
void mf_nn_pack_pair_s8(const int8_t *x0, const int8_t *x1, int32_t *p, int32_t k);

/* mf_nn_mat_mult_s8 for a packed row pair p (k words): out[o] and out1[o] are the two rows'
 * requantized outputs (out1 NULL: the second row is not stored, e.g. a last odd row packed as a
 * pair with itself), two channels per pass (every packed load feeds two SMLAL, every filter
 * load one SMLAL = two multiply-accumulates). */
void mf_nn_mat_mult_pk_s8(const int32_t *p,
                          const int8_t *filter,
                          int32_t k,
                          int32_t n,
                          const mf_nn_requant *rq,
                          int8_t *out,
                          int8_t *out1);

#endif /* MF_PORTABLE_NN_H */
