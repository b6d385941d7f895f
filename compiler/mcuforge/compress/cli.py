"""`mcuforge compress` and the compression flags of `mcuforge compile`.

    mcuforge compress MODEL --train X.npy Y.npy --eval X.npy Y.npy [--prune-structured 0.3]
        [--prune 0.7] [--cluster 16 | --int4 | --binary] [--lowrank 0.9 | --lowrank-target 0.3]
        [--distill-from TEACHER] [--sparse | --no-sparse] -o compressed.keras

prints a table per step (parameters, weights flash, MACs, arena, top-1 of the int8 C), which
layers store their weights sparse and which stay dense (with both sizes), and the entropy
report of the last step's weights; writes the compressed Keras model, a JSON report and a PNG
of accuracy against flash. `compile` takes the same flags: Keras-level steps run first, then the
model compiles with the chosen weight formats.

MODEL must be a Keras model: pruning, clustering, low-rank and distillation fine-tune float
weights. An int8 model (.mfir, .tflite) takes the data-free storage formats on `compile`
(--int4, --cluster K, --sparse).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mcuforge.errors import MfError

if TYPE_CHECKING:
    from mcuforge.compile import CompileOptions
    from mcuforge.compress.pipeline import CompressOptions


def add_compress_flags(p: argparse.ArgumentParser, with_eval: bool) -> None:
    g = p.add_argument_group("compression")
    g.add_argument("--train", nargs=2, metavar=("X.npy", "Y.npy"),
                   help="labelled training data for fine-tuning (model's input layout, integer labels)")
    if with_eval:
        g.add_argument("--eval", nargs=2, metavar=("X.npy", "Y.npy"), help="labelled data for top-1 accuracy")
    g.add_argument("--prune-structured", type=float, metavar="RATIO",
                   help="remove this fraction of each layer's channels (smallest L1 norm)")
    g.add_argument("--structured-norm", choices=["l1", "l2"], default="l1")
    g.add_argument("--global-threshold", action="store_true",
                   help="structured pruning: one threshold over all layers instead of a ratio per layer")
    g.add_argument("--prune", type=float, metavar="SPARSITY", help="unstructured magnitude pruning")
    g.add_argument("--prune-steps", type=int, default=3, help="iterative pruning rounds (1: one-shot)")
    g.add_argument("--cluster", type=int, metavar="K", help="weight clustering to K <= 16 centroids per "
                   "layer, stored as 4-bit indices + int8 codebook")
    g.add_argument("--codebook-per-channel", action="store_true", help="one codebook per output channel")
    g.add_argument("--int4", action="store_true", help="symmetric per-channel int4 weights, two per byte")
    g.add_argument("--binary", action="store_true",
                   help="1-bit weights (b1: sign * per-channel mean |W|, 8 per byte) in the hidden "
                   "conv/dense layers; trained with a straight-through estimator when --train is given")
    g.add_argument("--binary-edges", action="store_true",
                   help="--binary: binarize the first and last weighted layers too (default: kept int8)")
    g.add_argument("--lowrank", type=float, metavar="ENERGY", help="SVD of Dense/1x1 conv keeping this "
                   "fraction of the singular-value energy")
    g.add_argument("--lowrank-target", type=float, metavar="FRACTION", help="SVD of Dense/1x1 conv with the "
                   "rank that keeps this fraction of each layer's weights (instead of --lowrank)")
    g.add_argument("--sparse", action=argparse.BooleanOptionalAction, default=None,
                   help="store int8 conv/dense weights as a bitmap + nonzero values where that saves "
                   "flash (default: on with --prune); layers where it does not pay stay dense")
    g.add_argument("--distill-from", metavar="TEACHER", help="teacher model for knowledge distillation")
    g.add_argument("--epochs", type=int, default=8,
                   help="recovery epochs after each step, at most (default 8; early stopping may use fewer)")
    g.add_argument("--validation", type=float, default=0.1, metavar="FRACTION",
                   help="fraction of --train held out for early stopping of recovery (default 0.1; 0: off)")
    g.add_argument("--patience", type=int, default=3,
                   help="recovery stops after this many epochs without a better held-out top-1 (default 3)")
    g.add_argument("--schedule", choices=["cosine", "constant"], default="cosine",
                   help="recovery learning rate: cosine decay to 5%% (default) or constant")
    g.add_argument("--temperature", type=float, default=4.0, help="distillation temperature T")
    g.add_argument("--alpha", type=float, default=0.3,
                   help="distillation: weight of the label loss (default 0.3; the rest on the teacher)")


def _load_pair(pair: list[str] | None, what: str) -> tuple[np.ndarray, np.ndarray] | None:
    if not pair:
        return None
    try:
        x, y = (np.load(p, allow_pickle=False) for p in pair)
    except (OSError, ValueError) as e:
        raise MfError(f"--{what} {' '.join(pair)}: not readable .npy files ({e})") from None
    if len(x) != len(y):
        raise MfError(f"--{what}: {len(x)} samples but {len(y)} labels")
    return x.astype(np.float32), y.reshape(len(y), -1).argmax(axis=1) if y.ndim > 1 else y.astype(np.int64)


def compress_options(args: argparse.Namespace) -> CompressOptions:
    from mcuforge.compress.pipeline import CompressOptions

    return CompressOptions(
        prune_structured=args.prune_structured, structured_norm=args.structured_norm,
        global_threshold=args.global_threshold, prune=args.prune, prune_steps=args.prune_steps,
        cluster=args.cluster, codebook_per_channel=args.codebook_per_channel, int4=args.int4,
        binary=args.binary, binary_edges=args.binary_edges, validation=args.validation,
        patience=args.patience, schedule=args.schedule,
        lowrank=args.lowrank, lowrank_target=args.lowrank_target, sparse=args.sparse,
        distill_from=args.distill_from, epochs=args.epochs,
        temperature=args.temperature, alpha=args.alpha, progress=True,
    )


def _keras_steps(args: argparse.Namespace) -> bool:
    keras_level = (args.prune_structured, args.prune, args.lowrank, args.lowrank_target, args.distill_from)
    trained = args.cluster is not None or args.binary
    return any(v is not None for v in keras_level) or (trained and args.train is not None)


def run_compress(args: argparse.Namespace, output: Path) -> Any:
    from mcuforge.compress.measure import save
    from mcuforge.compress.pipeline import compress
    from mcuforge.compress.plot import plot_accuracy_vs_flash

    check_keras_model(args.model)
    train = _load_pair(args.train, "train")
    eval_data = _load_pair(getattr(args, "eval", None), "eval")
    calib = np.load(args.calib) if getattr(args, "calib", None) not in (None, "random") else None
    work = Path(tempfile.mkdtemp(prefix="mcuforge-compress-"))
    result = compress(args.model, compress_options(args), train, eval_data, calib, work)
    saved = save(result.model, output)
    print_table(result)
    stem = saved.with_suffix("")
    png = plot_accuracy_vs_flash(result.rows, f"{stem}_accuracy_vs_flash.png", Path(args.model).name)
    report = {"rows": [asdict(r) for r in result.rows], "notes": result.notes, "weights": result.weights,
              "entropy": [asdict(e) for e in result.entropy],
              "model": str(saved), "plot": str(png) if png else None,
              "accuracy_recovered": train is not None, "recovery_epochs": result.epochs}
    Path(f"{stem}_report.json").write_text(json.dumps(report, indent=2) + "\n")
    if result.epochs:
        print("recovery epochs kept: " + ", ".join(f"{k} {v}" for k, v in result.epochs.items()))
    edges = " (--binary-edges)" if result.weights == "b1" and args.binary_edges else ""
    print(f"compressed model written to {saved}; compile it with weights {result.weights}{edges}"
          + (f"; plot {png}" if png else ""))
    return result, saved


def print_table(result: Any) -> None:
    from rich.table import Table

    from mcuforge.compress.pipeline import HEADER, table_rows
    from mcuforge.report import make_console

    console = make_console()
    table = Table(title="compression steps (flash, MACs and arena of the compiled C)", title_justify="left")
    for col in HEADER:
        table.add_column(col, justify="left" if col in ("step", "note") else "right")
    for row in table_rows(result.rows):
        table.add_row(*row)
    console.print(table)
    for step, lines in result.notes.items():
        console.print(f"[bold]{step}[/bold]: " + "; ".join(lines))
    if result.entropy:
        print_entropy(result.entropy, console)


def print_entropy(rows: list[Any], console: Any) -> None:
    from rich.table import Table

    table = Table(title="entropy report (last step, for information: no Huffman decoder on the device)",
                  title_justify="left")
    for col in ("layer", "kind", "weights", "stored B", "Huffman B", "Huffman / stored"):
        table.add_column(col, justify="left" if col in ("layer", "kind") else "right")
    for e in rows:
        table.add_row(e.op, e.kind, f"{e.weights:,}", f"{e.stored_bytes:,}", f"{e.huffman_bytes:,}",
                      f"{e.huffman_bytes / max(e.stored_bytes, 1):.2f}")
    stored, huff = sum(e.stored_bytes for e in rows), sum(e.huffman_bytes for e in rows)
    table.add_row("total", "", f"{sum(e.weights for e in rows):,}", f"{stored:,}", f"{huff:,}",
                  f"{huff / max(stored, 1):.2f}")
    console.print(table)


KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def check_keras_model(model: str) -> None:
    """compress fine-tunes in Keras: refuse other formats with what to do instead."""
    path = Path(model)
    if path.suffix.lower() in KERAS_SUFFIXES or (path.is_dir() and (path / "saved_model.pb").exists()):
        return
    hint = {".mfir": "an int8 graph from `mcuforge quantize`", ".tflite": "a TFLite flatbuffer",
            ".onnx": "an ONNX model"}.get(path.suffix.lower(), f"a '{path.suffix or path.name}' file")
    raise MfError(f"{model}: {hint}; compress takes a Keras model (.keras, .h5 or a SavedModel folder), "
                  "because pruning, clustering, low-rank and distillation fine-tune its float weights "
                  "in Keras. For this model use the data-free storage formats of `mcuforge compile "
                  f"{path.name} --int4 | --cluster K | --sparse`, or compress the Keras original")


def cmd_compress(args: argparse.Namespace) -> int:
    run_compress(args, Path(args.output))
    return 0


def add_compress_subcommand(sub: Any) -> None:
    p = sub.add_parser("compress", help="prune, cluster, factorize, distill; measured on the compiled C")
    p.add_argument("model", help="Keras model (.keras / .h5 / SavedModel); int8 models (.mfir, "
                   ".tflite) take --int4 / --cluster / --sparse on `mcuforge compile` instead")
    p.add_argument("--calib", help="calibration samples .npy (default: the first 200 training samples)")
    add_compress_flags(p, with_eval=True)
    p.add_argument("-o", "--output", required=True, help="compressed model (.keras)")
    p.set_defaults(func=cmd_compress)
    add_fit_subcommand(sub)


def add_fit_subcommand(sub: Any) -> None:
    """`mcuforge fit` (issue 16): per-layer weight formats that meet a RAM / flash budget."""
    p = sub.add_parser("fit", help="choose per-layer pruning, weight formats (int8/int4/cb4/sparse/b1) and "
                       "int16 activations to meet a RAM / flash / MACs budget, measured on the compiled C")
    p.add_argument("model", help="Keras model (.keras / .h5 / SavedModel)")
    p.add_argument("--board", help="budget: the board's RAM and flash (firmware measured for it)")
    p.add_argument("--ram", type=int, metavar="BYTES", help="RAM budget: arena + stack")
    p.add_argument("--flash", type=int, metavar="BYTES", help="flash budget: weights, tables and code")
    p.add_argument("--macs", type=int, metavar="N", help="budget of multiply-accumulates per inference "
                   "(structured pruning is what reduces them)")
    p.add_argument("--weights", type=int, metavar="BYTES", help="budget of the compiled constants' bytes "
                   "(weights, biases, requantization tables), without code")
    p.add_argument("--max-drop", type=float, metavar="POINTS", help="largest top-1 drop accepted (points)")
    p.add_argument("--train", nargs=2, metavar=("X.npy", "Y.npy"), help="data for recovery training")
    p.add_argument("--eval", nargs=2, metavar=("X.npy", "Y.npy"), help="labelled data for top-1")
    p.add_argument("--calib", help="calibration samples .npy (default: the first 200 training samples)")
    p.add_argument("--epochs", type=int, default=8, help="recovery epochs, at most (default 8)")
    p.add_argument("--learning-rate", type=float, default=2e-3,
                   help="recovery: start of the cosine learning rate (default 2e-3; lower it for inputs "
                   "far from unit scale, e.g. raw 0..255 pixels)")
    p.add_argument("-o", "--output", required=True, help="output folder: model, C, fit_report.json")
    p.set_defaults(func=cmd_fit)


def cmd_fit(args: argparse.Namespace) -> int:
    from mcuforge.compress.fit import budget_of, fit, tf_threads, write_report

    check_keras_model(args.model)
    tf_threads()
    budget = budget_of(args.board, args.ram, args.flash, args.macs, args.weights)
    train = _load_pair(args.train, "train")
    eval_data = _load_pair(args.eval, "eval")
    if args.calib:
        calib = np.load(args.calib)
    elif train is not None or eval_data is not None:
        calib = (train if train is not None else eval_data)[0][:200]  # type: ignore[index]
    else:
        raise MfError("fit needs --train or --eval data (calibration samples for quantization)")
    out = Path(args.output)
    result = fit(args.model, budget, out / "work", calib, train, eval_data, args.max_drop, args.epochs,
                 learning_rate=args.learning_rate)
    print_plan(result)
    png = write_report(result, budget, out / "fit_report.json")
    print(result.answer)
    print(f"model {result.model_path}, C {result.c_dir}, report {out / 'fit_report.json'}"
          + (f", plot {png}" if png else ""))
    return 0 if result.fits else 1


def print_plan(result: Any) -> None:
    """The chosen configuration per layer, then every candidate measured (the search's steps)."""
    from rich.table import Table

    from mcuforge.report import make_console

    console = make_console()
    table = Table(title="fit: chosen configuration per layer", title_justify="left")
    for col in ("layer", "kind", "weights", "format", "channels", "int16 act."):
        table.add_column(col, justify="right" if col == "weights" else "left")
    for row in result.plan:
        table.add_row(row["layer"] or row["op"][:40], row["kind"], f"{row['weights']:,}", row["format"],
                      row["channels"], "yes" if row["int16_activations"] else "")
    console.print(table)
    steps = Table(title="fit: candidates measured on the compiled firmware", title_justify="left")
    for col in ("step", "flash B", "RAM B", "weights B", "MACs", "top-1"):
        steps.add_column(col, justify="left" if col == "step" else "right")
    for c in result.steps:
        steps.add_row(c.step, f"{c.flash:,}", f"{c.ram:,}", f"{c.weights:,}", f"{c.macs:,}",
                      "n/a" if c.accuracy is None else f"{100 * c.accuracy:.2f}%")
    console.print(steps)


def prepare_compile(args: argparse.Namespace, opts: CompileOptions) -> tuple[str, CompileOptions]:
    """The model `compile` should compile and its options, after the Keras-level compression
    steps the flags ask for (into a temporary .keras file)."""
    weights = "cb4" if args.cluster else "int4" if args.int4 else "b1" if args.binary else "int8"
    sparse = args.sparse if args.sparse is not None else args.prune is not None
    opts = replace(opts, weights=weights, clusters=args.cluster or 16, binary_edges=args.binary_edges,
                   codebook_per_channel=args.codebook_per_channel, sparse=sparse)
    if not _keras_steps(args):
        return args.model, opts
    out = Path(tempfile.mkdtemp(prefix="mcuforge-compress-")) / "compressed.keras"
    _, saved = run_compress(args, out)
    return str(saved), opts
