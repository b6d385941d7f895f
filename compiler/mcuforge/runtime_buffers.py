"""Scratch sizes of the mf_nn kernels for the planner.

Each kernel's rule lives in its spec (mcuforge.kernels, the twin of its C `*_get_buffer_size`,
beside the kernel); tests/runtime checks every rule against the C. The formulas are re-exported
here under their old names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcuforge.kernels import SPECS
from mcuforge.kernels.convolution import (
    convolve_1x1_s8,
    convolve_cb4,
    convolve_s4,
    convolve_s8,
    convolve_sparse_s8,
    depthwise_conv_s8,
)
from mcuforge.kernels.pooling import avgpool_s8
from mcuforge.kernels.spec import Dims


def fully_connected_s8(accum_depth: int, output_depth: int) -> int:
    return SPECS["mf_fully_connected_s8"].scratch.bytes({}, {"accum_depth": accum_depth,  # type: ignore[union-attr]
                                                             "output_depth": output_depth})


# Temporary: scratch rules of kernels without a spec (kernel_params.LEGACY_KERNELS).
LEGACY_SCRATCH: dict[str, Callable[[dict[str, Dims], dict[str, Any]], int]] = {}


def scratch_bytes(kernel: str, dims: dict[str, Dims], params: dict[str, Any]) -> int:
    """Scratch bytes of a kernel call as `mcuforge.kernel_params.KernelCall` describes it."""
    spec = SPECS.get(kernel)
    if spec is not None:
        return spec.scratch.bytes(dims, params) if spec.scratch else 0
    rule = LEGACY_SCRATCH.get(kernel)
    return rule(dims, params) if rule else 0


__all__ = ["avgpool_s8", "convolve_1x1_s8", "convolve_cb4", "convolve_s4", "convolve_s8",
           "convolve_sparse_s8", "depthwise_conv_s8", "fully_connected_s8", "scratch_bytes"]
