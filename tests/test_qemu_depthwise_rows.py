"""m4dw (issue 12): mf_depthwise_conv_rows_s8's DSP path on the cores that run it (Cortex-M4
mps2-an386, Cortex-M7 mps2-an500, Cortex-M33 mps2-an505): the 3x3 rows in assembly (output
pairs, an odd row's last output alone, strides 1 and 2), the doubled sums requantized by SMMLAR
two channels at a time (activation clamps included), the rings filled two columns at a time.
Random chains of depthwise layers around those widths (odd and even output rows down to one
pixel, channel counts off multiples of 4, multipliers above 1, other window sizes), byte for byte
against the integer reference. Host tests (tests/runtime, -DMF_EMULATE_DSP) run the same
algorithm in C; the assembly runs only here."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from test_qemu_kernels import Chain

from mcuforge.importers import load_model
from mcuforge.ops.common import same_pads
from mcuforge.runner import run_on_board

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
]

SAMPLES = 2


def _window(c: Chain, k: tuple[int, int], stride: int, act: str) -> dict:
    _, h, w, _ = c.g.tensors[c.cur].shape
    top, bottom = same_pads(h, k[0], stride, 1)
    left, right = same_pads(w, k[1], stride, 1)
    return {"strides": (stride, stride), "dilations": (1, 1), "pads": (top, left, bottom, right),
            "activation": act}


def depthwise_chain(seed: int, path: Path) -> Path:
    """3x3 stride 1 -> 3x3 stride 2 (multiplier 1 or 2) -> 3x3 stride 1 -> a KxL window with
    multiplier 1-3 -> 3x3 stride 1: output widths odd and even, channels off multiples of 4."""
    rng = np.random.default_rng(4200 + seed)
    h, w = int(rng.integers(3, 14)), int(rng.integers(2, 20))
    c = Chain(rng, (1, h, w, int(rng.choice((1, 3, 4, 5, 6, 7, 9, 12, 17)))))
    acts = ("NONE", "RELU", "RELU6")
    c.weighted("DEPTHWISE_CONV_2D", (1, 3, 3, c.channels()), 3,
               {**_window(c, (3, 3), 1, str(rng.choice(acts))), "depth_multiplier": 1})
    mult = int(rng.integers(1, 3))
    c.weighted("DEPTHWISE_CONV_2D", (1, 3, 3, c.channels() * mult), 3,
               {**_window(c, (3, 3), 2, str(rng.choice(acts))), "depth_multiplier": mult})
    c.weighted("DEPTHWISE_CONV_2D", (1, 3, 3, c.channels()), 3,
               {**_window(c, (3, 3), 1, str(rng.choice(acts))), "depth_multiplier": 1})
    k = (int(rng.integers(1, 6)), int(rng.integers(1, 10)))
    m2 = int(rng.integers(1, 4))
    c.weighted("DEPTHWISE_CONV_2D", (1, *k, c.channels() * m2), 3,
               {**_window(c, k, 1, str(rng.choice(acts))), "depth_multiplier": m2})
    c.weighted("DEPTHWISE_CONV_2D", (1, 3, 3, c.channels()), 3,
               {**_window(c, (3, 3), 1, str(rng.choice(acts))), "depth_multiplier": 1})
    return c.finish(path)


@pytest.mark.parametrize("board", ["mps2-an386", "mps2-an500", "mps2-an505"])
@pytest.mark.parametrize("seed", range(8))
def test_depthwise_rows_bit_exact_on_dsp_cores(board: str, seed: int, tmp_path: Path) -> None:
    model = depthwise_chain(seed, tmp_path / f"dw{seed}.mfir")
    g = load_model(model)
    x = np.random.default_rng(300 + seed).integers(-128, 128, (SAMPLES, *g.tensors["x"].shape[1:]),
                                                   dtype=np.int8)
    result = run_on_board(model, x, board, out_dir=tmp_path / "fw")
    assert result.samples == SAMPLES
    assert result.mismatches == {}, [op.kind for op in g.ops]
    kernels = [row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]]
    # the rows kernel takes every layer but 3x3 multiplier-1 ones with C % 4 == 0 and narrow rows
    assert "mf_depthwise_conv_rows_s8" in kernels, kernels


def s1_width_chain(width: int, seed: int, path: Path) -> Path:
    """dw2: 3x3 stride-1 layers of one output width (the assembly's blocks of five outputs and
    its tails of 1-4), 'same' and 'valid' padding, multipliers 1 and 2-3, channels off
    multiples of 4, and one layer of stride 2 down and 1 across."""
    rng = np.random.default_rng(5100 + 31 * width + seed)
    h = int(rng.integers(2, 12))
    c = Chain(rng, (1, h, width + 2, int(rng.choice((1, 3, 5, 6, 7, 9)))))
    acts = ("NONE", "RELU", "RELU6")
    # valid padding: width + 2 -> width
    c.weighted("DEPTHWISE_CONV_2D", (1, 3, 3, c.channels()), 3,
               {"strides": (1, 1), "dilations": (1, 1), "pads": (0, 0, 0, 0),
                "activation": str(rng.choice(acts)), "depth_multiplier": 1})
    mult = int(rng.integers(2, 4))
    c.weighted("DEPTHWISE_CONV_2D", (1, 3, 3, c.channels() * mult), 3,
               {**_window(c, (3, 3), 1, str(rng.choice(acts))), "depth_multiplier": mult})
    c.weighted("DEPTHWISE_CONV_2D", (1, 3, 3, c.channels()), 3,
               {**_window(c, (3, 3), 1, str(rng.choice(acts))), "depth_multiplier": 1})
    # stride 2 down, 1 across (the stride-1 assembly with rows two apart)
    _, hh, _, _ = c.g.tensors[c.cur].shape
    top, bottom = same_pads(hh, 3, 2, 1)
    c.weighted("DEPTHWISE_CONV_2D", (1, 3, 3, c.channels()), 3,
               {"strides": (2, 1), "dilations": (1, 1), "pads": (top, 1, bottom, 1),
                "activation": str(rng.choice(acts)), "depth_multiplier": 1})
    return c.finish(path)


@pytest.mark.parametrize(("board", "width"), [("mps2-an386", w) for w in (1, 2, 3, 4, 5, 6, 7, 9, 10, 13)]
                         + [("mps2-an500", 7), ("mps2-an505", 11)])
def test_depthwise_rows_3x3_s1_widths(board: str, width: int, tmp_path: Path) -> None:
    model = s1_width_chain(width, 0, tmp_path / f"dw_w{width}.mfir")
    g = load_model(model)
    x = np.random.default_rng(700 + width).integers(-128, 128, (SAMPLES, *g.tensors["x"].shape[1:]),
                                                    dtype=np.int8)
    result = run_on_board(model, x, board, out_dir=tmp_path / "fw")
    assert result.samples == SAMPLES
    assert result.mismatches == {}, [op.kind for op in g.ops]
    kernels = [row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]]
    assert "mf_depthwise_conv_rows_s8" in kernels, kernels
