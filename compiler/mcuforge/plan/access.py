"""Access patterns of streaming kernels, and the shift that lets an op's output overlap its input.

A streaming kernel writes its output unit by unit in increasing address order (a unit is an output
pixel, `out_unit` bytes, row-major NHWC), and reads its input in an order that moves forward with
it. `Stream.need[p]` is the lowest input byte offset the kernel may still read at or after the
moment it writes any byte of output unit p (`in_bytes` when it reads nothing more). If the output
starts `shift` bytes below the input (out_offset = in_offset - shift), output unit p covers the
input bytes [p * out_unit - shift, (p + 1) * out_unit - shift); no input byte is overwritten
before its last read exactly when, for every p, that interval misses [need[p], in_bytes).

This is the in-place scheme of TinyEngine (Lin et al., "MCUNet", NeurIPS 2020: in-place depthwise
convolution) generalized to any kernel whose read front can be declared (issue 13): the output of a
layer starts a few rows (depthwise, pooling, spatial convolution) or a few pixels (1x1
convolution, matrix multiply) below its input. The patterns declare the contract between the
memory planner and the kernels (helpers_common: output pixels in increasing order, a 1x1 /
fully-connected kernel at most 4 pixels ahead of the first output pixel it has not finished, a
spatial kernel at most its window's rows ahead):

* `pixelwise(pixels, c_in, c_out, block)`: output pixel p depends on input pixel p only; up to
  `block` consecutive pixels are computed together, so when pixel p is written, input pixels from
  p - block + 1 on may still be read: need[p] = max(0, p - block + 1) * c_in.
* `window_rows(...)`: output pixel (b, y, x) reads its window, from its first cell inside the
  image on (row y * stride_h - pad_top, column x * stride_w - pad_left, clamped; any channel, any
  later cell); with blocks of up to `block` output pixels (two: the im2col / MVE pixel pairs),
  need[p] = the lowest such first byte of the pixels from p - block + 1 on.

`step` asks the shift to be a multiple of it: a kernel that walks channel groups over the whole
image (mf_depthwise_conv_rows_s8) only stays safe when every output byte lands on the same channel
of an earlier input pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Stream:
    """The declared access pattern of one op: `pattern` names it (for the report)."""

    pattern: str
    in_bytes: int
    out_bytes: int
    out_unit: int  # bytes per output unit (pixel)
    need: np.ndarray  # int64, one per output unit: lowest input byte still read when it is written
    step: int = 1  # the shift must be a multiple of this

    def unsafe_intervals(self) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi): every shift with lo < shift < hi overwrites a byte still to be read."""
        p = np.arange(len(self.need), dtype=np.int64)
        live = self.need < self.in_bytes
        lo = p * self.out_unit - self.in_bytes
        hi = (p + 1) * self.out_unit - self.need
        keep = live & (lo < hi)
        return lo[keep], hi[keep]

    def safe(self, shift: int) -> bool:
        """Whether the output may start `shift` bytes below the input (the closed-form check)."""
        if shift < 0 or shift % self.step:
            return False
        lo, hi = self.unsafe_intervals()
        return not bool(np.any((lo < shift) & (shift < hi)))

    def min_shift(self, alignment: int = 1) -> int:
        """The smallest safe shift that is a multiple of both `step` and `alignment`."""
        unit = self.step * alignment // math.gcd(self.step, alignment)
        lo, hi = self.unsafe_intervals()
        shift = 0
        while True:
            hit = (lo < shift) & (shift < hi)
            if not np.any(hit):
                return shift
            shift = -(-int(hi[hit].max()) // unit) * unit  # every shift below is inside that interval

    def span(self, shift: int) -> int:
        """Bytes of the pair laid out at `shift`: from the output's start to the last end."""
        return max(shift + self.in_bytes, self.out_bytes)


def pixelwise(pixels: int, c_in: int, c_out: int, block: int = 4, name: str = "pixelwise") -> Stream:
    """Output pixel p from input pixel p alone (1x1 convolution, fully connected rows),
    `block` pixels at a time at most."""
    p = np.arange(pixels, dtype=np.int64)
    need = np.maximum(p - block + 1, 0) * c_in
    return Stream(name, pixels * c_in, pixels * c_out, c_out, need)


def window_rows(in_dims: tuple[int, int, int, int], out_dims: tuple[int, int, int, int],
                stride: tuple[int, int], padding: tuple[int, int], block: int = 2, step: int = 1,
                name: str = "window-rows") -> Stream:
    """Output pixels in row-major order, `block` at a time at most, each reading input from the
    first window cell inside the image on: row y * stride_h - pad_top, column x * stride_w -
    pad_left (clamped to the image; any channel, any later cell). Dims are NHWC."""
    n, ih, iw, ci = in_dims
    n_out, oh, ow, co = out_dims
    count = n_out * oh * ow
    q = np.arange(count, dtype=np.int64)
    b, y, x = q // (oh * ow), (q // ow) % oh, q % ow
    row = np.clip(y * stride[0] - padding[0], 0, ih)
    col = np.where(row < ih, np.clip(x * stride[1] - padding[1], 0, iw), 0)
    first = b * (ih * iw * ci) + (row * iw + col) * ci  # the first input byte pixel q reads
    later = np.minimum.accumulate(first[::-1])[::-1]  # the first byte any pixel from q on reads
    need = later[np.maximum(q - block + 1, 0)] if count else later
    return Stream(name, n * ih * iw * ci, count * co, co, need, step)


__all__ = ["Stream", "pixelwise", "window_rows"]
