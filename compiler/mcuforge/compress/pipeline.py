"""The compression pipeline behind `mcuforge compress`: the chosen techniques in a fixed order
(low-rank, structured pruning, magnitude pruning, clustering or int4, distillation), each
measured on the compiled C (a `Row` per step) so the table shows what reaches the device.

With training data, every step that changes the function is followed by recovery training:
distillation from the teacher when there is one, else from the original model (Hinton et al.;
the compressed model learns the original's soft outputs as well as the labels), with a cosine
learning-rate decay and early stopping on a held-out `validation` fraction of the training data
(the best epoch's weights are kept; the notes give the epochs each step used). Without data
only the data-free steps run, and the rows say that accuracy was not recovered.

`binary` (issue 16) trains the hidden Conv2D / Dense layers with 1-bit weights (compress/binary.py)
and compiles them with the b1 weight format.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mcuforge.errors import MfError

from . import cluster as clustering
from . import prune as magnitude
from .binary import BinaryState, binary_layers
from .distill import DistillConfig, Losses, accuracy, train_student
from .entropy import EntropyRow, entropy_report
from .fold import fold_batch_norm
from .keras_graph import keras_module
from .lowrank import factorize
from .measure import Row, measure
from .sparse import NOTE_SPARSITY
from .structured import prune_structured

Data = tuple[np.ndarray, np.ndarray]


@dataclass
class CompressOptions:
    prune_structured: float | None = None  # fraction of channels removed per layer
    structured_norm: str = "l1"
    global_threshold: bool = False
    prune: float | None = None  # final unstructured sparsity
    prune_steps: int = 3  # iterative pruning rounds (1: one-shot)
    cluster: int | None = None  # centroids per layer (<= 16): 4-bit codebook weights
    codebook_per_channel: bool = False
    int4: bool = False
    binary: bool = False  # 1-bit (b1) hidden Conv2D / Dense layers, trained with the STE
    binary_edges: bool = False  # binarize the first and last weighted layers too
    lowrank: float | None = None  # SVD energy kept
    lowrank_target: float | None = None  # or: the fraction of each layer's weights to keep
    sparse: bool | None = None  # sparse storage of zero-heavy int8 weights (None: after --prune)
    distill_from: Any = None  # teacher: a Keras model or a path
    epochs: int = 8  # recovery epochs after each step, at most (early stopping may use fewer)
    validation: float = 0.1  # held-out fraction of --train for early stopping (0: no early stopping)
    patience: int = 3  # epochs without a better held-out top-1 before recovery stops
    schedule: str = "cosine"  # learning rate: cosine decay over the recovery, or "constant"
    temperature: float = 4.0
    alpha: float = 0.3  # weight of the label loss; 0.7 on the teacher's soft outputs
    learning_rate: float = 2e-3  # cosine start (1e-3 left a 0.5-pruned CNN still improving at epoch 8)
    seed: int = 0
    progress: bool = False


@dataclass
class CompressResult:
    model: Any  # the compressed Keras model
    weights: str  # the weight storage to compile it with: int8, int4, cb4 or b1
    rows: list[Row]
    notes: dict[str, list[str]] = field(default_factory=dict)  # step -> what happened, per layer
    entropy: list[EntropyRow] = field(default_factory=list)  # the last step's compiled weights
    epochs: dict[str, int] = field(default_factory=dict)  # recovery epochs kept per step


def load(model: Any) -> Any:
    if isinstance(model, (str, Path)):
        from mcuforge.importers.keras_import import load_keras, quiet_tensorflow

        with quiet_tensorflow():
            return load_keras(Path(model))
    return model


def copy_model(model: Any) -> Any:
    keras = keras_module(model)
    twin = keras.models.clone_model(model)
    twin.set_weights(model.get_weights())
    return twin


def compress(model: Any, opts: CompressOptions, train: Data | None = None, eval_data: Data | None = None,
             calib: np.ndarray | None = None, work_dir: str | Path | None = None) -> CompressResult:
    if opts.cluster and opts.int4:
        raise MfError("--cluster and --int4 both choose the 4-bit weight format; give one of them")
    if opts.binary and (opts.cluster or opts.int4):
        raise MfError("--binary chooses 1-bit weights, --cluster / --int4 4-bit ones: give one of them")
    original = load(model)
    current = copy_model(original)
    teacher = load(opts.distill_from) if opts.distill_from is not None else None
    if calib is None:
        if train is None and eval_data is None:
            raise MfError("compress needs --train or --eval data (calibration samples for quantization)")
        calib = (train if train is not None else eval_data)[0][:200]  # type: ignore[index]
    work = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="mcuforge-compress-"))
    rows: list[Row] = []
    notes: dict[str, list[str]] = {}
    no_data = "" if train is not None else "no training data: accuracy not recovered"

    def float_acc(m: Any) -> float | None:
        return accuracy(m, *eval_data) if eval_data is not None else None

    entropy: list[EntropyRow] = []
    epochs_used: dict[str, int] = {}  # step -> recovery epochs kept (summed over rounds)

    def record(m: Any, step: str, weights: str = "int8", note: str = "") -> None:
        sparse = opts.sparse if opts.sparse is not None else bool(opts.prune)  # zeros: stored sparse
        row, compiled = measure(m, step, work, calib, weights, eval_data, float_acc(m),
                                opts.codebook_per_channel, note, sparse, opts.binary_edges)
        rows.append(row)
        entropy[:] = entropy_report(compiled.graph)
        lines = [n["note"] for n in compiled.report["sparse"]
                 if n["format"] == "sparse" or n["sparsity"] >= NOTE_SPARSITY]
        if lines:
            notes[f"{step} storage"] = lines
        if opts.progress:
            print(format_row(row))

    def recover(m: Any, step: str, after_batch: Any = None, before_batch: Any = None) -> None:
        if train is None:
            return
        cfg = DistillConfig(epochs=opts.epochs, temperature=opts.temperature, alpha=opts.alpha,
                            learning_rate=opts.learning_rate, seed=opts.seed, progress=opts.progress,
                            schedule=opts.schedule, validation=opts.validation, patience=opts.patience)
        losses = train_student(m, *train, teacher=teacher or original, config=cfg, after_batch=after_batch,
                               before_batch=before_batch)
        epochs_used[step] = epochs_used.get(step, 0) + losses.best_epoch
        notes.setdefault(f"{step} recovery", []).append(recovery_line(losses, cfg))

    base, compiled = measure(original, "int8", work, calib, "int8", eval_data, float_acc(original))
    entropy[:] = entropy_report(compiled.graph)
    rows.append(Row("float32", base.params, 4 * base.params, base.macs, None, base.float_accuracy,
                    base.float_accuracy, "float weights, before compilation"))
    rows.append(base)

    if teacher is not None and not any((opts.lowrank, opts.lowrank_target, opts.prune_structured, opts.prune,
                                        opts.cluster)):
        if train is None:
            raise MfError("--distill-from needs --train data")
        recover(current, "distill")
        record(current, "distill", note=f"student trained from teacher, T={opts.temperature}, a={opts.alpha}")
    if opts.lowrank or opts.lowrank_target:
        current, lr_notes = factorize(current, energy=opts.lowrank, target=opts.lowrank_target)
        notes["lowrank"] = [f"{n.layer} {n.shape[0]}x{n.shape[1]}: " +
                            (f"rank {n.rank}, {n.weights_before} -> {n.weights_after} weights" if n.rank
                             else n.reason) for n in lr_notes]
        recover(current, "lowrank")
        record(current, "lowrank", note=no_data)
    if opts.prune_structured:
        current, report = prune_structured(current, opts.prune_structured, opts.structured_norm,
                                           opts.global_threshold)
        notes["prune-structured"] = report.lines()
        recover(current, "prune-structured")
        record(current, "prune-structured", note=no_data)
    masks: dict[str, np.ndarray] = {}
    if opts.prune:
        steps = magnitude.schedule(opts.prune, opts.prune_steps if train is not None else 1)
        for s in steps:
            masks = magnitude.magnitude_masks(current, s)
            magnitude.apply_masks(current, masks)
            recover(current, "prune", lambda m=masks: magnitude.apply_masks(current, m))
        notes["prune"] = [f"{k}: sparsity {v:.2f}" for k, v in magnitude.sparsity_of(current).items()]
        record(current, "prune", note=no_data)
    weights = "int8"
    if opts.cluster:
        current, folded = fold_batch_norm(current)  # so the compiled codebooks stay exact
        state = clustering.cluster_weights(current, opts.cluster, opts.codebook_per_channel)
        recover(current, "cluster", lambda: clustering.snap_to_centroids(current, state))
        distinct = clustering.distinct_values(current)
        notes["cluster"] = [f"{k}: {v} distinct weights" for k, v in distinct.items()] + folded
        weights = "cb4"
        record(current, "cluster", weights, note=no_data)
    if opts.int4:
        weights = "int4"
        record(current, "int4", weights, note="data-free: symmetric per-channel int4 at compile time")
    if opts.binary:
        weights = "b1"
        layers, kept = binary_layers(current, opts.binary_edges)
        notes["binary"] = kept + [f"{layer.name}: 1-bit weights" for layer in layers]
        if train is None:
            record(current, "binary", weights, note="data-free: sign * mean |W| per channel at compile "
                   "time; no training data: accuracy not recovered")
        else:
            binary = BinaryState.of(layers)
            recover(current, "binary", after_batch=binary.restore, before_batch=binary.binarize)
            binary.finalize()
            record(current, "binary", weights, note="trained 1-bit (straight-through estimator)")
    if opts.sparse and not opts.prune and not opts.cluster and not opts.int4 and not opts.binary:
        record(current, "sparse", note="data-free: sparse storage of the zero weights already there")
    return CompressResult(current, weights, rows, notes, entropy, epochs_used)


def recovery_line(losses: Losses, cfg: DistillConfig) -> str:
    """One note per recovery: epochs run and kept, held-out top-1, the schedule."""
    line = f"{len(losses)} of at most {cfg.epochs} epochs ({cfg.schedule} learning rate)"
    if losses.val_accuracy:
        best = losses.val_accuracy[losses.best_epoch - 1]
        loss = losses.val_loss[losses.best_epoch - 1]
        line += f", kept epoch {losses.best_epoch} (held-out loss {loss:.3f}, top-1 {100 * best:.1f}%)"
    return line


HEADER = ("step", "params", "weights flash B", "MACs", "arena B", "top-1 int8 C", "top-1 float", "note")


def format_row(r: Row) -> str:
    acc = "n/a" if r.accuracy is None else f"{100 * r.accuracy:.2f}%"
    facc = "n/a" if r.float_accuracy is None else f"{100 * r.float_accuracy:.2f}%"
    arena = "-" if r.arena_bytes is None else f"{r.arena_bytes:,}"
    return f"{r.step}: params {r.params:,}  flash {r.flash_bytes:,} B  MACs {r.macs:,}  arena {arena}  " \
           f"top-1 {acc} (float {facc}){'  ' + r.note if r.note else ''}"


def table_rows(rows: list[Row]) -> list[tuple[str, ...]]:
    out = []
    for r in rows:
        out.append((r.step, f"{r.params:,}", f"{r.flash_bytes:,}", f"{r.macs:,}",
                    "-" if r.arena_bytes is None else f"{r.arena_bytes:,}",
                    "n/a" if r.accuracy is None else f"{100 * r.accuracy:.2f}%",
                    "n/a" if r.float_accuracy is None else f"{100 * r.float_accuracy:.2f}%", r.note))
    return out


def deep_copy_rows(rows: list[Row]) -> list[Row]:
    return copy.deepcopy(rows)
