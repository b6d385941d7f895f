"""Calibration data and the statistics gathered from it.

Data comes in the model's own layout: a `.npy` array of N samples, an `.npz` with one array per
input name, any iterable of arrays (Python API), or the word `random` (uniform noise, with a
warning that accuracy is then not validated). Statistics are gathered by running the float
reference over every sample: min/max of every tensor, then (for the clipping methods) a histogram
of each tensor over its [min, max].
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcuforge.errors import MfError
from mcuforge.ir.graph import Graph
from mcuforge.ir.layout import require_batch_one, to_ir_layout
from mcuforge.ops.quantize import affine_quantize
from mcuforge.reference.interpreter import run

HIST_BINS = 2048

Sample = dict[str, np.ndarray]  # input name -> one sample in IR layout, with batch dim 1


@dataclass
class TensorStats:
    lo: float
    hi: float
    hist: np.ndarray | None = None  # HIST_BINS counts over [lo, hi]


def source_sample_shape(graph: Graph, name: str) -> tuple[int, ...]:
    """Shape of one sample of an input in the model's own layout (batch dim dropped)."""
    layout = graph.io_layouts.get(name)
    shape = layout.source_shape if layout else graph.tensors[name].shape
    return tuple(shape[1:])


def to_ir_sample(graph: Graph, name: str, x: np.ndarray) -> np.ndarray:
    """One sample in the model's layout (no batch dim) -> IR layout with batch dim 1."""
    x = to_ir_layout(graph, name, np.asarray(x, dtype=np.float32)[None])
    return np.ascontiguousarray(x.reshape(graph.tensors[name].shape))


class AccuracyWarning(UserWarning):
    """The quantized model's accuracy could not be checked (random calibration data)."""


def load_calibration(graph: Graph, data: str | Path | np.ndarray | Mapping[str, np.ndarray]
                     | Iterable[np.ndarray], random_count: int = 32,
                     what: str = "calibration data") -> list[Sample]:
    """Validated samples in IR layout; `what` names the data in error messages."""
    arrays = _as_arrays(graph, data, random_count)
    for name, a in arrays.items():
        require_batch_one(graph, name)
        want = source_sample_shape(graph, name)
        if a.ndim == 0 or tuple(a.shape[1:]) != want:
            raise MfError(
                f"{what} for input '{name}' has shape {tuple(a.shape)}, "
                f"expected (N, {', '.join(map(str, want))}): N samples in the model's own layout"
            )
        if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
            raise MfError(f"{what} for input '{name}' is {a.dtype}, expected float32 (or integer) values")
        if not np.all(np.isfinite(a)):
            raise MfError(f"{what} for input '{name}' contains NaN or infinity")
    counts = {n: len(a) for n, a in arrays.items()}
    if min(counts.values()) < 1:
        raise MfError(f"{what} has no samples; give at least 1 (200 is a good number)")
    if len(set(counts.values())) != 1:
        raise MfError(f"{what}: arrays have different sample counts: {counts}")
    n = next(iter(counts.values()))
    return [{name: to_ir_sample(graph, name, a[i]) for name, a in arrays.items()} for i in range(n)]


def as_graph_input(graph: Graph, sample: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A calibration sample fed to the graph as it is: real values quantized with the scale of an
    integer input (a TF model converted with int8 input), integer values taken as they are."""
    out = {}
    for name, x in sample.items():
        t = graph.tensors[name]
        if t.dtype != "float32" and t.quant is not None and np.issubdtype(x.dtype, np.floating):
            out[name] = affine_quantize(x, t.quant, t.dtype)
        else:
            out[name] = x.astype(t.dtype) if t.dtype != "float32" else x
    return out


def load_labels(data: str | Path | np.ndarray, count: int) -> np.ndarray:
    """Class labels for `count` evaluation samples: integers, shape (N,)."""
    if isinstance(data, (str, Path)):
        path = Path(data)
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise MfError(f"{path}: labels must be a readable .npy file ({e})") from None
    y = np.asarray(data)
    if y.ndim != 1 or len(y) != count:
        raise MfError(f"labels have shape {y.shape}, expected ({count},): one class index per sample")
    if not np.issubdtype(y.dtype, np.integer) and not (np.issubdtype(y.dtype, np.floating)
                                                       and np.all(y == np.round(y))):
        raise MfError(f"labels are {y.dtype} with non-integer values, expected class indices")
    return y.astype(np.int64)


def _as_arrays(graph: Graph, data: object, random_count: int) -> dict[str, np.ndarray]:
    if isinstance(data, str) and data == "random":
        warnings.warn("calibrating on random data: accuracy is not validated", AccuracyWarning, stacklevel=3)
        rng = np.random.default_rng(0)
        return {n: rng.uniform(-1, 1, (random_count, *source_sample_shape(graph, n))).astype(np.float32)
                for n in graph.inputs}
    if isinstance(data, (str, Path)):
        return _load_file(graph, Path(data))
    if isinstance(data, np.ndarray):
        return _single_input(graph, data, "the calibration array")
    if isinstance(data, Mapping):
        return _by_name(graph, {k: np.asarray(v) for k, v in data.items()}, "the calibration mapping")
    samples = list(data)  # type: ignore[call-overload]
    if not samples:
        raise MfError("calibration data has no samples; give at least 1 (200 is a good number)")
    return _single_input(graph, np.stack([np.asarray(s) for s in samples]), "the calibration samples")


def _load_file(graph: Graph, path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        raise MfError(f"{path}: no such file (expected .npy or .npz samples)")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise MfError(f"{path}: not a readable .npy or .npz file ({e})") from None
    if isinstance(loaded, np.ndarray):
        return _single_input(graph, loaded, str(path))
    with loaded:
        return _by_name(graph, {k: loaded[k] for k in loaded.files}, str(path))


def _single_input(graph: Graph, a: np.ndarray, where: str) -> dict[str, np.ndarray]:
    if len(graph.inputs) != 1:
        raise MfError(f"{where}: the model has inputs {graph.inputs}; give an .npz with one array per name")
    return {graph.inputs[0]: a}


def _by_name(graph: Graph, arrays: dict[str, np.ndarray], where: str) -> dict[str, np.ndarray]:
    missing = [n for n in graph.inputs if n not in arrays]
    if missing:
        if len(graph.inputs) == 1 and len(arrays) == 1:
            return {graph.inputs[0]: next(iter(arrays.values()))}
        raise MfError(f"{where}: no array for model inputs {missing}; it has {sorted(arrays)}")
    return {n: arrays[n] for n in graph.inputs}


def _float_tensors(graph: Graph, samples: list[Sample], progress: bool) -> Iterator[dict[str, np.ndarray]]:
    from tqdm import tqdm

    for sample in tqdm(samples, desc="calibrating", unit="sample", disable=not progress, leave=False):
        values = run(graph, sample, keep_all=True)
        yield {n: v for n, v in values.items() if not graph.tensors[n].is_const}


def collect_stats(graph: Graph, samples: list[Sample], histograms: bool,
                  progress: bool = False) -> dict[str, TensorStats]:
    stats: dict[str, TensorStats] = {}
    producers = graph.producers()
    for index, values in enumerate(_float_tensors(graph, samples, progress)):
        for n, v in values.items():
            lo, hi = float(v.min()), float(v.max())
            if not (np.isfinite(lo) and np.isfinite(hi)):
                op = producers.get(n)
                where = f"the output of {op.kind} '{op.name}'" if op is not None else "a model input"
                raise MfError(f"{graph.source}: calibration sample {index} makes tensor '{n}' ({where}) "
                              f"{'NaN' if np.isnan(v).any() else 'infinite'} in the float model (a 0/0 or "
                              "overflow, e.g. normalizing a zero vector); give data the float model computes "
                              "finite values on")
            s = stats.get(n)
            stats[n] = TensorStats(lo, hi) if s is None else TensorStats(min(s.lo, lo), max(s.hi, hi))
    if histograms:
        for values in _float_tensors(graph, samples, progress):
            for n, v in values.items():
                s = stats[n]
                counts, _ = np.histogram(v, bins=HIST_BINS, range=(s.lo, s.hi if s.hi > s.lo else s.lo + 1))
                s.hist = counts if s.hist is None else s.hist + counts
    return stats
