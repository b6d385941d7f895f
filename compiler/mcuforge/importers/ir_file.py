"""The `.mfir` file: mcuforge's own graph IR on disk, what `mcuforge quantize` writes so that
`mcuforge compile model_q.mfir` needs no calibration data.

A zip holding `graph.json` (format version, tensors with shape, dtype and quantization, ops with
attributes, inputs, outputs, I/O layouts) and `tensors.npz` (constant data, per-channel scales,
array-valued attributes, keyed by name). Attribute values keep their Python types through a
small tagged encoding (tuples, arrays, numpy scalars), so a graph loads back identical and
compiles to identical C.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mcuforge.errors import MfError
from mcuforge.ir.graph import Graph, IOLayout, Op, QuantParams, Shape, Tensor

VERSION = 1
SUFFIX = ".mfir"


class _Arrays:
    """Arrays to store in tensors.npz, named in the order they are met."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def put(self, a: np.ndarray) -> str:
        key = f"a{len(self.arrays)}"
        self.arrays[key] = np.asarray(a)
        return key


def _encode(v: Any, arrays: _Arrays) -> Any:
    if isinstance(v, np.ndarray):
        return {"array": arrays.put(v)}
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, tuple):
        return {"tuple": [_encode(x, arrays) for x in v]}
    if isinstance(v, list):
        return [_encode(x, arrays) for x in v]
    if isinstance(v, dict):
        return {"dict": {k: _encode(x, arrays) for k, x in v.items()}}
    return v


def _decode(v: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    if isinstance(v, list):
        return [_decode(x, arrays) for x in v]
    if isinstance(v, dict):
        if "array" in v:
            return arrays[v["array"]]
        if "tuple" in v:
            return tuple(_decode(x, arrays) for x in v["tuple"])
        return {k: _decode(x, arrays) for k, x in v["dict"].items()}
    return v


def _quant_json(q: QuantParams | None, arrays: _Arrays) -> dict | None:
    if q is None:
        return None
    return {"scale": arrays.put(q.scale), "zero_point": arrays.put(q.zero_point), "axis": q.axis}


def save_ir(graph: Graph, path: str | Path) -> Path:
    """Write `graph` to a .mfir file."""
    path = Path(path)
    arrays = _Arrays()
    doc = {
        "format": "mcuforge-ir", "version": VERSION, "source": graph.source,
        "source_format": graph.source_format, "inputs": graph.inputs, "outputs": graph.outputs,
        "io_layouts": {n: {"perm": list(lay.perm), "source_shape": list(lay.source_shape)}
                       for n, lay in graph.io_layouts.items()},
        "tensors": [{"name": t.name, "shape": list(t.shape), "dtype": t.dtype,
                     "data": arrays.put(t.data) if t.data is not None else None,
                     "quant": _quant_json(t.quant, arrays)} for t in graph.tensors.values()],
        "ops": [{"kind": op.kind, "name": op.name, "inputs": op.inputs, "outputs": op.outputs,
                 "attrs": _encode(op.attrs, arrays)["dict"]} for op in graph.ops],
    }
    npz = io.BytesIO()
    np.savez(npz, **arrays.arrays)
    # Fixed timestamps: the same graph always gives the same bytes.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        files = {"graph.json": json.dumps(doc, indent=1).encode(), "tensors.npz": npz.getvalue()}
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return path


def import_ir(path: Path, input_shapes: Mapping[str, Shape]) -> Graph:
    """Read a .mfir file. Its shapes are fixed already, so `input_shapes` must agree with them."""
    try:
        with zipfile.ZipFile(path) as z:
            doc = json.loads(z.read("graph.json"))
            with np.load(io.BytesIO(z.read("tensors.npz")), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise MfError(f"{path}: not a readable .mfir file ({e}); write one with mcuforge quantize") from None
    if doc.get("format") != "mcuforge-ir" or doc.get("version") != VERSION:
        raise MfError(f"{path}: .mfir format {doc.get('format')} version {doc.get('version')}, "
                      f"this mcuforge reads version {VERSION}; quantize the model again")
    g = Graph(inputs=doc["inputs"], outputs=doc["outputs"])
    for t in doc["tensors"]:
        q = t["quant"]
        quant = QuantParams(arrays[q["scale"]], arrays[q["zero_point"]], q["axis"]) if q else None
        data = arrays[t["data"]] if t["data"] is not None else None
        g.add_tensor(Tensor(t["name"], tuple(t["shape"]), t["dtype"], data, quant))
    g.ops = [Op(o["kind"], o["name"], o["inputs"], o["outputs"], _decode({"dict": o["attrs"]}, arrays))
             for o in doc["ops"]]
    g.io_layouts = {n: IOLayout(tuple(v["perm"]), tuple(v["source_shape"]))
                    for n, v in doc["io_layouts"].items()}
    for name, shape in input_shapes.items():
        layout = g.io_layouts.get(name)
        stored = layout.source_shape if layout else g.tensors[name].shape if name in g.tensors else None
        if stored != tuple(shape):
            raise MfError(f"{path}: --input-shape {name}={','.join(map(str, shape))} does not match the "
                          f"stored input '{name}' of shape {stored}; a .mfir graph has fixed shapes")
    return g
