"""Compile a Keras model and measure what lands on the microcontroller: parameters, flash bytes
of the compiled constants (weights, biases, requantization tables, codebooks), MACs, arena
bytes, and top-1 accuracy of the int8 graph the C runs (through the integer reference, which
the C matches bit for bit)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mcuforge.compile import Compiled, CompileOptions, compile_model
from mcuforge.reference.interpreter import run
from mcuforge.runner import quantized_inputs

from .keras_graph import count_params


@dataclass
class Row:
    step: str
    params: int
    flash_bytes: int  # compiled constants; for the float32 row, 4 bytes per parameter
    macs: int
    arena_bytes: int | None
    accuracy: float | None  # top-1 on the eval set, int8 C (None: no eval data)
    float_accuracy: float | None  # the Keras model's
    note: str = ""


def int8_accuracy(compiled: Compiled, x: np.ndarray, y: np.ndarray) -> float:
    g = compiled.graph
    q = quantized_inputs(g, {g.inputs[0]: x})[g.inputs[0]]
    hits = 0
    for i in range(len(q)):
        out = run(g, {g.inputs[0]: q[i][None]})[g.outputs[0]]
        hits += int(np.argmax(out.reshape(-1)) == int(y[i]))
    return hits / len(q)


def save(model: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if type(model).__module__.startswith("tf_keras"):
        path = path.with_suffix(".h5")
    model.save(path)
    return path


def measure(model: Any, step: str, work: Path, calib: np.ndarray, weights: str = "int8",
            eval_data: tuple[np.ndarray, np.ndarray] | None = None, float_accuracy: float | None = None,
            codebook_per_channel: bool = False, note: str = "", sparse: bool = False,
            binary_edges: bool = False) -> tuple[Row, Compiled]:
    """Compile `model` as `step` and measure it. `sparse`: int8 conv/dense weights take the sparse
    format where it saves bytes; the row's note then says what went sparse and what stayed dense."""
    path = save(model, work / f"{step}.keras")
    opts = CompileOptions(name="model", calib=calib, weights=weights,
                          codebook_per_channel=codebook_per_channel, sparse=sparse, binary_edges=binary_edges)
    compiled = compile_model(path, work / f"{step}_c", opts)
    rep = compiled.report
    acc = int8_accuracy(compiled, *eval_data) if eval_data is not None else None
    if sparse:
        from .sparse import SparseNote, summary

        fields = SparseNote.__dataclass_fields__
        line = summary([SparseNote(**{k: v for k, v in n.items() if k in fields}) for n in rep["sparse"]])
        note = "; ".join(x for x in (line, note) if x)
    row = Row(step, count_params(model), rep["weights_bytes"], rep["macs"], rep["arena_bytes"], acc,
              float_accuracy, note)
    return row, compiled
