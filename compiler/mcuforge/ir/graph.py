"""Tensors, ops and graphs.

Activations are NHWC inside the IR whatever the source model used; `Graph.io_layouts` remembers
how a model's own inputs and outputs were laid out so users can feed data in that layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

Shape = tuple[int, ...]

DTYPES = ("float32", "int8", "int16", "int32", "int64", "uint8", "bool")


@dataclass
class QuantParams:
    """Affine quantization: real = scale * (q - zero_point), per tensor or along `axis`."""

    scale: np.ndarray  # float32, shape (1,) or (channels,)
    zero_point: np.ndarray  # int64, same shape as scale
    axis: int | None = None  # channel axis for per-channel parameters

    def __post_init__(self) -> None:
        self.scale = np.atleast_1d(np.asarray(self.scale, dtype=np.float32))
        self.zero_point = np.atleast_1d(np.asarray(self.zero_point, dtype=np.int64))
        if self.zero_point.shape != self.scale.shape:
            self.zero_point = np.broadcast_to(self.zero_point, self.scale.shape).copy()

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1

    def broadcast_shape(self, rank: int) -> Shape:
        """Shape that lets scale/zero_point broadcast against a tensor of `rank`."""
        if not self.per_channel or self.axis is None:
            return (1,) * rank
        shape = [1] * rank
        shape[self.axis] = self.scale.size
        return tuple(shape)


@dataclass
class Tensor:
    name: str
    shape: Shape
    dtype: str
    data: np.ndarray | None = None  # set for constants (weights, biases, shapes)
    quant: QuantParams | None = None

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    def scalar_quant(self) -> tuple[float, int]:
        """(scale, zero_point) of a per-tensor quantized tensor."""
        if self.quant is None:
            raise ValueError(f"tensor '{self.name}' is not quantized")
        return float(self.quant.scale[0]), int(self.quant.zero_point[0])


@dataclass
class Op:
    kind: str
    name: str
    inputs: list[str]  # tensor names; "" marks an omitted optional input
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class IOLayout:
    """How a graph input/output is laid out in the source model: `perm` maps the source layout to
    the IR layout (ir = source.transpose(perm)), `source_shape` is the shape the user sees."""

    perm: tuple[int, ...]
    source_shape: Shape


@dataclass
class Graph:
    tensors: dict[str, Tensor] = field(default_factory=dict)
    ops: list[Op] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    io_layouts: dict[str, IOLayout] = field(default_factory=dict)
    source: str = ""  # file the graph was imported from
    source_format: str = ""  # "onnx", "tflite", "keras"

    # -- building -------------------------------------------------------------------------
    def unique_name(self, base: str) -> str:
        base = base or "t"
        if base not in self.tensors:
            return base
        i = 1
        while f"{base}_{i}" in self.tensors:
            i += 1
        return f"{base}_{i}"

    def add_tensor(self, tensor: Tensor) -> Tensor:
        if tensor.name in self.tensors:
            raise ValueError(f"duplicate tensor name '{tensor.name}'")
        self.tensors[tensor.name] = tensor
        return tensor

    def add_const(self, base: str, data: np.ndarray, quant: QuantParams | None = None) -> str:
        data = np.asarray(data)
        name = self.unique_name(base)
        self.add_tensor(Tensor(name, tuple(data.shape), str(data.dtype), data, quant))
        return name

    def add_op(self, op: Op) -> Op:
        self.ops.append(op)
        return op

    # -- queries --------------------------------------------------------------------------
    def tensor(self, name: str) -> Tensor:
        return self.tensors[name]

    def producers(self) -> dict[str, Op]:
        return {out: op for op in self.ops for out in op.outputs}

    def consumers(self) -> dict[str, list[Op]]:
        users: dict[str, list[Op]] = {}
        for op in self.ops:
            for name in op.inputs:
                if name:
                    users.setdefault(name, []).append(op)
        return users

    def op_inputs(self, op: Op) -> list[Tensor | None]:
        return [self.tensors[n] if n else None for n in op.inputs]

    def op_outputs(self, op: Op) -> list[Tensor]:
        return [self.tensors[n] for n in op.outputs]

    @property
    def is_quantized(self) -> bool:
        return any(self.tensors[n].dtype in ("int8", "int16") for n in self.inputs + self.outputs)

    def rename_tensor(self, old: str, new: str) -> None:
        """Give tensor `old` the name `new` everywhere; `new` must be free."""
        if new in self.tensors:
            raise ValueError(f"tensor name '{new}' is taken")
        t = self.tensors.pop(old)
        t.name = new
        self.tensors[new] = t
        for op in self.ops:
            op.inputs = [new if n == old else n for n in op.inputs]
            op.outputs = [new if n == old else n for n in op.outputs]
        self.inputs = [new if n == old else n for n in self.inputs]
        self.outputs = [new if n == old else n for n in self.outputs]
        if old in self.io_layouts:
            self.io_layouts[new] = self.io_layouts.pop(old)

    def prune_unused_tensors(self) -> None:
        used = set(self.inputs) | set(self.outputs)
        for op in self.ops:
            used.update(n for n in op.inputs if n)
            used.update(op.outputs)
        self.tensors = {n: t for n, t in self.tensors.items() if n in used}
