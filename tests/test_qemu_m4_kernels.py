"""speed-m4 (issue 12): the Cortex-M4 paths added for narrow shapes (the transposed convolution's
two-channel pixel loop, the 1x1 convolution to one output channel, the first layers' inside-window
gather) run under QEMU on a Cortex-M4
(DSP instructions, the inline assembly of mf_rq1), a Cortex-M3 (portable C) and a Cortex-M55
(the transposed convolution has no Helium path: it runs the DSP one there), byte for byte
against the integer reference, on random chains with shapes around their block widths."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from test_qemu_kernels import CHANNELS, Chain

from mcuforge.importers import load_model
from mcuforge.runner import run_on_board

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
]


def narrow_chain(seed: int, path: Path) -> Path:
    """TRANSPOSE_CONV (kernel 1-4, stride 1-3, 1-3 or more input channels) -> 1x1 CONV_2D to
    one channel."""
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(2, 7)), int(rng.integers(2, 7))
    cin = int(rng.choice((1, 2, 3, *CHANNELS)))
    c = Chain(rng, (1, h, w, cin))
    k = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    padding = (int(rng.integers(0, k[0])), int(rng.integers(0, k[1])))
    out_hw = tuple((h, w)[i] * s[i] + max(k[i] - s[i], 0) - padding[i] for i in range(2))
    act = str(rng.choice(["NONE", "RELU", "RELU6"]))
    cout = int(rng.choice(CHANNELS))
    c.weighted("TRANSPOSE_CONV", (cout, *k, cin), 0,
               {"strides": s, "padding": padding, "output_hw": out_hw, "activation": act})
    c.weighted("CONV_2D", (1, 1, 1, c.channels()), 0, c.window(1, 1))
    return c.finish(path)


@pytest.mark.parametrize("board", ["mps2-an386", "mps2-an385", "mps3-an547"])
@pytest.mark.parametrize("seed", range(4))
def test_narrow_paths_bit_exact_on_target(board: str, seed: int, tmp_path: Path) -> None:
    model = narrow_chain(7000 + seed, tmp_path / f"narrow{seed}.mfir")
    g = load_model(model)
    x = np.random.default_rng(seed).integers(-128, 128, (2, *g.tensors["x"].shape[1:]), dtype=np.int8)
    result = run_on_board(model, x, board, out_dir=tmp_path / "fw")
    assert result.samples == 2
    assert result.mismatches == {}, [op.kind for op in g.ops]
    kernels = {row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]}
    assert kernels >= {"mf_transpose_conv_s8", "mf_convolve_1x1_one_s8"}, kernels


def first_layer_chain(seed: int, path: Path) -> Path:
    """A first layer: CONV_2D of kernel 2-5, stride 1-2, on 1-3 (or 5, 7) input channels, on an
    image large enough to have interior windows (the inside-window gather) and borders."""
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(5, 13)), int(rng.integers(5, 13))
    cin = int(rng.choice((1, 2, 3, 5, 7)))
    c = Chain(rng, (1, h, w, cin))
    k, s = int(rng.integers(2, 6)), int(rng.integers(1, 3))
    c.weighted("CONV_2D", (int(rng.choice(CHANNELS)), k, k, cin), 0, c.window(k, s))
    return c.finish(path)


@pytest.mark.parametrize("board", ["mps2-an386", "mps2-an385"])
@pytest.mark.parametrize("seed", range(4))
def test_first_layer_bit_exact_on_target(board: str, seed: int, tmp_path: Path) -> None:
    model = first_layer_chain(7100 + seed, tmp_path / f"first{seed}.mfir")
    g = load_model(model)
    x = np.random.default_rng(seed).integers(-128, 128, (2, *g.tensors["x"].shape[1:]), dtype=np.int8)
    result = run_on_board(model, x, board, out_dir=tmp_path / "fw")
    assert result.samples == 2
    assert result.mismatches == {}, [op.kind for op in g.ops]
    assert {row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]} == {"mf_convolve_s8"}


# -- m4first (issue 12): mf_convolve_s8's DSP multiply (mf_nn_conv_pair_s16) on the DSP cores ------


def conv_pair_chain(seed: int, path: Path) -> Path:
    """CONV_2D on 1, 2, 3 or 5 input channels (patches padded to whole quads), kernel 1-5 by 2-5
    (or 1x1 at stride 2), stride 1-2, dilation 1-2, odd and even output channels, then a 3x3
    CONV_2D on those channels (whole quads when they are a multiple of 4)."""
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(6, 14)), int(rng.integers(6, 14))
    cin = int(rng.choice((1, 2, 3, 5)))
    c = Chain(rng, (1, h, w, cin))
    k = (int(rng.integers(1, 6)), int(rng.integers(2, 6)))
    s = int(rng.integers(1, 3))
    if seed % 4 == 3:  # 1x1 at stride 2: patches of 1-5 values, rows shorter than a quad
        k, s = (1, 1), 2
    d = int(rng.integers(1, 3)) if seed % 3 == 2 else 1
    attrs = c.window(max(k), s)
    attrs["dilations"] = (d, d)
    attrs["pads"] = tuple(min(p, k[i % 2] - 1) for i, p in enumerate(attrs["pads"]))
    c.weighted("CONV_2D", (int(rng.choice((3, 4, 7, 8, 9, 16))), *k, cin), 0, attrs)
    c.weighted("CONV_2D", (int(rng.choice((2, 5, 8))), 3, 3, c.channels()), 0, c.window(3, 1))
    return c.finish(path)


@pytest.mark.parametrize("board", ["mps2-an386", "mps2-an500", "mps2-an505"])
@pytest.mark.parametrize("seed", range(4))
def test_conv_pair_bit_exact_on_dsp_cores(board: str, seed: int, tmp_path: Path) -> None:
    model = conv_pair_chain(7300 + seed, tmp_path / f"pair{seed}.mfir")
    g = load_model(model)
    x = np.random.default_rng(seed).integers(-128, 128, (2, *g.tensors["x"].shape[1:]), dtype=np.int8)
    result = run_on_board(model, x, board, out_dir=tmp_path / "fw")
    assert result.samples == 2
    assert result.mismatches == {}, [op.kind for op in g.ops]
    assert {row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]} == {"mf_convolve_s8"}
