"""The graph IR: tensors, ops, graphs, and the verifier."""

from mcuforge.ir.graph import Graph, Op, QuantParams, Shape, Tensor

__all__ = ["Graph", "Op", "QuantParams", "Shape", "Tensor"]
