"""speed-m55 (issue 12) under QEMU on mps3-an547 (Cortex-M55, Helium): a chain with the Helium
transposed-convolution channel loop (output channels around the 4-lane edges, tails) and the
depthwise layers the compile chooses for the M55 (mf_depthwise_conv_s8 instead of the rows
kernel, mcuforge.kernels.target), byte for byte against the integer reference."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from test_qemu_kernels import SAMPLES, Chain

from mcuforge.runner import run_on_board

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
]


def m55_chain(seed: int, path: Path) -> Path:
    """Two depthwise 3x3, stride 1 and 2, C % 8 == 0 (chosen for the M55) -> transposed convolution
    (stride 2, kernel 2-4, 1-9 output channels: whole groups of four and tails) -> transposed
    convolution (stride 1-2, 4-17 channels)."""
    rng = np.random.default_rng(5500 + seed)
    c = Chain(rng, (1, int(rng.integers(3, 9)), int(rng.integers(1, 9)), int(rng.choice([8, 32, 40, 64]))))
    # eight channels per vector (mf_depthwise_conv3_mve16_s8): borders, top and bottom rows, runs
    c.weighted("DEPTHWISE_CONV_2D", (1, 3, 3, c.channels()), 3, {**c.window(3, 1), "depth_multiplier": 1})
    c.weighted("DEPTHWISE_CONV_2D", (1, 3, 3, c.channels()), 3, {**c.window(3, 2), "depth_multiplier": 1})
    for stride, outs in ((2, (1, 2, 3, 4, 5, 6, 7, 8, 9)), (int(rng.integers(1, 3)), (4, 5, 8, 12, 16, 17))):
        _, h, w, _ = c.g.tensors[c.cur].shape
        k = int(rng.integers(2, 5))
        pad = int(rng.integers(0, k))
        out_hw = ((h - 1) * stride + k - pad, (w - 1) * stride + k - pad)
        c.weighted("TRANSPOSE_CONV", (int(rng.choice(outs)), k, k, c.channels()), 0,
                   {"strides": (stride, stride), "padding": (pad, pad), "output_hw": out_hw,
                    "activation": str(rng.choice(["NONE", "RELU"]))})
    return c.finish(path)


@pytest.mark.parametrize("seed", range(6))
def test_m55_kernels_bit_exact(seed: int, tmp_path: Path) -> None:
    model = m55_chain(seed, tmp_path / f"m55_{seed}.mfir")
    from mcuforge.importers import load_model

    g = load_model(model)
    x = np.random.default_rng(300 + seed).integers(-128, 128, (SAMPLES, *g.tensors["x"].shape[1:]),
                                                   dtype=np.int8)
    result = run_on_board(model, x, "mps3-an547", out_dir=tmp_path / "fw")
    assert result.mismatches == {}, [op.kind for op in g.ops]
    assert result.compiled.report["kernel_target"] == "mve"
    kernels = [row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]]
    assert kernels[2:] == ["mf_transpose_conv_s8"] * 2, kernels
    assert set(kernels[:2]) <= {"mf_depthwise_conv_s8", "mf_depthwise_conv3x3_s8"}, kernels


def first_layer_chain(seed: int, path: Path) -> Path:
    """KWS-like first layers: a 10x4 (or 3x4 on 3 channels) convolution, k = 40 or 36 (two rows of
    32 < k <= 48 inputs held in registers), 4-20 output channels (whole quads and tails), stride
    1-2, a 1x1 to one channel (rows' dot products four at a time), then a global average pool
    (int16 sums of at most 255 values, int32 above)."""
    rng = np.random.default_rng(5600 + seed)
    cin, kh = (1, 10) if seed % 2 == 0 else (3, 3)
    c = Chain(rng, (1, int(rng.integers(10, 40)), int(rng.integers(4, 12)), cin))
    stride = int(rng.integers(1, 3))
    c.weighted("CONV_2D", (int(rng.choice([4, 8, 12, 16, 20, 6])), kh, 4, cin), 0,
               {"strides": (stride, stride), "dilations": (1, 1),
                "pads": (kh // 2, 1, kh - 1 - kh // 2, 2), "activation": str(rng.choice(["NONE", "RELU"]))})
    c.weighted("CONV_2D", (1, 1, 1, c.channels()), 0, c.window(1, 1))  # one output channel
    _, h, w, _ = c.g.tensors[c.cur].shape
    c.add("AVERAGE_POOL_2D", [c.cur], {"kernel": (h, w), "strides": (1, 1), "pads": (0, 0, 0, 0),
                                       "activation": "NONE"}, c.g.tensors[c.cur].quant)
    return c.finish(path)


@pytest.mark.parametrize("seed", range(4))
def test_m55_first_layers_bit_exact(seed: int, tmp_path: Path) -> None:
    model = first_layer_chain(seed, tmp_path / f"first_{seed}.mfir")
    from mcuforge.importers import load_model

    g = load_model(model)
    x = np.random.default_rng(400 + seed).integers(-128, 128, (SAMPLES, *g.tensors["x"].shape[1:]),
                                                   dtype=np.int8)
    result = run_on_board(model, x, "mps3-an547", out_dir=tmp_path / "fw")
    assert result.mismatches == {}, [op.kind for op in g.ops]
