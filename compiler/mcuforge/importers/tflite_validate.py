"""Structural checks of a parsed TFLite model before it is converted (issue 14).

The converters trust the flatbuffer; this module checks what a damaged or hostile file can get
wrong, so it is refused with one `MfError` naming the file, the tensor or operator, and the value:
indices (operator codes, tensors, buffers), dimensions (positive, total size below 2^31 bytes),
quantization (finite positive scales, zero points inside the type, per-channel counts and axis),
names that are not UTF-8 (a missing name becomes tensor_<index>), operator versions, and the
integer options every op shares (strides, dilations, filter sizes >= 1; a known padding and fused
activation).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from mcuforge.errors import MfError

MAX_BYTES = 2**31 - 1  # a tensor larger than this cannot be addressed on the device
MAX_OP_VERSION = 16  # TFLite's builtins are at version 12 or less today
ZERO_POINT_RANGE = {fb.TensorType.INT8: (-128, 127), fb.TensorType.UINT8: (0, 255),
                    fb.TensorType.INT16: (-32768, 32767)}
ITEM_BYTES = {fb.TensorType.FLOAT32: 4, fb.TensorType.INT32: 4, fb.TensorType.INT64: 8,
              fb.TensorType.FLOAT16: 2, fb.TensorType.INT16: 2}
PADDINGS = {v for k, v in vars(fb.Padding).items() if not k.startswith("_")}
ACTIVATIONS = {v for k, v in vars(fb.ActivationFunctionType).items() if not k.startswith("_")}
POSITIVE_OPTIONS = ("strideW", "strideH", "strideD", "dilationWFactor", "dilationHFactor",
                    "dilationDFactor", "filterWidth", "filterHeight")


def validate_tflite(model: Any, source: str) -> None:
    sub = model.subgraphs[0]
    tensors = sub.tensors or []
    nbuf = len(model.buffers) if model.buffers is not None else 0
    for i, t in enumerate(tensors):
        _tensor(t, i, nbuf, source)
    names = [t.name.decode() if t.name else f"#{i}" for i, t in enumerate(tensors)]
    _indices(sub.inputs, len(tensors), f"{source}: subgraph input", allow_missing=False)
    _indices(sub.outputs, len(tensors), f"{source}: subgraph output", allow_missing=False)
    if sub.outputs is None or len(sub.outputs) == 0 or not sub.operators:
        raise MfError(f"{source}: the model has no operators or no outputs; nothing to compile")
    ncodes = len(model.operatorCodes) if model.operatorCodes is not None else 0
    for k, code in enumerate(model.operatorCodes or []):
        if isinstance(code.customCode, bytes):
            try:
                code.customCode.decode()
            except UnicodeDecodeError:
                raise MfError(f"{source}: operator code {k} has a custom op name that is not UTF-8 "
                              f"({code.customCode[:40]!r})") from None
    for k, op in enumerate(sub.operators):
        where = f"{source}: operator {k}"
        if not 0 <= op.opcodeIndex < ncodes:
            raise MfError(f"{where}: operator code index {op.opcodeIndex} is out of range "
                          f"(the model has {ncodes} codes)")
        if op.inputs is None or len(op.inputs) == 0:
            raise MfError(f"{where}: has no inputs")
        _indices(op.inputs, len(tensors), f"{where} input", allow_missing=True)
        _indices(op.outputs, len(tensors), f"{where} output", allow_missing=False)
        if op.outputs is None or len(op.outputs) == 0:
            raise MfError(f"{where}: has no outputs")
        where = f"{source}: operator {k} ('{names[op.outputs[0]]}')"
        version = model.operatorCodes[op.opcodeIndex].version
        if version > MAX_OP_VERSION:
            raise MfError(f"{where}: operator version {version} is unknown (TFLite's builtins go up to "
                          f"about {MAX_OP_VERSION}); re-export the model with a released TensorFlow")
        _options(op.builtinOptions, where)


def _indices(values: Any, count: int, where: str, allow_missing: bool) -> None:
    for v in values if values is not None else []:
        if (v == -1 and allow_missing) or 0 <= v < count:
            continue
        raise MfError(f"{where} refers to tensor {v}, but the model has {count} tensors (0..{count - 1})")


def _tensor(t: Any, index: int, nbuf: int, source: str) -> None:
    if t.name is None:  # names are optional in the schema; the importer names tensors by them
        t.name = f"tensor_{index}".encode()
    try:
        name = t.name.decode() if t.name else f"#{index}"
    except UnicodeDecodeError:
        raise MfError(f"{source}: tensor {index} has a name that is not UTF-8 "
                      f"({bytes(t.name)[:40]!r})") from None
    where = f"{source}: tensor '{name}'"
    if not 0 <= t.buffer < max(nbuf, 1):
        raise MfError(f"{where}: buffer index {t.buffer} is out of range (the model has {nbuf} buffers)")
    shape = [int(d) for d in t.shape] if t.shape is not None else []
    if any(d < 0 for d in shape):  # zero-sized tensors exist (LSTM intermediates); graph_checks
        raise MfError(f"{where}: shape {shape} has a negative dimension; dynamic ones belong in "
                      "shape_signature")  # refuses them when the graph uses them
    size = math.prod(shape) * ITEM_BYTES.get(t.type, 1)
    if size > MAX_BYTES:
        raise MfError(f"{where}: shape {shape} is {size} bytes, beyond the 2^31-byte limit")
    _quantization(t.quantization, t.type, shape, where)


def _quantization(q: Any, ttype: int, shape: list[int], where: str) -> None:
    if q is None or q.scale is None or len(q.scale) == 0:
        return
    scale = np.asarray(q.scale, dtype=np.float64)
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        bad = scale[~(np.isfinite(scale) & (scale > 0))][0]
        raise MfError(f"{where}: quantization scale {bad} is not a finite positive number")
    zp = np.asarray(q.zeroPoint if q.zeroPoint is not None else [0], dtype=np.int64)
    if zp.size not in (1, scale.size):
        raise MfError(f"{where}: {scale.size} scales but {zp.size} zero points; per-channel "
                      "quantization needs one of each per channel")
    lo, hi = ZERO_POINT_RANGE.get(ttype, (0, 0) if ttype == fb.TensorType.INT32 else (-2**62, 2**62))
    if np.any(zp < lo) or np.any(zp > hi):
        bad = zp[(zp < lo) | (zp > hi)][0]
        raise MfError(f"{where}: zero point {bad} is outside [{lo}, {hi}] for its type")
    if scale.size > 1:
        axis = int(q.quantizedDimension)
        if not 0 <= axis < len(shape) or shape[axis] != scale.size:
            raise MfError(f"{where}: {scale.size} per-channel scales along axis {axis} do not fit "
                          f"shape {shape}")


def _options(opts: Any, where: str) -> None:
    if opts is None:
        return
    for attr in POSITIVE_OPTIONS:
        v = getattr(opts, attr, None)
        if v is not None and v < 1:
            raise MfError(f"{where}: {attr} is {v}; it must be at least 1")
    pad = getattr(opts, "padding", None)
    if isinstance(pad, int) and pad not in PADDINGS and not isinstance(getattr(opts, "paddings", None), list):
        raise MfError(f"{where}: padding {pad} is not SAME (0) or VALID (1)")
    act = getattr(opts, "fusedActivationFunction", None)
    if act is not None and act not in ACTIVATIONS:
        raise MfError(f"{where}: fused activation {act} is unknown (known: {sorted(ACTIVATIONS)})")
