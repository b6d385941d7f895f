"""Every core family runs the kernels bit-exactly: the random layer chains of
test_qemu_kernels.py (every optimized kernel path once) on the cores that file does not cover, the
Cortex-M7 (mps2-an500, DSP), the Cortex-M33 (mps2-an505, DSP, Armv8-M) and Cortex-M0+ code
(mps2-an385-m0plus: Armv6-M, portable C without Thumb-2), and the digits example on each."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from test_qemu_kernels import SAMPLES, random_chain

from mcuforge.compile import CompileOptions
from mcuforge.importers import load_model
from mcuforge.runner import run_on_board

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
]

CORES = ["mps2-an500", "mps2-an505", "mps2-an385-m0plus"]
EXAMPLE = Path(__file__).resolve().parent.parent / "compiler" / "mcuforge" / "examples" / "digits_cnn.onnx"


@pytest.mark.parametrize("board", CORES)
@pytest.mark.parametrize("seed", range(4))
def test_random_layer_chains_bit_exact_on_every_core(board: str, seed: int, tmp_path: Path) -> None:
    model = random_chain(1000 + seed, tmp_path / f"chain{seed}.mfir")
    g = load_model(model)
    x = np.random.default_rng(seed).integers(-128, 128, (SAMPLES, *g.tensors["x"].shape[1:]), dtype=np.int8)
    result = run_on_board(model, x, board, out_dir=tmp_path / "fw")
    assert result.samples == SAMPLES and result.mismatches == {}


@pytest.mark.parametrize("board", CORES)
def test_example_on_every_core(board: str, tmp_path: Path) -> None:
    x = np.random.default_rng(0).random((2, 1, 8, 8), dtype=np.float32)
    result = run_on_board(EXAMPLE, x, board, CompileOptions(calib="random"), out_dir=tmp_path)
    assert result.mismatches == {} and all(n > 10_000 for n in result.instructions)
