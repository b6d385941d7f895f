"""add2 (issue 12): the equal-shape int8 ADD (one 64-bit multiply-accumulate per input, a shift for
the input of the larger scale) under QEMU on a Cortex-M4 (DSP family) and a Cortex-M3 (portable
family), and on the other cores that build these paths (M7, M33, M0+): every one of the 256 x 256
input pairs for several quantizations and activations, and the IC ResNet-8 (its residual adds
inside RESIDUAL_ROWS and on their own), byte for byte against the integer reference."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from model_paths import mlperf_model
from test_qemu_kernels import Chain

from mcuforge.ir.graph import QuantParams, Tensor
from mcuforge.runner import run_on_board

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
]

BOARDS = ["mps2-an386", "mps2-an385"]
OTHER_CORES = ["mps2-an500", "mps2-an505", "mps2-an385-m0plus"]  # M7, M33 (DSP), M0+ (no SMLAL)
ALL = np.arange(-128, 128, dtype=np.int8)


def add_model(seed: int, path: Path) -> Path:
    """x + y over (1, 256, 256, 1) with random encodings: y's scale equal to x's, twice it, a
    quarter of it or unrelated; activation NONE, RELU or RELU6."""
    rng = np.random.default_rng(4400 + seed)
    c = Chain(rng, (1, 256, 256, 1))
    sx = float(c.g.tensors["x"].quant.scale[0])
    sy = [sx, 2 * sx, sx / 4, float(rng.uniform(0.005, 0.1))][seed % 4]
    c.g.add_tensor(Tensor("y", (1, 256, 256, 1), "int8", None,
                          QuantParams(np.float32(sy), int(rng.integers(-128, 128)))))
    c.g.inputs = ["x", "y"]
    out = QuantParams(np.float32(max(sx, sy) * rng.uniform(0.6, 2.5)), int(rng.integers(-128, 128)))
    c.add("ADD", ["x", "y"], {"activation": ["NONE", "RELU", "RELU6"][seed % 3]}, out)
    return c.finish(path)


@pytest.mark.parametrize("board", BOARDS + OTHER_CORES)
@pytest.mark.parametrize("seed", range(4))
def test_add_all_pairs_on_target(board: str, seed: int, tmp_path: Path) -> None:
    model = add_model(seed, tmp_path / f"add{seed}.mfir")
    x = np.repeat(ALL, 256).reshape(1, 1, 256, 256, 1)
    y = np.tile(ALL, 256).reshape(1, 1, 256, 256, 1)
    result = run_on_board(model, {"x": x[0], "y": y[0]}, board, out_dir=tmp_path / "fw")
    assert result.samples == 1
    assert result.mismatches == {}


@pytest.mark.parametrize("board", BOARDS)
def test_ic_resnet8_on_target(board: str, tmp_path: Path) -> None:
    model = mlperf_model("ic_resnet8_int8.tflite")
    x = np.random.default_rng(12).uniform(0, 1, (2, 32, 32, 3)).astype(np.float32)
    result = run_on_board(model, x, board, out_dir=tmp_path / "fw")
    assert result.samples == 2
    assert result.mismatches == {}
