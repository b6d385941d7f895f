"""Kernel choice by core family (mcuforge.kernels.target, speed-m55 issue 12): the table, the
families of the boards, and kernel_call choosing for the M55 when given its family."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mcuforge.firmware.boards import load_board
from mcuforge.ir.graph import Op, QuantParams, Tensor
from mcuforge.kernel_params import dims4
from mcuforge.kernels import SPECS, scratch_bytes
from mcuforge.kernels.target import CHOICES, FAMILIES, family_of, for_target
from mcuforge.ops.registry import Ctx


@pytest.mark.parametrize(("board", "family"), [("mps3-an547", "mve"), ("mps2-an386", "dsp"),
                                                ("mps2-an505", "dsp"), ("mps2-an385", "portable"),
                                                ("mps2-an385-m0plus", "portable")])
def test_board_families(board: str, family: str) -> None:
    assert family_of(load_board(board).features) == family


def test_choices_name_kernels_with_the_same_arguments() -> None:
    for kernel, by_family in CHOICES.items():
        for family, choices in by_family.items():
            assert family in FAMILIES and family != "host"
            for other, _ in choices:
                assert SPECS[other].args == SPECS[kernel].args, (kernel, other)


def test_for_target_takes_the_family() -> None:
    assert for_target("mf_depthwise_conv_rows_s8", None, "host") == "mf_depthwise_conv_rows_s8"
    assert for_target("mf_depthwise_conv_rows_s8", None, "mve") == "mf_depthwise_conv_s8"  # no call: no shape
    assert for_target("mf_convolve_s8", None, "mve") == "mf_convolve_s8"
    assert for_target("mf_depthwise_conv_rows_s8", None, "dsp") == "mf_depthwise_conv_rows_s8"
    with pytest.raises(ValueError, match="unknown core family"):
        for_target("mf_convolve_s8", None, "m55")


def _depthwise_ctx() -> Ctx:
    """KWS's depthwise layer: 25x5x64, 3x3, stride 1, SAME."""
    q = QuantParams(np.float32(0.05), 3)
    x = Tensor("x", (1, 25, 5, 64), "int8", None, q)
    w = Tensor("w", (1, 3, 3, 64), "int8", np.ones((1, 3, 3, 64), np.int8),
               QuantParams(np.full(64, 0.01, np.float32), np.zeros(64, np.int64), 3))
    y = Tensor("y", (1, 25, 5, 64), "int8", None, QuantParams(np.float32(0.1), -5))
    op = Op("DEPTHWISE_CONV_2D", "dw", ["x", "w"], ["y"],
            {"strides": (1, 1), "dilations": (1, 1), "pads": (1, 1, 1, 1), "depth_multiplier": 1,
             "activation": "RELU"})
    return Ctx(op, [x, w], [y])


def test_depthwise_call_per_family() -> None:
    from mcuforge.kernel_params import kernel_call

    host = kernel_call(_depthwise_ctx())
    m55 = kernel_call(_depthwise_ctx(), "mve")
    assert host.kernel == "mf_depthwise_conv_rows_s8" and scratch_bytes(host) > 0
    assert m55.kernel == "mf_depthwise_conv3x3_s8" and scratch_bytes(m55) == 0
    assert m55.dims == host.dims and m55.dims["input"] == dims4((1, 25, 5, 64))


@pytest.mark.parametrize(("c", "w", "pads", "stride", "taken"),
                         [(64, 5, 1, 1, True), (32, 12, 1, 2, True), (128, 3, 1, 1, True),
                          (16, 8, 1, 1, False), (136, 8, 1, 1, False), (40, 8, 1, 1, True),
                          (36, 8, 1, 1, False), (64, 1, 1, 1, False), (64, 6, 2, 1, False)])
def test_m55_depthwise_3x3_choice(c: int, w: int, pads: int, stride: int, taken: bool) -> None:
    """mf_depthwise_conv3x3_s8 only where its C condition (mf_depthwise_conv3_mve16_takes) holds:
    32 <= C <= 128, C % 8 == 0, width >= 2, one padded column at most."""
    from mcuforge.kernel_params import kernel_call

    q = QuantParams(np.float32(0.05), 3)
    x = Tensor("x", (1, 6, w, c), "int8", None, q)
    wt = Tensor("w", (1, 3, 3, c), "int8", np.ones((1, 3, 3, c), np.int8),
                QuantParams(np.full(c, 0.01, np.float32), np.zeros(c, np.int64), 3))
    ow = (w + 2 * pads - 3) // stride + 1
    oh = (6 + 2 * pads - 3) // stride + 1
    y = Tensor("y", (1, oh, ow, c), "int8", None, QuantParams(np.float32(0.1), -5))
    op = Op("DEPTHWISE_CONV_2D", "dw", ["x", "w"], ["y"],
            {"strides": (stride, stride), "dilations": (1, 1), "pads": (pads,) * 4,
             "depth_multiplier": 1, "activation": "NONE"})
    call = kernel_call(Ctx(op, [x, wt], [y]), "mve")
    assert (call.kernel == "mf_depthwise_conv3x3_s8") == taken, call.kernel


def test_compile_options_choose_the_family(tmp_path: Path) -> None:
    """CompileOptions.kernel_target picks the family without a board (what run_on_board and the
    benchmark do for a host-built model they then link for a board); the report names it."""
    from model_paths import mlperf_model

    from mcuforge.compile import CompileOptions, compile_model

    path = mlperf_model("kws_dscnn_int8.tflite")
    m55 = compile_model(path, tmp_path / "mve", CompileOptions(kernel_target="mve"))
    host = compile_model(path, tmp_path / "host", CompileOptions())
    assert (m55.report["kernel_target"], host.report["kernel_target"]) == ("mve", "host")
    kernels = {op["kernel"] for op in m55.report["ops"]}
    assert "mf_depthwise_conv3x3_s8" in kernels and "mf_depthwise_conv_rows_s8" not in kernels
    assert "mf_depthwise_conv_rows_s8" in {op["kernel"] for op in host.report["ops"]}
