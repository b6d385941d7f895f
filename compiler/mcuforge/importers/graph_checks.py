"""Checks of an imported graph that hold whatever the file format (issue 14): a graph with
inputs and outputs, positive dimensions within 2^31 bytes, and quantization parameters a kernel
can use (finite positive scales, zero points inside the tensor's type). Run by `load_model`
after the importer, so a hostile file is refused here rather than failing later in a stage."""

from __future__ import annotations

import math

import numpy as np

from mcuforge.errors import MfError
from mcuforge.ir.graph import Graph

MAX_BYTES = 2**31 - 1
ZERO_POINTS = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "int32": (0, 0)}


def check_graph(graph: Graph, source: str) -> None:
    if not graph.outputs:
        raise MfError(f"{source}: the model has no outputs; nothing to compile")
    if not graph.inputs:
        raise MfError(f"{source}: the model has no inputs; mcuforge compiles models that take an input")
    for t in graph.tensors.values():
        where = f"{source}: tensor '{t.name}'"
        if any(int(d) < 1 for d in t.shape):
            raise MfError(f"{where}: shape {t.shape} has a dimension below 1")
        size = math.prod(int(d) for d in t.shape) * np.dtype(t.dtype).itemsize
        if size > MAX_BYTES:
            raise MfError(f"{where}: shape {t.shape} is {size} bytes, beyond the 2^31-byte limit")
        q = t.quant
        if q is None:
            continue
        scale = np.asarray(q.scale, np.float64)
        if not np.all(np.isfinite(scale) & (scale > 0)):
            raise MfError(f"{where}: quantization scale {scale[~(np.isfinite(scale) & (scale > 0))][0]} "
                          "is not a finite positive number")
        lo, hi = ZERO_POINTS.get(t.dtype, (-(2**62), 2**62))
        zp = np.asarray(q.zero_point, np.int64)
        if np.any((zp < lo) | (zp > hi)):
            raise MfError(f"{where}: zero point {zp[(zp < lo) | (zp > hi)][0]} is outside [{lo}, {hi}] "
                          f"for {t.dtype}")
