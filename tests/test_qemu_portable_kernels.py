"""m3 (issue 12): the portable family's packed row pairs (mf_portable_nn.h) and the one-row dense
loop run in inline assembly only on a Cortex-M3; the Cortex-M0+ (ARMv6-M, no SMLAL) keeps the
int8 paths. Random layer chains through them, with input depths across the loops' four-input
steps and the 252-input split of the 64-bit sums, odd pixel and channel counts, are compiled to
firmware and run under QEMU on both cores, byte for byte against the integer reference."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from test_qemu_kernels import Chain

from mcuforge.importers import load_model
from mcuforge.ir.graph import QuantParams
from mcuforge.runner import run_on_board

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
]

KERNELS = {"mf_convolve_1x1_s8", "mf_convolve_s8", "mf_fully_connected_s8"}


def portable_chain(seed: int, path: Path) -> Path:
    """3x3 convolution from 1-3 channels (stride 1 or 2) -> 1x1 to 29-64 channels -> 3x3
    convolution (patches of 261-576 inputs: the split) -> 1x1 to 260 channels -> 1x1 from 260
    (the split) to an odd count -> flatten -> dense (one row, depth % 4 != 0 often)."""
    rng = np.random.default_rng(3000 + seed)
    h, w = int(rng.integers(3, 8)), int(rng.integers(3, 8))
    c = Chain(rng, (1, h, w, int(rng.integers(1, 4))))
    c.weighted("CONV_2D", (int(rng.choice([4, 5, 8])), 3, 3, c.channels()), 0,
               c.window(3, int(rng.integers(1, 3))))
    c.weighted("CONV_2D", (int(rng.choice([29, 33, 64])), 1, 1, c.channels()), 0, c.window(1, 1))
    c.weighted("CONV_2D", (int(rng.choice([3, 7, 16])), 3, 3, c.channels()), 0, c.window(3, 1))
    c.weighted("CONV_2D", (260, 1, 1, c.channels()), 0, c.window(1, 1))
    c.weighted("CONV_2D", (int(rng.choice([5, 9, 17])), 1, 1, c.channels()), 0, c.window(1, 1))
    size = int(np.prod(c.g.tensors[c.cur].shape))
    c.add("RESHAPE", [c.cur], {"shape": (1, size)}, c.g.tensors[c.cur].quant)
    c.weighted("FULLY_CONNECTED", (int(rng.choice([4, 7, 12])), size), 0, {"activation": "NONE"})
    return c.finish(path)


@pytest.mark.parametrize("board", ["mps2-an385", "mps2-an385-m0plus"])
@pytest.mark.parametrize("seed", range(4))
def test_portable_paths_bit_exact_on_target(board: str, seed: int, tmp_path: Path) -> None:
    model = portable_chain(seed, tmp_path / f"pt{seed}.mfir")
    g = load_model(model)
    x = np.random.default_rng(300 + seed).integers(-128, 128, (3, *g.tensors["x"].shape[1:]),
                                                   dtype=np.int8)
    result = run_on_board(model, x, board, out_dir=tmp_path / "fw")
    assert result.samples == 3
    assert result.mismatches == {}, [op.kind for op in g.ops]
    kernels = {row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]}
    assert kernels >= KERNELS, kernels


@pytest.mark.parametrize("board", ["mps2-an385", "mps2-an385-m0plus"])
@pytest.mark.parametrize("depth", [252, 256, 520])
def test_packed_sums_at_their_bound_on_target(board: str, depth: int, tmp_path: Path) -> None:
    """Inputs and weights at -128 (and 127): the largest sums the assembly's split of the 64-bit
    sums must keep apart (252 inputs: one chunk at the bound; 256, 520: several), with an output
    scale wide enough that no output saturates, so a wrong split shows."""
    rng = np.random.default_rng(depth)
    c = Chain(rng, (1, 1, 3, depth))
    in_scale = float(c.g.tensors["x"].quant.scale[0])
    w = rng.integers(-127, 128, (6, 1, 1, depth), dtype=np.int8)
    w[0], w[1], w[2] = -128, 127, np.where(rng.random(depth) < 0.5, -128, 127)
    w_scale = np.full(6, 0.01, np.float32)
    name = "conv"
    wq = QuantParams(w_scale, np.zeros(6, np.int64), 0)
    bq = QuantParams(np.float32(in_scale) * w_scale, np.zeros(6, np.int64), 0)
    inputs = [c.cur, c.const(f"{name}_w", w, wq), c.const(f"{name}_b", np.zeros(6, np.int32), bq)]
    spread = in_scale * 0.01 * depth * 16384 * 2 / 120  # |sum| <= depth * 2^14 (+ the offset term)
    c.add("CONV_2D", inputs, c.window(1, 1) | {"activation": "NONE"}, QuantParams(np.float32(spread), 0))
    model = c.finish(tmp_path / f"bound{depth}.mfir")
    x = np.full((2, 1, 3, depth), -128, np.int8)
    x[1, 0, 1] = 127
    result = run_on_board(model, x, board, out_dir=tmp_path / "fw")
    assert result.mismatches == {}
    assert {row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]} == {"mf_convolve_1x1_s8"}


def few_channels_chain(seed: int, path: Path) -> Path:
    """m3fix: the few-channel cases: 1x1 convolutions from 1-3 input channels (depths below one
    four-input pass) to 1-3 channels, a 7x7 convolution (pad 3, mostly border windows) to one
    channel, a 3x3 convolution to 2-3 channels, a 1x1 convolution to 9 (a block of 8 and an odd
    channel) and from there, 3x3 to 1 channel (81 inputs), over odd pixel counts."""
    rng = np.random.default_rng(4000 + seed)
    h, w = int(rng.integers(3, 9)), int(rng.integers(3, 9))
    c = Chain(rng, (1, h, w, int(rng.integers(1, 4))))
    c.weighted("CONV_2D", (int(rng.integers(1, 4)), 1, 1, c.channels()), 0, c.window(1, 1))
    c.weighted("CONV_2D", (1, 7, 7, c.channels()), 0, c.window(7, 1))
    c.weighted("CONV_2D", (int(rng.integers(2, 4)), 3, 3, c.channels()), 0, c.window(3, 1))
    c.weighted("CONV_2D", (9, 1, 1, c.channels()), 0, c.window(1, 1))
    c.weighted("CONV_2D", (1, 3, 3, c.channels()), 0, c.window(3, int(rng.integers(1, 3))))
    return c.finish(path)


@pytest.mark.parametrize("board", ["mps2-an385", "mps2-an385-m0plus"])
@pytest.mark.parametrize("seed", range(3))
def test_few_channel_paths_bit_exact_on_target(board: str, seed: int, tmp_path: Path) -> None:
    model = few_channels_chain(seed, tmp_path / f"fc{seed}.mfir")
    g = load_model(model)
    x = np.random.default_rng(400 + seed).integers(-128, 128, (3, *g.tensors["x"].shape[1:]),
                                                   dtype=np.int8)
    result = run_on_board(model, x, board, out_dir=tmp_path / "fw")
    assert result.samples == 3
    assert result.mismatches == {}, [op.kind for op in g.ops]
    kernels = {row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]}
    assert kernels >= {"mf_convolve_1x1_s8", "mf_convolve_s8"}, kernels
