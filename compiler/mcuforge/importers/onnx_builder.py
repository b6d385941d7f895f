"""The state of an ONNX import: which ONNX tensor is which IR tensor, in which axis order.

Every runtime ONNX tensor maps to a `Value`: an IR tensor plus the permutation from the ONNX axis
order to the IR one (`ir = onnx.transpose(perm)`). Conv-net tensors are channels last in the IR,
everything else keeps its ONNX order; ops move tensors between orders with `as_layout`, which emits
a RESHAPE when only size-1 axes move and a TRANSPOSE otherwise. ONNX constants stay numpy arrays
in the ONNX layout until an op needs them as IR tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from onnx import NodeProto

from mcuforge.errors import MfError
from mcuforge.ir.graph import Graph, Op, QuantParams, Shape, Tensor
from mcuforge.ops.registry import infer_shapes

Perm = tuple[int, ...]


@dataclass(frozen=True)
class Value:
    """A runtime ONNX tensor: the IR tensor holding it and the ONNX-to-IR axis permutation."""

    name: str
    perm: Perm

    @property
    def rank(self) -> int:
        return len(self.perm)


Operand = Value | np.ndarray | None


def identity(rank: int) -> Perm:
    return tuple(range(rank))


def channels_last(rank: int) -> Perm:
    """(N, C, *spatial) -> (N, *spatial, C)."""
    return (0, *range(2, rank), 1)


def inverse(perm: Perm) -> Perm:
    return tuple(int(i) for i in np.argsort(perm))


def memory_order_kept(shape: Shape, perm: Perm) -> bool:
    """True when transposing an array of `shape` by `perm` keeps its bytes in order, i.e. only
    size-1 axes move, so a RESHAPE does the job of a TRANSPOSE."""
    moved = [p for p in perm if shape[p] != 1]
    return moved == sorted(moved)


@dataclass
class Builder:
    graph: Graph
    path: str
    opset: int
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    values: dict[str, Value] = field(default_factory=dict)
    # ONNX constants that came out of DequantizeLinear, with their quantization (ONNX axis).
    qconsts: dict[str, QuantParams] = field(default_factory=dict)
    # IR weight/bias constants (float data) with the quantization the QDQ model gave them.
    weight_quant: dict[str, QuantParams] = field(default_factory=dict)
    node: NodeProto = field(default_factory=NodeProto)
    _layouts: dict[tuple[str, Perm], Value] = field(default_factory=dict)

    # -- errors ---------------------------------------------------------------------------
    def fail(self, message: str) -> MfError:
        node = self.node
        return MfError(f"{self.path}: node '{node.name or node.output[0]}' ({node.op_type}): {message}")

    # -- tensors --------------------------------------------------------------------------
    def tensor(self, v: Value) -> Tensor:
        return self.graph.tensors[v.name]

    def ir_shape(self, v: Value) -> Shape:
        return self.tensor(v).shape

    def onnx_shape(self, v: Value) -> Shape:
        ir = self.ir_shape(v)
        return tuple(ir[k] for k in inverse(v.perm))

    def runtime(self, x: Operand, what: str = "input") -> Value:
        if not isinstance(x, Value):
            raise self.fail(f"{what} must be computed at run time, got a constant")
        return x

    def need_const(self, x: Operand, what: str) -> np.ndarray:
        if not isinstance(x, np.ndarray):
            raise self.fail(f"{what} must be a constant (an initializer or foldable subgraph)")
        return x

    def out_name(self, suffix: str = "") -> str:
        base = self.node.output[0]
        return self.graph.unique_name(f"{base}/{suffix}" if suffix else base)

    def const(self, data: np.ndarray, suffix: str, dtype: str = "float32") -> str:
        return self.graph.add_const(self.out_name(suffix), np.ascontiguousarray(data, dtype=dtype))

    def weight(self, index: int, data: np.ndarray, axis: int, suffix: str) -> str:
        """An IR weight or bias made from ONNX input `index`; remembers its QDQ quantization
        with the channel axis moved to `axis` of the IR layout."""
        name = self.const(data, suffix)
        q = self.qconsts.get(self.node.input[index])
        if q is not None:
            self.weight_quant[name] = QuantParams(q.scale, q.zero_point, axis if q.per_channel else None)
        return name

    # -- ops ------------------------------------------------------------------------------
    def emit(
        self, kind: str, inputs: list[str], attrs: dict[str, Any], perm: Perm, suffix: str = "",
        dtype: str = "float32", quant: QuantParams | None = None,
    ) -> Value:
        out = self.out_name(suffix)
        op = Op(kind, out, inputs, [out], attrs)
        in_shapes = [self.graph.tensors[n].shape if n else None for n in inputs]
        try:
            (shape,) = infer_shapes(op, in_shapes)
        except (ValueError, KeyError, IndexError) as e:
            raise self.fail(f"cannot build {kind} from input shapes {in_shapes}: {e}") from None
        self.graph.add_tensor(Tensor(out, tuple(int(d) for d in shape), dtype, quant=quant))
        self.graph.add_op(op)
        return Value(out, perm)

    def unary(self, kind: str, x: Operand, attrs: dict[str, Any] | None = None) -> Value:
        v = self.runtime(x)
        return self.emit(kind, [v.name], attrs or {}, v.perm, dtype=self.tensor(v).dtype)

    def as_layout(self, v: Value, perm: Perm) -> Value:
        """The same ONNX tensor with IR axis order `perm`, adding a RESHAPE or TRANSPOSE."""
        if v.perm == perm:
            return v
        key = (v.name, perm)
        if key not in self._layouts:
            # ir_new = ir_old.transpose(move) where move[k] = position of ONNX axis perm[k] in ir_old
            where = inverse(v.perm)
            move = tuple(where[p] for p in perm)
            ir = self.ir_shape(v)
            dtype, quant = self.tensor(v).dtype, self.tensor(v).quant
            if memory_order_kept(ir, move):
                kind, attrs = "RESHAPE", {"shape": [ir[m] for m in move]}
            else:
                kind, attrs = "TRANSPOSE", {"perm": list(move)}
            self._layouts[key] = self.emit(kind, [v.name], attrs, perm, kind.lower(), dtype, quant)
        return self._layouts[key]

    def reshape(self, v: Value, onnx_shape: Shape) -> Value:
        """RESHAPE in ONNX semantics: the result is in ONNX order."""
        if not memory_order_kept(self.onnx_shape(v), v.perm):
            v = self.as_layout(v, identity(v.rank))
        target = tuple(int(d) for d in onnx_shape)
        if v.perm == identity(len(target)) and self.ir_shape(v) == target:
            return v
        t = self.tensor(v)
        return self.emit("RESHAPE", [v.name], {"shape": list(target)}, identity(len(target)),
                         dtype=t.dtype, quant=t.quant)

    def aligned(self, x: Operand, rank: int, perm: Perm, suffix: str) -> str:
        """IR tensor name of `x` broadcast (ONNX rules: missing leading axes) to `rank` axes and
        laid out in `perm`, for elementwise ops."""
        if isinstance(x, np.ndarray):
            data = x.reshape((1,) * (rank - x.ndim) + x.shape).transpose(perm)
            return self.const(data.astype(np.float32), suffix)
        v = self.runtime(x)
        if v.rank < rank:
            v = self.reshape(v, (1,) * (rank - v.rank) + self.onnx_shape(v))
        return self.as_layout(v, perm).name
