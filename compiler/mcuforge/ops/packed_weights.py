"""How int8 weights can be stored in flash at 4 bits: the packings the mf_nn *_s4 and *_cb4
kernels read, and their numpy inverses (the oracle the kernel tests compare against).

A weighted op (CONV_2D, FULLY_CONNECTED) may carry `attrs["weight_encoding"]`:

- "int4": every weight is a symmetric int4 value in [-7, 7], held in the IR as int8.
- "cb4": every weight is one of at most 16 int8 values of a codebook, `attrs["codebook"]`:
  int8 (16,) for one codebook per layer, or (C_out, 16) for one per output channel.

The IR keeps the weights as plain int8 values, so shapes, MACs and the integer reference need
nothing new; lowering packs them. Both packings walk the weight tensor in its row-major order
(OHWI for convolutions, (O, I) for dense) and put element 2k in the low nibble of byte k and
element 2k+1 in the high nibble, across row boundaries (CMSIS-NN's int4 convention), so an odd
row length makes the next row start mid-byte. An odd total leaves the last high nibble 0.

- "sparse": int8 weights with many zeros (unstructured pruning), stored as a bitmap and the
  nonzero values (the mf_*_sparse_s8 kernels). Each output channel's row (OHWI / (O, I)
  row-major, length K) has ceil(K / 8) mask bytes, bit j of byte b (least significant first)
  set when weight 8b + j is nonzero; the nonzero weights of all rows follow in one int8 array,
  in the same order. Flash: C_out * ceil(K / 8) + nnz bytes against C_out * K dense, so the
  format pays from about 1/8 zeros; a zero mask byte lets the kernel skip 8 weights at once.
  The kernels walk rows in order, so no per-row offsets are stored.

- "b1": 1-bit weights (BinaryConnect, Courbariaux et al. 2015; BWN, Rastegari et al. 2016):
  every weight is +1 or -1, held in the IR as int8 +-1 with the layer's per-output-channel
  scale alpha_c (the mean |W| of that channel's float weights), so the float weight is
  alpha_c * sign(W) and the integer reference needs nothing new. Packed 8 weights per byte,
  least significant bit first, bit set for +1 and clear for -1 (sign(0) = +1 is decided when
  the float weights are binarized, compress/encode.py); the bits walk the tensor row-major
  across row boundaries like the nibble formats, so element k is bit k % 8 of byte k // 8
  and a row length that is not a multiple of 8 makes the next row start mid-byte; the unused
  high bits of the last byte are 0. Flash: ceil(C_out * K / 8) bytes. The mf_*_b1 kernels
  add or subtract each input, 32 weights per loaded word where a row's bits are byte-aligned.
"""

from __future__ import annotations

import numpy as np

ENCODINGS = ("int4", "cb4", "b1")
INT4_MIN, INT4_MAX = -7, 7  # symmetric: -8 is never produced
CODEBOOK_SIZE = 16


def pack_nibbles(values: np.ndarray) -> np.ndarray:
    """Unsigned 4-bit values (0..15), any shape, into bytes: two per byte, low nibble first."""
    flat = np.asarray(values).reshape(-1).astype(np.uint8)
    if flat.size and (flat.min() < 0 or flat.max() > 15):
        raise ValueError("nibble values must lie in 0..15")
    if flat.size % 2:
        flat = np.append(flat, np.uint8(0))
    return (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8)


def unpack_nibbles(packed: np.ndarray, count: int) -> np.ndarray:
    """The first `count` unsigned nibbles of `packed`, in packing order."""
    p = np.asarray(packed, dtype=np.uint8)
    out = np.empty(p.size * 2, dtype=np.uint8)
    out[0::2], out[1::2] = p & 0x0F, p >> 4
    return out[:count]


def pack_int4(w: np.ndarray) -> np.ndarray:
    """int8 weights in [-8, 7] as packed two's-complement nibbles."""
    w = np.asarray(w)
    if w.size and (w.min() < -8 or w.max() > 7):
        raise ValueError(f"int4 weights must lie in [-8, 7], got [{w.min()}, {w.max()}]")
    return pack_nibbles(w.astype(np.int16) & 0x0F)


def unpack_int4(packed: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of pack_int4: int8 values of `shape`."""
    n = int(np.prod(shape, dtype=np.int64))
    u = unpack_nibbles(packed, n).astype(np.int16)
    return np.where(u >= 8, u - 16, u).astype(np.int8).reshape(shape)


def codebook_indices(w: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Index of each weight in its codebook (one per layer, or one row per output channel along
    axis 0); ValueError when a weight is not in its codebook."""
    w = np.asarray(w)
    rows = codebook.reshape(1, -1) if codebook.ndim == 1 else codebook
    per_row = w.reshape(w.shape[0], -1)
    book = np.broadcast_to(rows, (per_row.shape[0], rows.shape[-1]))
    hits = per_row[:, :, None] == book[:, None, :]
    if not hits.any(axis=2).all():
        raise ValueError("a weight is not an entry of its codebook")
    return hits.argmax(axis=2).astype(np.uint8).reshape(w.shape)


def pack_cb4(w: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    return pack_nibbles(codebook_indices(w, codebook))


def unpack_cb4(packed: np.ndarray, codebook: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of pack_cb4: int8 weights of `shape` looked up in the codebook."""
    n = int(np.prod(shape, dtype=np.int64))
    idx = unpack_nibbles(packed, n).reshape(shape[0], -1)
    if codebook.ndim == 1:
        return codebook[idx].astype(np.int8).reshape(shape)
    return np.take_along_axis(codebook, idx.astype(np.int64), axis=1).astype(np.int8).reshape(shape)


def full_codebook(values: np.ndarray) -> np.ndarray:
    """Distinct int8 values (at most 16) as a 16-entry codebook, padded with its last value."""
    u = np.unique(np.asarray(values).astype(np.int8))
    if u.size > CODEBOOK_SIZE:
        raise ValueError(f"{u.size} distinct values do not fit a {CODEBOOK_SIZE}-entry codebook")
    return np.concatenate([u, np.full(CODEBOOK_SIZE - u.size, u[-1], dtype=np.int8)])


def pack_b1(w: np.ndarray) -> np.ndarray:
    """int8 weights, each +1 or -1, as sign bits: 8 per byte, LSB first, bit set for +1."""
    flat = np.asarray(w).reshape(-1)
    if flat.size and not np.all(np.abs(flat.astype(np.int16)) == 1):
        bad = flat[np.abs(flat.astype(np.int16)) != 1][0]
        raise ValueError(f"1-bit (b1) weights must be +1 or -1, got {int(bad)}")
    return np.packbits(flat > 0, bitorder="little")


def unpack_b1(packed: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of pack_b1: int8 +-1 values of `shape`."""
    n = int(np.prod(shape, dtype=np.int64))
    bits = np.unpackbits(np.asarray(packed, dtype=np.uint8), count=n, bitorder="little")
    return (2 * bits.astype(np.int8) - 1).astype(np.int8).reshape(shape)


def packed_filter(w: np.ndarray, attrs: dict) -> tuple[np.ndarray, np.ndarray | None]:
    """(packed bytes, codebook or None) of an op's int8 weights under its weight_encoding."""
    enc = attrs.get("weight_encoding")
    if enc == "int4":
        return pack_int4(w), None
    if enc == "cb4":
        book = np.asarray(attrs["codebook"], dtype=np.int8)
        return pack_cb4(w, book), book
    if enc == "b1":
        return pack_b1(w), None
    raise ValueError(f"unknown weight encoding {enc!r}; known: {', '.join(ENCODINGS)}")


def packed_bytes(w_size: int, enc: str, codebook_rows: int = 1) -> int:
    """Flash bytes of `w_size` weights under an encoding (codebook included)."""
    if enc == "b1":
        return (w_size + 7) // 8
    nibbles = (w_size + 1) // 2
    return nibbles + (CODEBOOK_SIZE * codebook_rows if enc == "cb4" else 0)


def pack_sparse(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mask, values) of int8 weights with axis 0 the output channels: per row, ceil(K / 8)
    bitmap bytes (bit j of byte b set when element 8b + j is nonzero), then all nonzero values
    in row-major order."""
    rows = np.asarray(w).reshape(w.shape[0], -1)
    nz = rows != 0
    pad = (-rows.shape[1]) % 8
    bits = np.pad(nz, ((0, 0), (0, pad))).reshape(rows.shape[0], -1, 8)
    mask = (bits.astype(np.uint8) << np.arange(8, dtype=np.uint8)).sum(axis=2, dtype=np.uint8)
    return mask.reshape(-1), rows[nz].astype(np.int8)


def unpack_sparse(mask: np.ndarray, values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of pack_sparse: dense int8 weights of `shape`."""
    n_rows = shape[0]
    k = int(np.prod(shape[1:], dtype=np.int64))
    m = np.asarray(mask, dtype=np.uint8).reshape(n_rows, -1)
    bits = ((m[:, :, None] >> np.arange(8, dtype=np.uint8)) & 1).astype(bool).reshape(n_rows, -1)[:, :k]
    if int(bits.sum()) != values.size:
        raise ValueError(f"the mask marks {int(bits.sum())} nonzero weights, {values.size} values given")
    out = np.zeros((n_rows, k), dtype=np.int8)
    out[bits] = values
    return out.reshape(shape)


def sparse_bytes(w: np.ndarray) -> int:
    """Flash bytes of int8 weights (axis 0 the output channels) in the sparse format."""
    k = int(np.prod(w.shape[1:], dtype=np.int64))
    return int(w.shape[0]) * ((k + 7) // 8) + int(np.count_nonzero(w))
