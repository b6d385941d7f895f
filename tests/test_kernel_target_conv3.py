"""speed-m55 (issue 12): the M55's choice of mf_convolve3x3_s8 for CONV_2D (kernels/target.py
conv3x3_mve_takes, twin of the kernel's C condition mf_mve_conv3_takes): only where it holds, the
host and other families keeping mf_convolve_s8, with the same scratch."""

from __future__ import annotations

import numpy as np
import pytest

from mcuforge.ir.graph import Op, QuantParams, Tensor
from mcuforge.kernel_params import kernel_call
from mcuforge.kernels import scratch_bytes
from mcuforge.ops.registry import Ctx


def _conv_ctx(cin: int, cout: int, k: int, stride: int, dilation: int) -> Ctx:
    q = QuantParams(np.float32(0.05), 3)
    x = Tensor("x", (1, 9, 10, cin), "int8", None, q)
    w = Tensor("w", (cout, k, k, cin), "int8", np.ones((cout, k, k, cin), np.int8),
               QuantParams(np.full(cout, 0.01, np.float32), np.zeros(cout, np.int64), 0))
    pad = dilation * (k - 1) // 2
    oh = (9 + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    ow = (10 + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    y = Tensor("y", (1, oh, ow, cout), "int8", None, QuantParams(np.float32(0.1), -5))
    op = Op("CONV_2D", "conv", ["x", "w"], ["y"],
            {"strides": (stride, stride), "dilations": (dilation, dilation), "pads": (pad,) * 4,
             "activation": "RELU"})
    return Ctx(op, [x, w], [y])


@pytest.mark.parametrize(("cin", "cout", "k", "stride", "dilation", "taken"),
                         [(16, 16, 3, 1, 1, True), (32, 32, 3, 1, 1, True), (64, 64, 3, 1, 1, True),
                          (16, 32, 3, 2, 1, True), (32, 64, 3, 2, 1, True), (64, 64, 3, 2, 1, False),
                          (48, 48, 3, 1, 1, False), (8, 8, 3, 1, 1, False), (16, 12, 3, 1, 1, True),
                          (16, 6, 3, 1, 1, False), (16, 96, 3, 1, 1, False), (16, 16, 5, 1, 1, False),
                          (16, 16, 3, 1, 2, False)])
def test_m55_conv3x3_choice(cin: int, cout: int, k: int, stride: int, dilation: int, taken: bool) -> None:
    host = kernel_call(_conv_ctx(cin, cout, k, stride, dilation))
    m55 = kernel_call(_conv_ctx(cin, cout, k, stride, dilation), "mve")
    assert host.kernel == "mf_convolve_s8"
    assert kernel_call(_conv_ctx(cin, cout, k, stride, dilation), "dsp").kernel == "mf_convolve_s8"
    assert (m55.kernel == "mf_convolve3x3_s8") == taken, m55.kernel
    assert scratch_bytes(m55) == scratch_bytes(host)
