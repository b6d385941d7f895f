"""The declared access pattern of each streaming kernel (issue 13), one row per kernel in ACCESS:
from a kernel call (dims NHWC, params) to the `plan.access.Stream` its output may overlap its input
by, or None where the kernel is not declared overlap-safe for that call.

What each row relies on, read from the kernels' portable, DSP (MF_USE_DSP) and MVE (MF_USE_MVE)
paths, and the contract kept with the speed work (output pixels written in increasing order, a
1x1 / fully-connected kernel at most 4 pixels ahead, a spatial kernel at most its window's rows):

* mf_convolve_1x1_s8: pixel rows two at a time (portable, DSP widened into scratch first) or by
  mf_nn_mat_mult_rows_s8 (MVE: one or two rows per pass): `pixelwise`,
  block 4 (the contract; the kernels take 2).
* mf_convolve_1x1_one_s8 (one output channel): two pixel rows per pass, the filter widened into
  scratch once (MVE builds hand over to mf_convolve_1x1_s8): `pixelwise`, block 4.
* mf_fully_connected_s8: batch rows, one or two at a time: `pixelwise`, block 4.
* mf_convolve_s8: im2col of two output pixels (portable, DSP) or patches / windows read in place
  (MVE), the pixels in row-major order: `window_rows`, block 2.
* mf_depthwise_conv_s8: pixel by pixel (m1, multiplier kernels), pairs of pixels (MVE), channel
  groups inside a pixel: `window_rows`, block 2.
* mf_depthwise_conv_rows_s8: channel groups of four outermost, each over every output row, input
  rows copied once into a ring of int16 rows (portable, DSP); MVE builds run mf_depthwise_conv_s8.
  A group writes only its own channels, so with channel multiplier 1 and a shift that is a whole
  number of pixels every output byte lands on the same channel of an earlier input pixel, which
  that group has already copied into its ring once the window rows of the pixel's output row are
  in (the window-rows front bounds that): `window_rows` with step = C. Multiplier above 1, or a
  top padding beyond the window's reach (rows written before any is copied): none.
* mf_depthwise_conv3x3_s8 (the M55's choice, kernels/target.py): pixel by pixel, every group of
  eight channels of a pixel before the next (mf_depthwise_conv3_mve16_s8.c); other builds run
  mf_depthwise_conv_s8: `window_rows`, block 2.
* mf_convolve_1x1_i4_s8, mf_fully_connected_i4_s8 (the DSP cores' choices, m4pw): pixel rows
  two at a time widened into scratch first (1x1; an odd last row paired with itself), or batch
  rows one at a time read in place (dense), outputs row by row: `pixelwise`, block 4.
* mf_avgpool_s8, mf_maxpool_s8: pixel by pixel, channels inside (mf_pool_body.h; MVE: groups of four
  channels per pixel): `window_rows`, block 2.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mcuforge.plan.access import Stream, pixelwise, window_rows

Dims = tuple[int, int, int, int]
Rule = Callable[[Mapping[str, Dims], Mapping[str, Any]], Stream | None]

BLOCK = 4  # 1x1 / matmul rows computed together at most (the contract with the speed kernels)
PAIRS = 2  # spatial kernels: output pixels computed together at most (im2col pairs, MVE pairs)


def _pixels(dims: Mapping[str, Dims], params: Mapping[str, Any]) -> Stream | None:
    n, h, w, c_in = dims["input"]
    return pixelwise(n * h * w, c_in, dims["output"][3], BLOCK, "1x1-pixels")


def _fc_rows(dims: Mapping[str, Dims], params: Mapping[str, Any]) -> Stream | None:
    rows, k, n = params["batches"], params["accum_depth"], params["output_depth"]
    return pixelwise(int(rows), int(k), int(n), BLOCK, "matmul-rows")


def _windows(name: str, step_channels: bool = False) -> Rule:
    def rule(dims: Mapping[str, Dims], params: Mapping[str, Any]) -> Stream | None:
        reach = (dims["filter"][1] - 1) * int(params.get("dilation", (1, 1))[0])
        if step_channels and (params.get("ch_mult", 1) != 1 or int(params["padding"][0]) > reach):
            return None  # the ring's rows would not cover the rows a group writes over
        step = dims["input"][3] if step_channels else 1
        stride = (int(params["stride"][0]), int(params["stride"][1]))
        padding = (int(params["padding"][0]), int(params["padding"][1]))
        return window_rows(dims["input"], dims["output"], stride, padding, PAIRS, step, name)
    return rule


ACCESS: dict[str, Rule] = {
    "mf_convolve_1x1_s8": _pixels,
    "mf_convolve_1x1_one_s8": _pixels,
    "mf_fully_connected_s8": _fc_rows,
    "mf_convolve_s8": _windows("conv-rows"),
    "mf_convolve3x3_s8": _windows("conv-rows"),  # speed-m55: groups of three pixels, mf_convolve_s8's rows
    "mf_depthwise_conv_s8": _windows("depthwise-rows"),
    "mf_depthwise_conv_rows_s8": _windows("depthwise-channel-rows", step_channels=True),
    "mf_depthwise_conv3x3_s8": _windows("depthwise-rows"),
    "mf_avgpool_s8": _windows("pool-rows"),
    "mf_maxpool_s8": _windows("pool-rows"),
    # m4pw (issue 12): two pixel rows widened into scratch (1x1), one batch row in place (dense)
    "mf_convolve_1x1_i4_s8": _pixels,
    "mf_fully_connected_i4_s8": _fc_rows,
}


def stream_for(kernel: str, dims: Mapping[str, Dims], params: Mapping[str, Any]) -> Stream | None:
    """The access pattern of one kernel call, or None (no overlap declared)."""
    rule = ACCESS.get(kernel)
    return rule(dims, params) if rule is not None else None


__all__ = ["ACCESS", "stream_for"]
