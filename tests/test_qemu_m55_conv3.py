"""speed-m55 (issue 12) under QEMU on mps3-an547: mf_convolve3x3_s8 (chosen for the M55) on 3x3
convolutions with stride 1 and 16, 32 and 64 input channels and stride 2 and 16 and 32 (the
inline-assembly passes: three pixels by two channels, the window rows walked by post-increments,
outputs staged over several channel blocks), widths around the three-pixel groups and padded
borders, and MAX_POOL_2D's Helium path, byte for byte against the integer reference."""

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


def conv3_chain(seed: int, path: Path) -> Path:
    """3x3 at 16 -> 16 -> 32 (stride 2) -> 32 -> 64 (stride 2) -> 64 -> 64 channels, 'same'
    padding or none."""
    rng = np.random.default_rng(5700 + seed)
    c = Chain(rng, (1, int(rng.integers(1, 8)), int(rng.integers(1, 12)), 16))
    for cout, stride in ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (64, 1)):
        _, h, w, _ = c.g.tensors[c.cur].shape
        geo = c.window(3, stride)
        if rng.random() < 0.3 and h >= 3 and w >= 3:
            geo["pads"] = (0, 0, 0, 0)  # valid: every group inside but a row's last
        c.weighted("CONV_2D", (cout, 3, 3, c.channels()), 0, geo)
    return c.finish(path)


@pytest.mark.parametrize("seed", range(4))
def test_m55_conv3_bit_exact(seed: int, tmp_path: Path) -> None:
    model = conv3_chain(seed, tmp_path / f"conv3_{seed}.mfir")
    from mcuforge.importers import load_model

    g = load_model(model)
    x = np.random.default_rng(400 + seed).integers(-128, 128, (SAMPLES, *g.tensors["x"].shape[1:]),
                                                   dtype=np.int8)
    result = run_on_board(model, x, "mps3-an547", out_dir=tmp_path / "fw")
    assert result.mismatches == {}
    kernels = [row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]]
    assert kernels == ["mf_convolve3x3_s8"] * 6, kernels


def maxpool_chain(seed: int, path: Path) -> Path:
    """Max pooling on the Helium path: 2x2 stride 2 and 3x3 stride 1-2 'same', channels around
    one and two vectors of sixteen, a RELU6-like activation range on the last."""
    rng = np.random.default_rng(5800 + seed)
    c = Chain(rng, (1, int(rng.integers(4, 12)), int(rng.integers(4, 12)), int(rng.choice([8, 16, 17, 33]))))
    q = c.g.tensors[c.cur].quant
    c.add("MAX_POOL_2D", [c.cur], {"kernel": (2, 2), "strides": (2, 2), "pads": (0, 0, 0, 0),
                                   "activation": "NONE"}, q)
    stride = int(rng.integers(1, 3))
    geo = c.window(3, stride)
    c.add("MAX_POOL_2D", [c.cur], {"kernel": (3, 3), "strides": (stride, stride), "pads": geo["pads"],
                                   "activation": str(rng.choice(["RELU", "RELU6"]))}, q)
    return c.finish(path)


@pytest.mark.parametrize("seed", range(3))
def test_m55_maxpool_bit_exact(seed: int, tmp_path: Path) -> None:
    model = maxpool_chain(seed, tmp_path / f"maxpool_{seed}.mfir")
    from mcuforge.importers import load_model

    g = load_model(model)
    x = np.random.default_rng(500 + seed).integers(-128, 128, (SAMPLES, *g.tensors["x"].shape[1:]),
                                                   dtype=np.int8)
    result = run_on_board(model, x, "mps3-an547", out_dir=tmp_path / "fw")
    assert result.mismatches == {}
    kernels = [row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]]
    assert kernels == ["mf_maxpool_s8"] * 2, kernels
