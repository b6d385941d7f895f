"""Move user data between a model's own layout (e.g. ONNX NCHW) and the IR layout (NHWC).

`graph.io_layouts` says, per input and output whose layout changed at import, how. Arrays may
carry one extra leading axis: a batch of samples, each shaped like the model's tensor.
"""

from __future__ import annotations

import numpy as np

from mcuforge.errors import MfError
from mcuforge.ir.graph import Graph


def _perm_for(graph: Graph, name: str, array: np.ndarray, inverse: bool) -> tuple[int, ...] | None:
    layout = graph.io_layouts.get(name)
    if layout is None:
        return None
    perm = tuple(int(p) for p in np.argsort(layout.perm)) if inverse else layout.perm
    extra = array.ndim - len(perm)
    if extra not in (0, 1):
        raise MfError(f"'{name}': got an array of shape {array.shape}, expected {len(perm)} axes "
                      f"(shape {layout.source_shape}) or {len(perm) + 1} with a leading sample axis")
    return tuple(range(extra)) + tuple(p + extra for p in perm)


def require_batch_one(graph: Graph, name: str) -> None:
    """Samples are fed one per inference: MfError when input `name` was fixed to a batch above 1
    (e.g. with --input-shape), naming the shape that works."""
    shape = graph.tensors[name].shape
    layout = graph.io_layouts.get(name)
    source = layout.source_shape if layout else shape
    if shape and shape[0] != 1:
        fixed = ",".join(["1", *map(str, source[1:])])
        raise MfError(f"input '{name}' has batch {shape[0]}: calibration and run feed one sample per "
                      f"inference; fix the batch to 1 (--input-shape {name}={fixed})")


def to_ir_layout(graph: Graph, name: str, array: np.ndarray) -> np.ndarray:
    """Data for input or output `name`, given in the source model's layout, in the IR layout."""
    perm = _perm_for(graph, name, np.asarray(array), inverse=False)
    return np.asarray(array) if perm is None else np.ascontiguousarray(np.transpose(array, perm))


def from_ir_layout(graph: Graph, name: str, array: np.ndarray) -> np.ndarray:
    """Data for input or output `name`, given in the IR layout, in the source model's layout."""
    perm = _perm_for(graph, name, np.asarray(array), inverse=True)
    return np.asarray(array) if perm is None else np.ascontiguousarray(np.transpose(array, perm))
