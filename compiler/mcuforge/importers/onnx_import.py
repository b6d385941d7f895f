"""ONNX models into the graph IR.

The model is checked and shape-inferred by onnx first (strict), with dynamic input dimensions fixed
from `input_shapes`. Nodes are then converted in order: a node whose inputs are all constant is
folded (with ONNX's reference evaluator), any other goes to its function in `onnx_ops.TABLE`.
Conv-net tensors become channels last (see `onnx_builder`); inputs and outputs whose layout
changed get an `IOLayout`. A QDQ model imports as float ops between QUANTIZE/DEQUANTIZE, which
`onnx_qdq.fold_qdq` then turns into integer ops.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import NodeProto, ValueInfoProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from mcuforge.errors import MfError
from mcuforge.importers.notes import note_free_batch
from mcuforge.importers.onnx_builder import Builder, Operand, Perm, Value, channels_last, identity
from mcuforge.importers.onnx_layer_norm import fuse_layer_norm
from mcuforge.importers.onnx_ops import CONST_TABLE, TABLE
from mcuforge.importers.onnx_qdq import fold_qdq
from mcuforge.importers.onnx_validate import validate_onnx
from mcuforge.importers.qdq_islands import close_islands
from mcuforge.ir.graph import Graph, IOLayout, Op, Shape, Tensor

MIN_OPSET = 11
ONNX_DOMAINS = ("", "ai.onnx")
# Input layout choice: an input reaching one of these ops (through ops that keep the axis order)
# is stored channels last; one of the layout-breaking ops stops the search.
SPATIAL_OPS = {"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization"}
LAYOUT_BREAKING_OPS = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Gemm", "MatMul", "Softmax"}
LAYOUT_BREAKING_OPS |= {"GRU", "LSTM", "RNN"}  # recurrent area: (time, batch, features) sequences
# Reductions may drop axes (keepdims=0): the conv after one reads a tensor of another rank (fuzz
# seed 3300: ReduceSum then a 1-D Conv made the walk index past its permutation).
LAYOUT_BREAKING_OPS |= {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ArgMax", "ArgMin"}


def import_onnx(path: Path, input_shapes: Mapping[str, Shape]) -> Graph:
    model = _load(path)
    opset = _opset(path, model)
    init_names = {t.name for t in model.graph.initializer}
    inputs = [vi for vi in model.graph.input if vi.name not in init_names]
    _check_input_names(path, inputs, input_shapes)
    shapes = {vi.name: _fix_input_shape(path, vi, input_shapes.get(vi.name)) for vi in inputs}
    inferred = _infer_shapes(path, model)
    _tensor_data(path, model)  # malformed tensors refused before any rewrite reads them
    fuse_layer_norm(model, inferred)  # area reductions: decomposed LayerNorm -> one node
    graph = Graph()
    b = Builder(graph, str(path), opset)
    b.consts.update(_tensor_data(path, model))  # with the fused nodes' own
    for vi in inputs:
        _add_input(b, model, vi, shapes[vi.name])
    _convert_nodes(b, model, inferred)
    for vi in model.graph.output:
        _add_output(b, vi.name)
    fold_qdq(graph, b.weight_quant)
    close_islands(graph)  # what needs no calibration; `compile` quantizes the rest from --calib
    graph.prune_unused_tensors()
    return graph


# -- loading and checking ----------------------------------------------------------------------


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())


def _tensor_data(path: Path, model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """The initializers' values; MfError naming the first tensor (initializer, or a Constant
    node's value) whose data does not match its declared type and shape."""
    tensors = [("initializer", t) for t in model.graph.initializer]
    tensors += [(f"Constant node '{n.name or n.output[0]}'", a.t) for n in model.graph.node
                if n.op_type == "Constant" for a in n.attribute if a.name == "value"]
    values = {}
    for what, t in tensors:
        try:
            values[t.name] = numpy_helper.to_array(t)
        except Exception as e:  # onnx raises what numpy raises on data that does not fit the shape
            raise MfError(f"{path}: the {what} tensor '{t.name}' holds malformed data "
                          f"({type(e).__name__}: {_one_line(e)}); re-export the model") from None
    return {t.name: values[t.name] for t in model.graph.initializer}


def _load(path: Path) -> onnx.ModelProto:
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except (DecodeError, onnx.checker.ValidationError, ValueError, OSError) as e:
        raise MfError(f"{path}: not a valid ONNX model: {_one_line(e)}") from None
    validate_onnx(model, path)  # damaged and hostile files (issue 14)
    return model


def _opset(path: Path, model: onnx.ModelProto) -> int:
    version = next((o.version for o in model.opset_import if o.domain in ONNX_DOMAINS), 0)
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= version <= newest:
        raise MfError(f"{path}: opset {version} is not supported; mcuforge reads opsets {MIN_OPSET} to "
                      f"{newest} (onnx.version_converter.convert_version can upgrade older models)")
    return version


def _infer_shapes(path: Path, model: onnx.ModelProto) -> dict[str, Shape]:
    """Static shapes ONNX infers for every tensor, to cross-check the importer's own."""
    try:
        model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError, ValueError, RuntimeError,
            UnicodeError) as e:  # ONNX's C++ passes raise these on damaged files (tests/fuzz_loaders.py)
        raise MfError(f"{path}: ONNX shape inference failed: {_one_line(e)}") from None
    shapes = {}
    for vi in [*model.graph.value_info, *model.graph.output]:
        dims = vi.type.tensor_type.shape.dim
        if vi.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
            shapes[vi.name] = tuple(d.dim_value for d in dims)
    return shapes


def _check_input_names(path: Path, inputs: list[ValueInfoProto], given: Mapping[str, Shape]) -> None:
    unknown = sorted(set(given) - {vi.name for vi in inputs})
    if unknown:
        names = ", ".join(vi.name for vi in inputs)
        raise MfError(f"{path}: --input-shape names {unknown}, but the model's inputs are: {names}")


def _fix_input_shape(path: Path, vi: ValueInfoProto, given: Shape | None) -> Shape:
    """The input's static shape (ONNX layout); fixes the model's dims to it for shape inference."""
    tensor_type = vi.type.tensor_type
    dims = tensor_type.shape.dim
    if given is None:
        for i, d in enumerate(dims):
            if not d.HasField("dim_value") or d.dim_value <= 0:
                if i == 0 and len(dims) > 1:
                    note_free_batch(path, vi.name, d.dim_param or "?")
                    d.Clear()
                    d.dim_value = 1
                    continue
                example = ",".join(str(x.dim_value) if x.HasField("dim_value") and x.dim_value > 0
                                   else "1" for x in dims)
                raise MfError(
                    f"{path}: input '{vi.name}' dimension {i} is dynamic ('{d.dim_param or '?'}'); "
                    f"fix it with --input-shape {vi.name}={example}"
                )
        return tuple(d.dim_value for d in dims)
    if not tensor_type.HasField("shape"):
        tensor_type.shape.dim.extend(onnx.TensorShapeProto.Dimension() for _ in given)
    if len(given) != len(dims) or any(
        d.HasField("dim_value") and d.dim_value != g for d, g in zip(dims, given)
    ):
        model_dims = [d.dim_value if d.HasField("dim_value") else d.dim_param or "?" for d in dims]
        raise MfError(f"{path}: --input-shape {vi.name}={','.join(map(str, given))} does not fit the "
                      f"model's shape {model_dims}")
    for d, g in zip(dims, given):
        d.dim_value = int(g)
    return tuple(int(g) for g in given)


# -- inputs and outputs ------------------------------------------------------------------------

DTYPES = {
    onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT8: "int8", onnx.TensorProto.UINT8: "uint8",
    onnx.TensorProto.INT16: "int16", onnx.TensorProto.INT32: "int32", onnx.TensorProto.INT64: "int64",
    onnx.TensorProto.BOOL: "bool",
}


def _input_perm(model: onnx.ModelProto, name: str, rank: int) -> Perm:
    """Channels last if the input flows into a conv-net op, seen through any Transposes."""
    if rank not in (3, 4):
        return identity(rank)
    users: dict[str, list[NodeProto]] = {}
    for node in model.graph.node:
        for i in node.input:
            users.setdefault(i, []).append(node)
    stack, seen = [(name, identity(rank))], {name}
    while stack:
        tensor, acc = stack.pop()  # the reached tensor is input.transpose(acc)
        for node in users.get(tensor, []):
            if node.op_type in SPATIAL_OPS:
                return tuple(acc[c] for c in channels_last(rank))
            if node.op_type in LAYOUT_BREAKING_OPS or node.output[0] in seen:
                continue
            perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
            if node.op_type == "Transpose" and perm and len(perm) != len(acc):
                continue  # a tensor of another rank: not the input's layout any more
            step = tuple(acc[p] for p in perm) if node.op_type == "Transpose" and perm else acc
            seen.add(node.output[0])
            stack.append((node.output[0], step))
    return identity(rank)


def _add_input(b: Builder, model: onnx.ModelProto, vi: ValueInfoProto, shape: Shape) -> None:
    elem = vi.type.tensor_type.elem_type
    if elem not in DTYPES:
        raise MfError(f"{b.path}: input '{vi.name}' has unsupported element type "
                      f"{onnx.TensorProto.DataType.Name(elem)}")
    perm = _input_perm(model, vi.name, len(shape))
    b.graph.add_tensor(Tensor(vi.name, tuple(shape[p] for p in perm), DTYPES[elem]))
    b.graph.inputs.append(vi.name)
    b.values[vi.name] = Value(vi.name, perm)
    if perm != identity(len(perm)):
        b.graph.io_layouts[vi.name] = IOLayout(perm, shape)


def _add_output(b: Builder, name: str) -> None:
    if name in b.consts:
        raise MfError(f"{b.path}: output '{name}' is a constant; nothing to compute")
    v = b.values[name]
    graph = b.graph
    if v.name != name:
        producers = graph.producers()
        if v.name in producers and v.name not in graph.outputs and name not in graph.tensors:
            _rename(graph, v.name, name)
        else:  # the tensor is also an input or another output: copy it under the output's name
            t = graph.tensors[v.name]
            graph.add_tensor(Tensor(name, t.shape, t.dtype, quant=t.quant))
            graph.add_op(Op("RESHAPE", name, [v.name], [name], {"shape": list(t.shape)}))
        v = Value(name, v.perm)
    graph.outputs.append(name)
    if v.perm != identity(v.rank):
        graph.io_layouts[name] = IOLayout(v.perm, b.onnx_shape(v))


def _rename(graph: Graph, old: str, new: str) -> None:
    t = graph.tensors.pop(old)
    t.name = new
    graph.tensors[new] = t
    for op in graph.ops:
        op.inputs = [new if n == old else n for n in op.inputs]
        op.outputs = [new if n == old else n for n in op.outputs]


# -- nodes -------------------------------------------------------------------------------------


def _node_label(model: onnx.ModelProto, node: NodeProto) -> str:
    domain = node.domain or "ai.onnx"
    version = next((o.version for o in model.opset_import if (o.domain or "ai.onnx") == domain), "?")
    return f"'{node.name or node.output[0]}' ({domain}::{node.op_type}, opset {version})"


def _convert_nodes(b: Builder, model: onnx.ModelProto, inferred: Mapping[str, Shape]) -> None:
    """Convert every node; nodes no table entry covers are collected and reported together."""
    unsupported: list[str] = []
    unknown: set[str] = set()  # outputs of unsupported nodes and everything computed from them
    for node in model.graph.node:
        b.node = node
        if any(n in unknown for n in node.input):
            unknown.update(node.output)
            if node.op_type not in TABLE:
                unsupported.append(_node_label(model, node))
            continue
        ins = [b.consts.get(n, b.values.get(n)) if n else None for n in node.input]
        if node.domain in ONNX_DOMAINS and node.op_type in SHAPE_OF:
            # the shape of a run-time tensor is static here: a constant, and what it feeds folds
            _bind(b, node, [SHAPE_OF[node.op_type](b, ins[0], **_attrs(node))], inferred)
            continue
        foldable = node.domain in ONNX_DOMAINS and all(not isinstance(x, Value) for x in ins)
        if not foldable and (node.domain not in ONNX_DOMAINS or node.op_type not in TABLE):
            unsupported.append(_node_label(model, node))
            unknown.update(node.output)
            continue
        outs = _fold(b, model, node, ins) if foldable else _call(b, node, ins)
        _bind(b, node, outs, inferred)
    if unsupported:
        raise MfError(f"{b.path}: {len(unsupported)} unsupported node(s): {_listing(unsupported)}; "
                      "`mcuforge ops` lists the ops each importer supports")


def _listing(labels: list[str], per_kind: int = 8) -> str:
    """Node labels "'name' (domain::Op, opset N)" listed once each, at most `per_kind` per op
    type (an unrolled recurrent network has hundreds of the same)."""
    kinds: dict[str, list[str]] = {}
    for label in labels:
        name, _, kind = label.rpartition(" (")
        kinds.setdefault(kind, []).append(name)
    parts = []
    for kind, names in kinds.items():
        more = f" and {len(names) - per_kind} more" if len(names) > per_kind else ""
        parts.append(f"{', '.join(names[:per_kind])}{more} ({kind}")
    return "; ".join(parts)


def _shape_of(b: Builder, x: Operand, *, start: int = 0, end: int | None = None) -> np.ndarray:
    shape = b.onnx_shape(x) if isinstance(x, Value) else np.shape(x)
    return np.array(shape[start:end], dtype=np.int64)


def _size_of(b: Builder, x: Operand) -> np.ndarray:
    shape = b.onnx_shape(x) if isinstance(x, Value) else np.shape(x)
    return np.array(int(np.prod(shape, dtype=np.int64)), dtype=np.int64)


# Ops whose value depends only on their input's (static) shape, folded to constants.
SHAPE_OF = {"Shape": _shape_of, "Size": _size_of}


def _attrs(node: NodeProto) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        if isinstance(v, bytes):
            return v.decode()
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    return {a.name: plain(helper.get_attribute_value(a)) for a in node.attribute}


def _call(b: Builder, node: NodeProto, ins: list[Operand]) -> list[Operand]:
    fn = TABLE[node.op_type]
    attrs = _attrs(node)
    try:
        inspect.signature(fn).bind(b, *ins, **attrs)
    except TypeError as e:
        raise b.fail(f"unsupported inputs or attributes {sorted(attrs)}: {e}") from None
    result = fn(b, *ins, **attrs)
    return result if isinstance(result, list) else [result]


def _fold(b: Builder, model: onnx.ModelProto, node: NodeProto, ins: list[Operand]) -> list[Operand]:
    """Evaluate a node whose inputs are all constant."""
    own = CONST_TABLE.get(node.op_type)
    if own is not None:
        return [own(b, *ins, **_attrs(node))]
    feeds = {n: x for n, x in zip(node.input, ins) if n and isinstance(x, np.ndarray)}
    graph = helper.make_graph(
        [node], "fold",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(x.dtype), x.shape)
         for n, x in feeds.items()],
        [helper.make_empty_tensor_value_info(o) for o in node.output if o],
    )
    try:
        outs = ReferenceEvaluator(helper.make_model(graph, opset_imports=model.opset_import)).run(None, feeds)
    except Exception as e:  # the evaluator raises anything an op implementation can
        raise b.fail(f"cannot evaluate this constant node: {_one_line(e)}") from None
    return [np.asarray(o) for o in outs]


def _bind(b: Builder, node: NodeProto, outs: list[Operand], inferred: Mapping[str, Shape]) -> None:
    for name, out in zip([o for o in node.output if o], outs):
        if isinstance(out, Value):
            b.values[name] = out
            expected = inferred.get(name)
            if expected is not None and b.onnx_shape(out) != expected:
                raise b.fail(f"importer bug: output '{name}' has shape {b.onnx_shape(out)}, "
                             f"ONNX infers {expected}")
        elif out is not None:
            b.consts[name] = np.asarray(out)  # numpy arithmetic on 0-d arrays gives scalars
