"""m4pw (issue 12): mf_convolve_1x1_i4_s8 and mf_fully_connected_i4_s8 (the i4 weight layout,
kernels/dsp_i4.py) under QEMU on the DSP cores that choose them, a Cortex-M4 (an386), M7 (an500)
and M33 (an505): their inline assembly (LDM / LDRD loops, SSAT / BFI packing) byte for byte
against the integer reference, on random chains with channel counts around the layout's blocks
(pairs, groups of four, input quads) and odd and even pixel counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from test_qemu_kernels import Chain

from mcuforge.importers import load_model
from mcuforge.runner import run_on_board

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
]

DEEP = (9, 10, 11, 12, 13, 16, 17, 33)


def i4_chain(seed: int, path: Path) -> Path:
    """1x1 CONV_2D -> 1x1 CONV_2D -> flatten -> FULLY_CONNECTED -> FULLY_CONNECTED (the dense
    layers' widths around groups of four)."""
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 6)), int(rng.integers(1, 8))
    c = Chain(rng, (1, h, w, int(rng.choice(DEEP))))
    for _ in range(2):  # more than 8 input channels: the DSP choice (conv1x1_i4_takes)
        c.weighted("CONV_2D", (int(rng.choice(DEEP)), 1, 1, c.channels()), 0, c.window(1, 1))
    size = int(np.prod(c.g.tensors[c.cur].shape))
    c.add("RESHAPE", [c.cur], {"shape": (1, size)}, c.g.tensors[c.cur].quant)
    # dense layers of at least 1024 weights (the DSP choice, kernels/target.py fc_i4_takes)
    units = max(4, -(-1024 // size)) + int(rng.integers(0, 4))
    c.weighted("FULLY_CONNECTED", (units, size), 0, {"activation": "RELU"})
    units = max(4, -(-1024 // units)) + int(rng.integers(0, 4))
    c.weighted("FULLY_CONNECTED", (units, c.channels()), 0, {"activation": "NONE"})
    return c.finish(path)


@pytest.mark.parametrize("board", ["mps2-an386", "mps2-an500", "mps2-an505"])
@pytest.mark.parametrize("seed", range(3))
def test_i4_kernels_bit_exact_on_dsp_cores(board: str, seed: int, tmp_path: Path) -> None:
    model = i4_chain(8100 + seed, tmp_path / f"i4_{seed}.mfir")
    g = load_model(model)
    x = np.random.default_rng(seed).integers(-128, 128, (3, *g.tensors["x"].shape[1:]), dtype=np.int8)
    result = run_on_board(model, x, board, out_dir=tmp_path / "fw")
    assert result.samples == 3
    assert result.mismatches == {}, [op.kind for op in g.ops]
    kernels = {row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]}
    assert kernels - {"alias"} == {"mf_convolve_1x1_i4_s8", "mf_fully_connected_i4_s8"}, kernels


@pytest.mark.parametrize("board", ["mps2-an386", "mps2-an500", "mps2-an505"])
@pytest.mark.parametrize("hw", [(3, 5), (2, 4)])
def test_i4_conv_every_loop_entry(board: str, hw: tuple[int, int], tmp_path: Path) -> None:
    """A chain of 1x1 convolutions whose depths take the 2x2 MAC loop in at each of its four
    bodies (6, 4, 5 and 3 input quads) and whose widths leave 1, 2 and 3 channels of a last
    group, on an odd and an even pixel count."""
    rng = np.random.default_rng(8200 + hw[0])
    c = Chain(rng, (1, *hw, 24))
    for cout in (13, 17, 10, 11, 9):
        c.weighted("CONV_2D", (cout, 1, 1, c.channels()), 0, c.window(1, 1))
    model = c.finish(tmp_path / "i4_entry.mfir")
    g = load_model(model)
    x = rng.integers(-128, 128, (2, *g.tensors["x"].shape[1:]), dtype=np.int8)
    result = run_on_board(model, x, board, out_dir=tmp_path / "fw")
    assert result.mismatches == {}
    kernels = {row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]}
    assert kernels == {"mf_convolve_1x1_i4_s8"}, kernels
