"""A framework-neutral random model: a list of nodes over logical channels-last shapes.

Value 0 is the model input; node i produces value i + 1. A logical shape has no batch axis and is
channels-last: (H, W, C) for feature maps, (T, F) for sequences, (F,) for vectors. Each front end
lays it out its own way (Keras: NHWC with a batch axis; ONNX and PyTorch: NCHW, and a sequence as
(N, T, F) the way users write sequence models, not transposed), so a spec means the same kind of
model in every front end, not the same numbers. Specs are plain data (JSON round trip), so a failure's
summary holds the exact graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Node:
    op: str  # a key of mcuforge.fuzz.ops.OPS
    inputs: tuple[int, ...]  # value indices (0 = the model input, i + 1 = node i's output)
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "inputs": list(self.inputs), "params": self.params}


@dataclass
class ModelSpec:
    seed: int  # draws the weights (and nothing else once the graph is fixed)
    input_shape: Shape
    nodes: list[Node]
    batch: str = "fixed"  # "fixed" (batch 1) or "free" (batch None, Keras/ONNX dynamic axis)

    @property
    def output(self) -> int:
        return len(self.nodes)

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "input_shape": list(self.input_shape), "batch": self.batch,
                "nodes": [n.to_json() for n in self.nodes]}

    @staticmethod
    def from_json(d: dict[str, Any]) -> ModelSpec:
        nodes = [Node(n["op"], tuple(n["inputs"]), dict(n["params"])) for n in d["nodes"]]
        return ModelSpec(int(d["seed"]), tuple(d["input_shape"]), nodes, d.get("batch", "fixed"))

    def describe(self) -> str:
        return " ".join(f"{n.op}{list(n.inputs)}" for n in self.nodes)
