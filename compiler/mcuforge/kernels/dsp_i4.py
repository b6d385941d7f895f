"""The i4 weight layout of mf_convolve_1x1_i4_s8 and mf_fully_connected_i4_s8 (m4pw, issue 12),
the kernels kernels/target.py chooses for 1x1 convolutions and fully-connected layers on DSP
cores (Cortex-M4, M7, M33): kernels.target.FILTER_LAYOUTS names pack_i4 for both, and
kernel_params.kernel_call applies it when it chooses one.

Layout (runtime_c/include/mf_internal.h, mf_nn_i4_s8.c): the (n, k) int8 weights, padded with
zero weights to n4 = n rounded up to 4 channels and k4 = k rounded up to 4 inputs, become n4 * k4
bytes (the same bytes as int8 where n and k are multiples of 4), stored as int32 words. For each
channel pair (a, b) = (2p, 2p + 1) and input i one little-endian int16 halfword
h = (w[a, i] + 128) + 256 * w[b, i] (bytes: w[a, i] + 128 as uint8, then w[b, i]). In every quad
of inputs the halfwords go in SXTB16 order (inputs 0, 2 in the "lo" word, 1, 3 in the "hi"
word); channels go in groups of four, each quad of a group 16 bytes: pair 0's lo word, pair 0's
hi word, pair 1's lo word, pair 1's hi word. The kernels sum x * h with SMLAD and x * w[b] with
SXTB16 ROR 8 then SMLAD, and recover sum x * w[a] = sum x * h - 256 * sum x * w[b] - 128 * sum x
(modulo 2^32).
"""

from __future__ import annotations

import numpy as np

I4_KERNELS = ("mf_convolve_1x1_i4_s8", "mf_fully_connected_i4_s8")
QUAD_ORDER = (0, 2, 1, 3)  # SXTB16 order of a quad's inputs


def pack_i4(w: np.ndarray) -> np.ndarray:
    """(n, ...) int8 weights, flattened per output channel to (n, k), in the i4 layout: n4 * k4
    bytes (n4, k4: n, k rounded up to multiples of 4) as a 1-D array of little-endian int32
    words, so the C constant is word-aligned (the kernels read it with LDRD and LDM)."""
    w2 = np.asarray(w, dtype=np.int8).reshape(w.shape[0], -1)
    n, k = w2.shape
    n4, k4 = -(-n // 4) * 4, -(-k // 4) * 4
    wp = np.zeros((n4, k4), np.int16)
    wp[:n, :k] = w2
    wq = wp.reshape(n4, k4 // 4, 4)[:, :, list(QUAD_ORDER)]  # (n4, quads, slot)
    lo = (wq[0::2] + 128).astype(np.uint8)  # even channels of each pair, + 128
    hi = wq[1::2].astype(np.int8).view(np.uint8)  # odd channels
    halves = np.stack([lo, hi], axis=-1)  # (pairs, quads, slot, byte)
    # slot (0, 1) -> lo word, (2, 3) -> hi word: (pairs, quads, word, half, byte)
    words = halves.reshape(n4 // 2, k4 // 4, 2, 2, 2)
    # group g = pairs (2g, 2g + 1): (groups, pair-in-group, quads, word, half, byte)
    groups = words.reshape(n4 // 4, 2, k4 // 4, 2, 2, 2)
    # per group and quad: pair 0 lo, pair 0 hi, pair 1 lo, pair 1 hi
    packed = groups.transpose(0, 2, 1, 3, 4, 5)
    return np.ascontiguousarray(packed).reshape(-1).view("<i4").astype(np.int32)


def unpack_i4(packed: np.ndarray, n: int, k: int) -> np.ndarray:
    """The (n, k) int8 weights of an i4 array (the inverse of pack_i4, for tests)."""
    n4, k4 = -(-n // 4) * 4, -(-k // 4) * 4
    groups = np.asarray(packed).astype("<i4").view(np.uint8).reshape(n4 // 4, k4 // 4, 2, 2, 2, 2)
    words = groups.transpose(0, 2, 1, 3, 4, 5).reshape(n4 // 2, k4 // 4, 4, 2)
    lo = words[..., 0].astype(np.int16) - 128
    hi = words[..., 1].view(np.int8).astype(np.int16)
    wq = np.empty((n4, k4 // 4, 4), np.int16)
    wq[0::2], wq[1::2] = lo, hi
    wp = np.empty_like(wq)
    wp[:, :, list(QUAD_ORDER)] = wq
    return wp.reshape(n4, k4)[:n, :k].astype(np.int8)


__all__ = ["I4_KERNELS", "pack_i4", "unpack_i4"]
