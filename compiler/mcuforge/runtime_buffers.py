"""Scratch sizes of the mf_nn kernels, mirroring each C `*_get_buffer_size` formula.

The memory planner reserves these bytes for a kernel's mf_context; tests/runtime checks that
every function here returns what its C twin returns. Shapes are mf_dims tuples (n, h, w, c).
When a kernel gains a DSP/MVE path with a different need, its formula changes in both places.
"""

from __future__ import annotations

from collections.abc import Callable

Dims = tuple[int, int, int, int]

INT16_BYTES = 2


def convolve_s8(input_dims: Dims, filter_dims: Dims) -> int:
    """Two im2col patches of KH * KW * C_in int16 values (two output pixels per pass), and
    when C_in % 4 != 0 the two int8 patches they are widened from."""
    length = filter_dims[1] * filter_dims[2] * input_dims[3]
    return 2 * length * INT16_BYTES + (2 * length if input_dims[3] % 4 else 0)


def convolve_s4(input_dims: Dims, filter_dims: Dims) -> int:
    """One im2col patch of KH * KW * C_in int16 values (input offset already added); the same
    for mf_convolve_cb4."""
    return filter_dims[1] * filter_dims[2] * input_dims[3] * INT16_BYTES


def convolve_1x1_s8(input_dims: Dims, filter_dims: Dims) -> int:
    """Two pixel rows of C_in int16 values (the DSP path widens them there)."""
    return 2 * input_dims[3] * INT16_BYTES


def depthwise_conv_s8(input_dims: Dims, filter_dims: Dims) -> int:
    return 0


def fully_connected_s8(accum_depth: int, output_depth: int) -> int:
    return 0


def avgpool_s8(output_w: int, channels: int) -> int:
    return 0


def convolve_sparse_s8(input_dims: Dims, filter_dims: Dims) -> int:
    """One im2col patch of KH * KW * C_in int16 values (input offset already added)."""
    return filter_dims[1] * filter_dims[2] * input_dims[3] * INT16_BYTES


def _window(rule: Callable[[Dims, Dims], int]) -> Callable[[dict[str, Dims], dict[str, int]], int]:
    return lambda dims, params: rule(dims["input"], dims["filter"])


# Kernel name -> its scratch rule; kernels not listed need none.
SCRATCH: dict[str, Callable[[dict[str, Dims], dict[str, int]], int]] = {
    "mf_convolve_s8": _window(convolve_s8),
    "mf_convolve_s4": _window(convolve_s4),
    "mf_convolve_cb4": _window(convolve_s4),
    "mf_convolve_1x1_s8": _window(convolve_1x1_s8),
    "mf_depthwise_conv_s8": _window(depthwise_conv_s8),
    "mf_convolve_sparse_s8": _window(convolve_sparse_s8),
    "mf_fully_connected_s8": lambda dims, params: fully_connected_s8(params["accum_depth"],
                                                                     params["output_depth"]),
    "mf_avgpool_s8": lambda dims, params: avgpool_s8(dims["output"][2], dims["output"][3]),
    # recurrent area: cell state and four gates (int16), hidden state (int8)
    "mf_lstm_s8": lambda dims, params: params["batches"] * params["hidden_size"] * 11,
}


def scratch_bytes(kernel: str, dims: dict[str, Dims], params: dict[str, int]) -> int:
    """Scratch bytes of a kernel call as `mcuforge.kernel_params.KernelCall` describes it."""
    rule = SCRATCH.get(kernel)
    return rule(dims, params) if rule else 0
