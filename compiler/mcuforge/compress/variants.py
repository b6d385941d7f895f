"""Per-layer variants of one model, compiled fast (`mcuforge fit`): the float graph is imported
and quantized once (per set of int16 layers), and each variant only re-encodes the chosen ops'
weights (compress/encode.py) and lowers and renders the C, instead of converting and
calibrating the Keras model again for every candidate. The result is what `compile_model`
gives for the same options (without the HTML report), so the firmware built from it measures
the same flash and RAM.

`outputs` runs the int8 graph (the integer reference, which the C matches bit for bit) and
dequantizes its first output: (N, classes) float32, for accuracy and output noise."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import numpy as np

from mcuforge.artifact import Compiled
from mcuforge.codegen import render
from mcuforge.compile import CompileOptions, build_report, encode_for, lowered, sparse_for, to_int8
from mcuforge.importers import load_model
from mcuforge.ir.graph import Graph
from mcuforge.reference.interpreter import run
from mcuforge.runner import quantized_inputs


class Variants:
    def __init__(self, path: Path, calib: np.ndarray, name: str = "model") -> None:
        self.path, self.calib, self.name = Path(path), calib, name
        self.graph = load_model(self.path)
        self._int: dict[tuple[str, ...], tuple[Graph, object]] = {}

    def keyed(self, int16: tuple[str, ...] = ()) -> Graph:
        """The int8 graph (before encoding and lowering) whose weighted ops the "#i" keys of
        `formats` count (encode_layers resolves them there): lowering may fuse a conv -> conv ->
        add block into one RESIDUAL_ROWS op (codegen.residual_rows), hiding its two convolutions
        from `Compiled.graph`, so keys counted on a compiled graph would name other layers."""
        key = tuple(sorted(int16))
        if key not in self._int:
            self._int[key] = to_int8(copy.deepcopy(self.graph), self.options({}, key))
        return self._int[key][0]

    def options(self, formats: dict[str, str], int16: tuple[str, ...] = ()) -> CompileOptions:
        return CompileOptions(name=self.name, calib=self.calib, int16_layers=tuple(sorted(int16)),
                              layer_weights={k: v for k, v in formats.items() if v != "int8"} or None)

    def compile(self, formats: dict[str, str], out: Path, int16: tuple[str, ...] = ()) -> Compiled:
        """`formats`: "#i" op key -> int4 / cb4 / b1, or "sp": the op's SPARSITY smallest int8
        weights zeroed (data-free; a no-op on weights trained sparse) and, like every zero-heavy
        int8 layer then, stored as bitmap + nonzero values."""
        packed = {k: v for k, v in formats.items() if v != "sp"}
        sp = [k for k, v in formats.items() if v == "sp"]
        opts = self.options(packed, int16)
        key = opts.int16_layers
        if key not in self._int:
            self._int[key] = to_int8(copy.deepcopy(self.graph), opts)
        int_graph, accuracy = self._int[key]
        int_graph = copy.deepcopy(int_graph)
        if sp:
            sparsify(int_graph, sp)
        g, encoding = encode_for(copy.deepcopy(self.graph), int_graph, opts)
        g, sparse_notes = sparse_for(g, replace(opts, sparse=bool(sp)))
        program = lowered(g, self.name, opts.alignment)
        files = render(g, program, self.name, Path(out), str(self.path))
        report = build_report(g, program, self.name, str(self.path), accuracy)  # type: ignore[arg-type]
        report["weight_encoding"] = encoding
        report["sparse"] = sparse_notes
        return Compiled(self.name, g, program, accuracy, report, files)  # type: ignore[arg-type]


SPARSITY = 0.7  # the "sp" format: fraction of a layer's weights zeroed


def magnitude_mask(w: np.ndarray, sparsity: float = SPARSITY) -> np.ndarray:
    """True where a weight is kept: above the `sparsity` quantile of |w| (zeros never kept)."""
    a = np.abs(w.astype(np.float64))
    return a > np.quantile(a, sparsity)


def sparsify(graph: Graph, keys: list[str]) -> None:
    """Zero the smallest SPARSITY of the int8 weights of the ops keyed "#i" (weighted op order)."""
    from mcuforge.compress.encode import weighted_op_names

    names = weighted_op_names(graph)
    by_name = {op.name: op for op in graph.ops}
    for key in keys:
        t = graph.tensors[by_name[names[int(key[1:])]].inputs[1]]
        assert t.data is not None
        t.data = np.where(magnitude_mask(t.data), t.data, 0).astype(t.data.dtype)


def outputs(compiled: Compiled, x: np.ndarray) -> np.ndarray:
    """The int8 graph's first output for each sample, dequantized: (N, K) float32."""
    g = compiled.graph
    q = quantized_inputs(g, {g.inputs[0]: x})[g.inputs[0]]
    t = g.tensors[g.outputs[0]]
    rows = []
    for i in range(len(q)):
        out = run(g, {g.inputs[0]: q[i][None]})[g.outputs[0]].reshape(-1).astype(np.float64)
        if t.quant is not None and t.dtype in ("int8", "int16"):
            out = (out - float(t.quant.zero_point[0])) * float(t.quant.scale[0])
        rows.append(out)
    return np.asarray(rows, dtype=np.float32)


def noise(y: np.ndarray, ref: np.ndarray) -> float:
    """Output noise relative to the reference's signal: sum (y - ref)^2 / sum ref^2 (1 / SQNR)."""
    ref64 = ref.astype(np.float64)
    return float(((y.astype(np.float64) - ref64) ** 2).sum() / max((ref64 ** 2).sum(), 1e-12))
