"""TFLite flatbuffers into the graph IR.

The flatbuffer is read with TFLite Micro's generated schema module, which needs no TensorFlow.
Every TFLite tensor becomes an IR tensor up front (so `Graph.unique_name` sees every name), then
each operator goes through `CONVERTERS` (tflite_ops.py), a table from builtin name to a small
function named like the op. Output shapes come from the registry's shape rules and are checked
against the shapes the file declares. TFLite is NHWC already, so the graph needs no `io_layouts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

import mcuforge.ops  # noqa: F401  (registers the op kinds used below)
from mcuforge.errors import MfError
from mcuforge.importers.fold import fold_op
from mcuforge.importers.notes import note_free_batch
from mcuforge.importers.space_to_batch import rewrite_space_to_batch
from mcuforge.importers.tflite_ops import CONVERTERS, Node, dequantized
from mcuforge.importers.tflite_recurrent import CONVERTERS_RECURRENT
from mcuforge.importers.tflite_stateful import CONVERTERS_STATEFUL, refuse_resource_variables
from mcuforge.importers.tflite_validate import validate_tflite
from mcuforge.ir.graph import Graph, Op, QuantParams, Shape, Tensor
from mcuforge.ops.registry import infer_shapes

BUILTIN_NAMES = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
TENSOR_TYPES = {
    fb.TensorType.FLOAT32: "float32",
    fb.TensorType.FLOAT16: "float16",  # only as DEQUANTIZE input, folded to float32 at import
    fb.TensorType.INT8: "int8",
    fb.TensorType.INT16: "int16",
    fb.TensorType.INT32: "int32",
    fb.TensorType.INT64: "int64",
    fb.TensorType.UINT8: "uint8",
    fb.TensorType.BOOL: "bool",
}
CONVERTERS.update(CONVERTERS_RECURRENT)  # recurrent area: the fused LSTM, WHILE refused
CONVERTERS.update(CONVERTERS_STATEFUL)  # stateful area: SVDF
# Builtins whose meaning depends on the batch size: with a free batch, errors on them say so.
BATCH_SENSITIVE = frozenset({"SHAPE", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"})
TYPE_NAMES = {v: k for k, v in vars(fb.TensorType).items() if not k.startswith("_")}
# -- the model --------------------------------------------------------------------------------


def import_tflite(path: Path, input_shapes: Mapping[str, Shape]) -> Graph:
    path = Path(path)
    return import_tflite_bytes(path.read_bytes(), input_shapes, str(path))


def import_tflite_bytes(data: bytes, input_shapes: Mapping[str, Shape], source: str = "<bytes>",
                        note_free: bool = True) -> Graph:
    """Import a TFLite flatbuffer held in memory; `source` names it in error messages. A free
    batch dimension (-1 at position 0) is compiled as 1, with a note on stderr unless `note_free`
    is False (the Keras importer has noted it in the Keras model's terms)."""
    model = _parse(data, source)
    codes = {BUILTIN_NAMES.get(max(c.builtinCode, c.deprecatedBuiltinCode), "")
             for c in model.operatorCodes or []}
    refuse_resource_variables(codes, source)  # stateful area: Keras stateful=True
    validate_tflite(model, source)  # malformed and hostile files (issue 14)
    sub = model.subgraphs[0]
    _check_supported(model, sub, source)
    graph = Graph(source=source, source_format="tflite")
    names = [_add_tensor(graph, model, data, t, source) for t in sub.tensors]
    graph.inputs = [names[i] for i in sub.inputs]
    graph.outputs = [names[i] for i in sub.outputs]
    free = _set_input_shapes(graph, sub, names, input_shapes, source)
    for name in free if note_free else []:
        note_free_batch(source, name, "-1")
    from_batch: set[str] = set()  # tensors computed from the shape of a free-batch tensor
    for fop in sub.operators:
        _convert(graph, model, sub, fop, names, source, from_batch if free else None)
    rewrite_space_to_batch(graph)
    graph.prune_unused_tensors()
    return graph


def _parse(data: bytes, source: str) -> Any:
    buf = bytearray(data)
    if len(buf) < 8 or bytes(buf[4:8]) != b"TFL3":
        raise MfError(f"{source}: not a valid TFLite flatbuffer (no 'TFL3' identifier at byte 4)")
    try:
        model = fb.ModelT.InitFromPackedBuf(buf, 0)
    except Exception as e:  # a damaged flatbuffer fails in many ways deep inside the reader
        raise MfError(f"{source}: not a valid TFLite flatbuffer ({type(e).__name__}: {e})") from None
    if not model.subgraphs or model.subgraphs[0].tensors is None:
        raise MfError(f"{source}: not a valid TFLite flatbuffer (no subgraph)")
    return model


def _builtin(model: Any, fop: Any) -> tuple[str, int, str]:
    """(builtin name, version, custom code) of an operator."""
    code = model.operatorCodes[fop.opcodeIndex]
    # Codes past 127 live in builtinCode; older files only fill the deprecated byte.
    number = max(code.builtinCode, code.deprecatedBuiltinCode)
    custom = code.customCode.decode() if isinstance(code.customCode, bytes) else code.customCode or ""
    return BUILTIN_NAMES.get(number, f"BUILTIN_{number}"), code.version, custom


def _check_supported(model: Any, sub: Any, source: str) -> None:
    bad = []
    for fop in sub.operators or []:
        builtin, version, custom = _builtin(model, fop)
        if builtin in CONVERTERS:
            continue
        has_output = fop.outputs is not None and len(fop.outputs) > 0
        out = sub.tensors[fop.outputs[0]].name.decode() if has_output else "?"
        what = f"CUSTOM '{custom}'" if builtin == "CUSTOM" else builtin
        bad.append(f"'{out}' {what} (TFLite builtin version {version})")
    if bad:
        raise MfError(f"{source}: {len(bad)} unsupported TFLite op(s): {'; '.join(bad)} "
                      "(see `mcuforge ops` for what is supported)")


def _add_tensor(graph: Graph, model: Any, file: bytes, ft: Any, source: str) -> str:
    name = graph.unique_name(ft.name.decode() if ft.name else "")
    if ft.type not in TENSOR_TYPES:
        raise MfError(f"{source}: tensor '{name}' has type {TYPE_NAMES.get(ft.type, ft.type)}, "
                      f"supported: {', '.join(TENSOR_TYPES.values())}")
    if ft.sparsity is not None:
        raise MfError(f"{source}: tensor '{name}' is sparse; densify the model before compiling")
    dtype = TENSOR_TYPES[ft.type]
    shape = tuple(int(d) for d in ft.shape) if ft.shape is not None else ()
    data = _buffer(model, file, ft, dtype, shape, name, source)
    graph.add_tensor(Tensor(name, shape, dtype, data, _quant(ft.quantization)))
    return name


def _buffer(
    model: Any, file: bytes, ft: Any, dtype: str, shape: Shape, name: str, source: str
) -> np.ndarray | None:
    buf = model.buffers[ft.buffer] if model.buffers is not None and ft.buffer < len(model.buffers) else None
    if buf is None:
        return None
    if buf.offset > 1:  # models past 2 GB keep their data after the flatbuffer, by offset
        raw = file[buf.offset : buf.offset + buf.size]
    elif buf.data is not None and len(buf.data) > 0:
        raw = np.asarray(buf.data, dtype=np.uint8).tobytes()
    else:
        return None
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) != count * np.dtype(dtype).itemsize:
        raise MfError(f"{source}: not a valid TFLite flatbuffer (tensor '{name}' {shape} {dtype} "
                      f"has {len(raw)} bytes of data)")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _quant(q: Any) -> QuantParams | None:
    if q is None or q.scale is None or len(q.scale) == 0:
        return None
    scale = np.asarray(q.scale, dtype=np.float32)
    zero_point = np.asarray(q.zeroPoint if q.zeroPoint is not None else [0], dtype=np.int64)
    return QuantParams(scale, zero_point, int(q.quantizedDimension) if scale.size > 1 else None)


def _set_input_shapes(
    graph: Graph, sub: Any, names: list[str], given: Mapping[str, Shape], source: str
) -> list[str]:
    """Fix the input shapes; the inputs whose free batch (-1 at position 0) became 1."""
    free: list[str] = []
    unknown = sorted(set(given) - set(graph.inputs))
    if unknown:
        raise MfError(f"{source}: --input-shape names {unknown}, the model's inputs are {graph.inputs}")
    for index in sub.inputs:
        name = names[index]
        t = graph.tensors[name]
        declared = _declared(sub.tensors[index])
        if name in given:
            t.shape = _given_shape(name, declared, tuple(int(d) for d in given[name]), source)
            continue
        for axis, d in enumerate(declared):
            if d == -1 and axis > 0:
                example = ",".join(str(max(v, 1)) for v in declared)
                raise MfError(f"{source}: input '{name}' has a dynamic dimension {axis} (shape {declared}); "
                              f"give it with --input-shape {name}={example}")
        if len(declared) > 0 and declared[0] == -1:
            free.append(name)
        t.shape = tuple(1 if d == -1 else d for d in declared)
    return free


def _fits(declared: Shape, shape: Shape) -> bool:
    """Whether a shape matches a declared one, where -1 matches any size."""
    return len(shape) == len(declared) and all(d in (-1, s) for d, s in zip(declared, shape, strict=True))


def _given_shape(name: str, declared: Shape, shape: Shape, source: str) -> Shape:
    if not _fits(declared, shape) or min(shape, default=1) < 1:
        raise MfError(f"{source}: --input-shape {name}={','.join(map(str, shape))} does not fit the "
                      f"model's shape {declared} (-1 marks a free dimension)")
    return shape


def _declared(ft: Any) -> Shape:
    """The shape the file declares, -1 for dynamic dimensions."""
    sig = ft.shapeSignature
    dims = sig if sig is not None and len(sig) else ft.shape
    return tuple(int(d) for d in dims) if dims is not None else ()


def _convert(graph: Graph, model: Any, sub: Any, fop: Any, names: list[str], source: str,
             from_batch: set[str] | None) -> None:
    """Convert one operator; `from_batch` (None without a free batch) collects the tensors
    computed from the shape of a tensor with the free batch, so that a refusal can say so."""
    builtin, _, _ = _builtin(model, fop)
    outputs = [names[i] for i in fop.outputs]
    inputs = ["" if i < 0 else names[i] for i in fop.inputs]
    node = Node(graph, source, builtin, outputs[0], fop.builtinOptions, _dequantize_hybrid(graph, inputs),
                outputs)
    batch_derived = from_batch is not None and (builtin in BATCH_SENSITIVE or bool(from_batch & set(inputs)))
    if batch_derived and from_batch is not None:
        from_batch.update(outputs)
    try:
        try:
            ops = CONVERTERS[builtin](node)
        except (ValueError, IndexError, KeyError, TypeError, AttributeError) as e:  # malformed options
            raise node.error(f"cannot convert ({type(e).__name__}: {e})") from None
        for op in ops:
            _add_op(graph, node, op, {names[i]: _declared(sub.tensors[i]) for i in fop.outputs})
    except MfError as e:
        if not batch_derived:
            raise
        raise MfError(f"{source}: {builtin} '{node.name}' comes from the free batch dimension "
                      f"(fixed to 1): {str(e).removeprefix(f'{source}: ')}") from None


def _dequantize_hybrid(graph: Graph, inputs: list[str]) -> list[str]:
    """Inputs with the integer constants of a float op made float32: "hybrid" ops (float
    activations, int8 weights, as in dynamic-range quantized models) become plain float ops."""
    first = graph.tensors[inputs[0]] if inputs and inputs[0] else None
    if first is None or first.dtype != "float32":
        return inputs
    return [_float_const(graph, graph.tensors[n]) if n and _is_quantized_const(graph.tensors[n]) else n
            for n in inputs]


def _is_quantized_const(t: Tensor) -> bool:
    return t.data is not None and t.quant is not None and t.dtype in ("int8", "int16")


def _float_const(graph: Graph, t: Tensor) -> str:
    return graph.add_const(f"{t.name}_dequantized", dequantized(t))


def _add_op(graph: Graph, node: Node, op: Op, declared: dict[str, Shape]) -> None:
    in_shapes = [graph.tensors[n].shape if n else None for n in op.inputs]
    try:
        shapes = infer_shapes(op, in_shapes)
    except (ValueError, KeyError, IndexError, TypeError, AssertionError) as e:
        raise node.error(f"cannot work out the output shape from inputs {in_shapes}: {e}") from None
    if len(shapes) != len(op.outputs):  # a damaged file (found by tests/fuzz_loaders.py)
        raise node.error(f"has {len(op.outputs)} outputs; {op.kind} produces {len(shapes)}")
    for name, shape in zip(op.outputs, shapes, strict=True):
        want = declared.get(name)
        if want is not None and not _fits(want, shape):
            raise node.error(f"output '{name}' has shape {shape} by {op.kind}'s rule, the file says {want}")
        graph.tensors[name].shape = tuple(shape)
    if not fold_op(graph, op):  # shape arithmetic on constants is evaluated now
        graph.add_op(op)
