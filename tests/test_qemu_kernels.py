"""The hand-scheduled DSP paths (SMLAD loops, the assembly of the 1x1, depthwise and dense
kernels) run only on the target, so host tests cannot reach them. Here random int8 layer chains
with shapes around the 4- and 8-wide edges are compiled to firmware and run under QEMU on a
Cortex-M4 (DSP) and a Cortex-M3 (portable C), byte for byte against the integer reference."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mcuforge.importers.ir_file import save_ir
from mcuforge.ir.graph import Graph, Op, QuantParams, Tensor
from mcuforge.ir.verify import verify
from mcuforge.ops.common import same_pads
from mcuforge.ops.registry import infer_shapes
from mcuforge.runner import run_on_board

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed"),
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm not installed"),
]

CHANNELS = (1, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17)
SAMPLES = 3
KERNELS = {"mf_convolve_1x1_s8", "mf_depthwise_conv_s8", "mf_convolve_s8", "mf_elementwise_add_s8",
           "mf_fully_connected_s8"}


class Chain:
    """A random chain of int8 layers; every activation gets its own random encoding."""

    def __init__(self, rng: np.random.Generator, shape: tuple[int, ...]) -> None:
        self.rng, self.g = rng, Graph()
        self.g.add_tensor(Tensor("x", shape, "int8", None, self.act_quant()))
        self.g.inputs, self.cur = ["x"], "x"

    def act_quant(self) -> QuantParams:
        return QuantParams(np.float32(self.rng.uniform(0.01, 0.1)), int(self.rng.integers(-128, 128)))

    def const(self, name: str, data: np.ndarray, quant: QuantParams) -> str:
        return self.g.add_const(name, data, quant)

    def weighted(self, kind: str, w_shape: tuple[int, ...], axis: int, attrs: dict) -> None:
        rng, x = self.rng, self.g.tensors[self.cur]
        w = rng.integers(-127, 128, w_shape, dtype=np.int8)
        w_scale = rng.uniform(0.002, 0.02, w_shape[axis]).astype(np.float32)
        in_scale = float(x.quant.scale[0]) if x.quant is not None else 1.0
        b = rng.integers(-5000, 5000, w_shape[axis], dtype=np.int32)
        name = self.g.unique_name(kind.lower())
        inputs = [self.cur,
                  self.const(f"{name}_w", w, QuantParams(w_scale, np.zeros(w_shape[axis], np.int64), axis)),
                  self.const(f"{name}_b", b, QuantParams(np.float32(in_scale) * w_scale,
                                                         np.zeros(w_shape[axis], np.int64), 0))]
        depth = int(np.prod(w_shape)) // w_shape[axis] if kind != "DEPTHWISE_CONV_2D" else 9
        spread = 127.0 * np.sqrt(depth) * in_scale * float(w_scale.mean()) * rng.uniform(0.5, 2.0)
        self.add(kind, inputs, attrs, QuantParams(np.float32(spread), int(rng.integers(-128, 128))))

    def add(self, kind: str, inputs: list[str], attrs: dict, quant: QuantParams) -> None:
        name = self.g.unique_name(kind.lower())
        op = Op(kind, name, inputs, [name], attrs)
        shape = infer_shapes(op, [self.g.tensors[n].shape for n in inputs])[0]
        self.g.add_tensor(Tensor(name, shape, "int8", None, quant))
        self.g.add_op(op)
        self.cur = name

    def window(self, k: int, stride: int) -> dict:
        _, h, w, _ = self.g.tensors[self.cur].shape
        top, bottom = same_pads(h, k, stride, 1)
        left, right = same_pads(w, k, stride, 1)
        act = str(self.rng.choice(["NONE", "RELU", "RELU6"]))
        return {"strides": (stride, stride), "dilations": (1, 1), "pads": (top, left, bottom, right),
                "activation": act}

    def channels(self) -> int:
        return self.g.tensors[self.cur].shape[-1]

    def finish(self, path: Path) -> Path:
        self.g.outputs = [self.cur]
        verify(self.g)
        return save_ir(self.g, path)


def random_chain(seed: int, path: Path) -> Path:
    """1x1 conv -> 3x3 depthwise (stride 1) -> 3x3 depthwise (stride 2, multiplier) -> 3x3 conv
    -> ADD with the conv's input -> KxK depthwise (multiplier 1, 2 or 8) -> flatten -> dense:
    every optimized kernel path once."""
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(3, 12)), int(rng.integers(3, 18))  # w >= 12: the depthwise rows path
    c = Chain(rng, (1, h, w, int(rng.choice(CHANNELS))))
    c.weighted("CONV_2D", (int(rng.choice(CHANNELS)), 1, 1, c.channels()), 0, c.window(1, 1))
    c.weighted("DEPTHWISE_CONV_2D", (1, 3, 3, c.channels()), 3, {**c.window(3, 1), "depth_multiplier": 1})
    mult = int(rng.integers(1, 3))
    c.weighted("DEPTHWISE_CONV_2D", (1, 3, 3, c.channels() * mult), 3,
               {**c.window(3, 2), "depth_multiplier": mult})
    skip = c.cur
    c.weighted("CONV_2D", (c.channels(), 3, 3, c.channels()), 0, c.window(3, 1))
    c.add("ADD", [c.cur, skip], {"activation": "NONE"}, c.act_quant())
    # speed-m4 (issue 12): a depthwise of another window size and multiplier (the rows path)
    k, m2 = int(rng.integers(1, 6)), int(rng.choice((1, 2, 8)))
    c.weighted("DEPTHWISE_CONV_2D", (1, k, k, c.channels() * m2), 3,
               {**c.window(k, 1), "depth_multiplier": m2})
    size = int(np.prod(c.g.tensors[c.cur].shape))
    c.add("RESHAPE", [c.cur], {"shape": (1, size)}, c.g.tensors[c.cur].quant)
    c.weighted("FULLY_CONNECTED", (int(rng.choice(CHANNELS)), size), 0, {"activation": "NONE"})
    return c.finish(path)


@pytest.mark.parametrize("board", ["mps2-an386", "mps2-an385", "mps3-an547"])
@pytest.mark.parametrize("seed", range(16))
def test_random_layer_chains_bit_exact_on_target(board: str, seed: int, tmp_path: Path) -> None:
    model = random_chain(seed, tmp_path / f"chain{seed}.mfir")
    from mcuforge.importers import load_model

    g = load_model(model)
    x = np.random.default_rng(100 + seed).integers(-128, 128, (SAMPLES, *g.tensors["x"].shape[1:]),
                                                   dtype=np.int8)
    result = run_on_board(model, x, board, out_dir=tmp_path / "fw")
    assert result.samples == SAMPLES
    assert result.mismatches == {}, [op.kind for op in g.ops]
    kernels = {row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]}  # "(path)" off
    # speed-m4: a depthwise layer takes mf_depthwise_conv_s8 or mf_depthwise_conv_rows_s8
    kernels |= {"mf_depthwise_conv_s8"} if "mf_depthwise_conv_rows_s8" in kernels else set()
    # speed-m4: a 1x1 to one output channel takes mf_convolve_1x1_one_s8
    kernels |= {"mf_convolve_1x1_s8"} if "mf_convolve_1x1_one_s8" in kernels else set()
    # m4pw: DSP cores run 1x1 convolutions and dense layers on i4 weights
    kernels |= {"mf_convolve_1x1_s8"} if "mf_convolve_1x1_i4_s8" in kernels else set()
    kernels |= {"mf_fully_connected_s8"} if "mf_fully_connected_i4_s8" in kernels else set()
    # speed-m55: on the M55 a 3x3 convolution of 16 channels takes mf_convolve3x3_s8
    kernels |= {"mf_convolve_s8"} if "mf_convolve3x3_s8" in kernels else set()
    assert kernels >= KERNELS, kernels


# -- speed-m55: the Helium (MVE) paths, on the Cortex-M55 ------------------------------------------

MVE_KERNELS = {"mf_convolve_s8", "mf_depthwise_conv_s8", "mf_avgpool_s8", "mf_mean_s8",
               "mf_elementwise_add_s8", "mf_fully_connected_s8"}


def dilated_window(c: Chain, k: int, stride: int, dilation: int) -> dict:
    _, h, w, _ = c.g.tensors[c.cur].shape
    top, bottom = same_pads(h, k, stride, dilation)
    left, right = same_pads(w, k, stride, dilation)
    return {"strides": (stride, stride), "dilations": (dilation, dilation),
            "pads": (top, left, bottom, right), "activation": str(c.rng.choice(["NONE", "RELU", "RELU6"]))}


def mve_chain(seed: int, path: Path) -> Path:
    """A first layer (1-3 input channels, 3x3 stride 2) -> depthwise 5x5 with channel multiplier 2-3
    (gathered lanes) -> depthwise 3x3 dilation 2 -> convolution 3x3 to 8-16 channels (windows read
    in place) -> convolution 3x3 dilation 2 -> ADD -> average pool 3x3 stride 2 (borders) -> MEAN
    over H, W -> 1x1 to 64 channels -> 1x1 from 64 channels (a row held in registers) -> dense:
    the MVE paths the plain chain does not reach."""
    rng = np.random.default_rng(1000 + seed)
    h, w = int(rng.integers(5, 14)), int(rng.integers(5, 14))
    c = Chain(rng, (1, h, w, int(rng.integers(1, 4))))
    c.weighted("CONV_2D", (int(rng.choice(CHANNELS)), 3, 3, c.channels()), 0, c.window(3, 2))
    mult = int(rng.integers(2, 4))
    c.weighted("DEPTHWISE_CONV_2D", (1, 5, 5, c.channels() * mult), 3,
               {**dilated_window(c, 5, int(rng.integers(1, 3)), 1), "depth_multiplier": mult})
    c.weighted("DEPTHWISE_CONV_2D", (1, 3, 3, c.channels()), 3,
               {**dilated_window(c, 3, 1, 2), "depth_multiplier": 1})
    c.weighted("CONV_2D", (int(rng.choice([8, 12, 16])), 3, 3, c.channels()), 0, c.window(3, 1))
    skip = c.cur
    c.weighted("CONV_2D", (c.channels(), 3, 3, c.channels()), 0, dilated_window(c, 3, 1, 2))
    c.add("ADD", [c.cur, skip], {"activation": "NONE"}, c.act_quant())
    _, ph, pw, _ = c.g.tensors[c.cur].shape
    top, bottom = same_pads(ph, 3, 2, 1)
    left, right = same_pads(pw, 3, 2, 1)
    pool = {"kernel": (3, 3), "strides": (2, 2), "pads": (top, left, bottom, right), "activation": "NONE"}
    c.add("AVERAGE_POOL_2D", [c.cur], pool, c.g.tensors[c.cur].quant)
    c.add("MEAN", [c.cur], {"axes": (1, 2), "keepdims": True}, c.act_quant())
    c.weighted("CONV_2D", (64, 1, 1, c.channels()), 0, c.window(1, 1))
    c.weighted("CONV_2D", (int(rng.choice([4, 8, 12, 16, 17])), 1, 1, 64), 0, c.window(1, 1))
    size = c.channels()
    c.add("RESHAPE", [c.cur], {"shape": (1, size)}, c.g.tensors[c.cur].quant)
    c.weighted("FULLY_CONNECTED", (int(rng.choice(CHANNELS)), size), 0, {"activation": "NONE"})
    return c.finish(path)


@pytest.mark.parametrize("seed", range(8))
def test_mve_paths_bit_exact_on_cortex_m55(seed: int, tmp_path: Path) -> None:
    model = mve_chain(seed, tmp_path / f"mve{seed}.mfir")
    from mcuforge.importers import load_model

    g = load_model(model)
    shape = (SAMPLES, *g.tensors["x"].shape[1:])
    x = np.random.default_rng(200 + seed).integers(-128, 128, shape, dtype=np.int8)
    result = run_on_board(model, x, "mps3-an547", out_dir=tmp_path / "fw")
    assert result.samples == SAMPLES
    assert result.mismatches == {}, [op.kind for op in g.ops]
    kernels = {row["kernel"].split(" ")[0] for row in result.compiled.report["ops"]}
    # mf_depthwise_conv_rows_s8 hands MVE builds to mf_depthwise_conv_s8's Helium paths
    kernels |= {"mf_depthwise_conv_s8"} if "mf_depthwise_conv_rows_s8" in kernels else set()
    # speed-m4: a 1x1 to one output channel takes mf_convolve_1x1_one_s8
    kernels |= {"mf_convolve_1x1_s8"} if "mf_convolve_1x1_one_s8" in kernels else set()
    # speed-m55: a 3x3 convolution of 16, 32 or 64 channels takes mf_convolve3x3_s8
    kernels |= {"mf_convolve_s8"} if "mf_convolve3x3_s8" in kernels else set()
    assert kernels >= MVE_KERNELS, kernels
