"""One-op int8 graphs with random but realistic quantization, run through the reference.

`OneOp` builds a graph around a single op, computes the op's C binding with
mcuforge.kernel_params and the expected output with mcuforge.reference.run (which dispatches
to the op's ref_int), so a test only has to call the kernel and compare.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from mcuforge.ir.graph import Graph, Op, QuantParams, Tensor
from mcuforge.kernel_params import KernelCall, kernel_call
from mcuforge.ops.registry import Ctx, infer_shapes
from mcuforge.reference import run

CHANNELS = (1, 3, 4, 5, 7, 8, 9, 15, 16, 17)
ACTIVATIONS = ("NONE", "NONE", "RELU", "RELU6")


def cases(n: int) -> list[int]:
    """Seeds of n random cases, scaled by MF_RUNTIME_CASES (a fraction, e.g. 0.25)."""
    scale = float(os.environ.get("MF_RUNTIME_CASES", "1"))
    return list(range(max(1, round(n * scale))))


def act_quant(rng: np.random.Generator) -> QuantParams:
    return QuantParams(np.float32(rng.uniform(0.005, 0.1)), int(rng.integers(-128, 128)))


def act_data(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


@dataclass
class OneOp:
    kind: str
    attrs: dict
    graph: Graph = field(default_factory=Graph)
    feeds: dict[str, np.ndarray] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)

    def input(self, data: np.ndarray, quant: QuantParams, const: bool = False) -> str:
        name = f"in{len(self.names)}"
        t = Tensor(name, tuple(data.shape), str(data.dtype), data if const else None, quant)
        self.graph.add_tensor(t)
        if not const:
            self.graph.inputs.append(name)
            self.feeds[name] = data
        self.names.append(name)
        return name

    def finish(self, out_quant: QuantParams, out_dtype: str = "int8",
               family: str = "host") -> tuple[KernelCall, np.ndarray]:
        """The op's kernel call for core `family` (mcuforge.kernels.target) and its reference output."""
        op = Op(self.kind, "op", list(self.names), ["out"], self.attrs)
        in_shapes = [self.graph.tensors[n].shape for n in self.names]
        shape = infer_shapes(op, in_shapes)[0]
        self.graph.add_tensor(Tensor("out", shape, out_dtype, None, out_quant))
        self.graph.add_op(op)
        self.graph.outputs.append("out")
        expected = run(self.graph, self.feeds)["out"]
        return kernel_call(Ctx.of(self.graph, op), family), expected


def weights(rng: np.random.Generator, shape: tuple[int, ...], axis: int) -> tuple[np.ndarray, QuantParams]:
    """int8 symmetric per-channel weights along `axis`."""
    w = rng.integers(-127, 128, size=shape, dtype=np.int8)
    scales = rng.uniform(0.001, 0.02, size=shape[axis]).astype(np.float32)
    return w, QuantParams(scales, np.zeros(shape[axis], dtype=np.int64), axis=axis)


def bias(rng: np.random.Generator, in_scale: float, w_scales: np.ndarray) -> tuple[np.ndarray, QuantParams]:
    b = rng.integers(-20000, 20000, size=w_scales.shape, dtype=np.int32)
    scales = (np.float32(in_scale) * w_scales).astype(np.float32)
    return b, QuantParams(scales, np.zeros(w_scales.shape, dtype=np.int64), axis=0)


def out_quant_for(rng: np.random.Generator, in_scale: float, w_scale: float, depth: int) -> QuantParams:
    """Output scale that spans roughly three accumulator deviations, jittered so some cases
    saturate and some use a fraction of the range."""
    spread = 127.0 * np.sqrt(depth) * in_scale * w_scale * rng.uniform(0.3, 3.0)
    return QuantParams(np.float32(spread), int(rng.integers(-128, 128)))
