"""The `mcuforge` command line. Each subcommand is a function in COMMANDS; user errors
(`MfError`) print one line on stderr and exit 2, with a traceback only under --debug."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mcuforge.errors import MfError
from mcuforge.ir.graph import Shape
from mcuforge.version import __version__

if TYPE_CHECKING:
    from mcuforge.compile import CompileOptions
    from mcuforge.runner import BoardResult

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 3


def parse_input_shapes(specs: Sequence[str]) -> dict[str, Shape]:
    """`NAME=1,3,32,32` items into a mapping; the shape is in the model's own layout."""
    shapes: dict[str, Shape] = {}
    for spec in specs:
        name, sep, dims = spec.rpartition("=")
        try:
            if not sep or not name:
                raise ValueError
            shapes[name] = tuple(int(d) for d in dims.split(","))
        except ValueError:
            raise MfError(f"--input-shape '{spec}': expected NAME=D0,D1,... e.g. input=1,3,32,32") from None
        if any(d <= 0 for d in shapes[name]):
            raise MfError(f"--input-shape '{spec}': every dimension must be a positive integer")
    return shapes


def cmd_inspect(args: argparse.Namespace) -> int:
    from mcuforge.importers import load_model
    from mcuforge.report import print_summary
    from mcuforge.summary import summarize

    graph = load_model(args.model, parse_input_shapes(args.input_shape))
    summary = summarize(graph)
    from mcuforge.compile import check_compiles

    for note in check_compiles(graph):  # the checks `compile` makes, so what passes here compiles
        if not args.json:
            print(f"mcuforge: note: {note}", file=sys.stderr)
    if args.json:
        json.dump(summary.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_summary(summary)
    return 0


def cmd_ops(args: argparse.Namespace) -> int:
    from mcuforge.op_support import all_support, lines, to_json

    importers = [i for i in all_support() if args.importer in (None, i.name)]
    if args.json:
        json.dump(to_json(importers), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        try:
            print("\n".join(lines(importers)).rstrip())
        except BrokenPipeError:  # `mcuforge ops | head`
            sys.stderr.close()
    return 0


def _compile_options(args: argparse.Namespace) -> CompileOptions:
    from mcuforge.compile import CompileOptions

    return CompileOptions(name=args.name, calib=args.calib, method=args.method, alignment=args.alignment,
                          input_shapes=parse_input_shapes(args.input_shape), progress=sys.stderr.isatty(),
                          param=args.percentile, bias_correction=args.bias_correction,
                          eval_data=tuple(args.eval) if args.eval else None,
                          board=args.board, profile=args.profile, force=args.force,
                          int16_layers=args.int16, keep_state=getattr(args, "keep_state", False),
                          overlap=not getattr(args, "no_overlap", False),  # issue 13
                          residual_rows=not getattr(args, "no_residual_rows", False))  # ic area


def cmd_compile(args: argparse.Namespace) -> int:
    from mcuforge.compile import compile_model
    from mcuforge.compress.cli import prepare_compile
    from mcuforge.report import print_compile_report

    model, opts = prepare_compile(args, _compile_options(args))
    opts.exports = tuple(args.export)
    compiled = compile_model(model, args.output, opts)
    print_compile_report(compiled.report, args.output)
    for kind, folder in compiled.report.get("exports", {}).items():
        print(f"export {kind}: {folder}")
    fw = compiled.report.get("firmware")
    if fw and not fw["fits"]:
        print(f"mcuforge: warning: the firmware does not fit {args.board} (--force)", file=sys.stderr)
    return 0


def cmd_quantize(args: argparse.Namespace) -> int:
    from mcuforge.importers import load_model
    from mcuforge.importers.ir_file import SUFFIX, save_ir
    from mcuforge.quantize import QuantOptions, quantize

    if not args.output.endswith(SUFFIX):
        raise MfError(f"-o {args.output}: the quantized graph is written as mcuforge IR; name it *{SUFFIX}")
    if args.calib is None:
        raise MfError(f"{args.model}: quantizing needs calibration data: --calib DATA.npy (samples in "
                      "the model's own input layout), or --calib random to skip validation")
    graph = load_model(args.model, parse_input_shapes(args.input_shape))
    opts = QuantOptions(args.method, args.percentile, args.mode, args.bias_correction, sys.stderr.isatty(),
                        int16_layers=args.int16)
    int_graph, report = quantize(graph, args.calib, opts, tuple(args.eval) if args.eval else None)
    save_ir(int_graph, args.output)
    print("\n".join(report.lines()))
    print(f"quantized graph written to {args.output}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Host: build with the host compiler. A board: build its firmware and run it under QEMU,
    printing instructions per inference. Either way, every output is checked against the
    integer reference unless --no-check."""
    from mcuforge.report import print_compile_report

    if args.board == "host":
        from mcuforge.runner import run_model

        result = run_model(args.model, args.input, _compile_options(args), out_dir=args.keep,
                           check=not args.no_check)
        where = "C output"
    else:
        from mcuforge.runner import run_on_board

        result = run_on_board(args.model, args.input, args.board, _compile_options(args),
                              out_dir=args.keep, check=not args.no_check, profile=args.profile,
                              timeout=args.timeout)
        where = f"output on {args.board}"
    _save_outputs(args.output, result.raw if args.raw else result.outputs)
    if args.keep:
        print_compile_report(result.compiled.report, args.keep)
    if args.board != "host":
        _print_instructions(result)
    print(f"{result.samples} samples, outputs written to {args.output}")
    if result.compiled.program.state_bytes:  # stateful area
        print(f"stateful model ({result.compiled.program.state_bytes} bytes of state): the samples ran "
              "as consecutive calls, each starting from the state the previous one left (as TFLite "
              "Micro's interpreter keeps variable tensors); the reference did the same")
    if result.mismatches:
        detail = ", ".join(f"'{o}' on {k} of {result.samples} samples" for o, k in result.mismatches.items())
        print(f"mcuforge: error: {where} differs from the integer reference: {detail}", file=sys.stderr)
        return 1
    if not args.no_check:
        print(f"{where} is bit-exact with the integer reference on all {result.samples} samples")
    return 0


def _save_outputs(path: str, outputs: dict) -> None:
    import numpy as np

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if path.endswith(".npz"):
        np.savez(path, **outputs)
    else:
        np.save(path, next(iter(outputs.values())))


def _print_instructions(result: BoardResult) -> None:
    for i, n in enumerate(result.instructions):
        print(f"sample {i}: instructions: {n}")
    if result.layer_instructions:
        steps = result.compiled.report["ops"]
        for layer, n in sorted(result.layer_instructions[0].items()):
            print(f"  layer {layer:3d} {steps[layer]['kind']:<20} instructions: {n}")


def cmd_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mcuforge.demo import demo

    return demo(Path(args.output))


def _layer_list(text: str) -> tuple[str, ...]:
    """`--int16 a,b,c` into layer names."""
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _add_quantize_args(p: argparse.ArgumentParser) -> None:
    from mcuforge.quantize import DEFAULT_METHOD
    from mcuforge.quantize.ranges import METHODS

    p.add_argument("--calib", help="calibration data for a float model: .npy / .npz in the model's "
                   "own input layout, or 'random' (accuracy not validated)")
    p.add_argument("--method", default=DEFAULT_METHOD, choices=list(METHODS),
                   help=f"calibration method (default: {DEFAULT_METHOD})")
    p.add_argument("--percentile", type=float, help="the percentile of --method percentile (default 99.99)")
    p.add_argument("--bias-correction", action="store_true",
                   help="correct conv/dense biases for the mean error of their int8 weights")
    p.add_argument("--eval", nargs=2, metavar=("X.npy", "Y.npy"),
                   help="labelled samples (model's input layout) and class labels: report float vs "
                   "quantized top-1 accuracy")
    p.add_argument("--int16", type=_layer_list, default=(), metavar="LAYER,...",
                   help="keep these layers (node names, as the quantize report shows them) at int16 "
                   "activations in the int8 graph (TFLite's 16x8 kernels); the report gives the RAM and "
                   "accuracy cost")


def cmd_bench(args: argparse.Namespace) -> int:
    from mcuforge.bench import main as bench_main

    return bench_main(args)


def cmd_fuzz(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mcuforge.fuzz import fuzz

    if args.count < 1 and args.index is None:
        raise MfError(f"--count {args.count}: give at least one model")
    if args.board != "host":
        from mcuforge.firmware import load_board

        if not load_board(args.board).qemu_machine:
            raise MfError(f"--board {args.board} has no QEMU machine; fuzz runs the C on the host or under "
                          "QEMU (see `mcuforge boards`)")
    records = fuzz(args.count, args.seed, Path(args.output), args.frontend, args.board, args.jobs,
                   args.index, progress=sys.stderr.isatty() and not args.no_progress,
                   minimize_failures=not args.no_minimize)
    return 1 if any(r["status"] in ("mismatch", "crash") for r in records) else 0


def _add_fuzz_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fuzz", help="differential fuzzing: random models compiled, run and checked")
    p.add_argument("--count", type=int, default=100, help="models to generate (default 100)")
    p.add_argument("--seed", type=int, default=0, help="run seed; model I's seed derives from it and I")
    p.add_argument("--index", type=int, help="regenerate and check only model INDEX of --seed")
    p.add_argument("--jobs", type=int, help="worker processes (default: the number of cores)")
    p.add_argument("--board", default="host", help="host, or a QEMU board (e.g. mps2-an386)")
    p.add_argument("--frontend", default="all",
                   choices=["tflite", "keras", "onnx", "torch", "torchscript", "qdq", "all"],
                   help="how models are exported (default all: tflite, keras, onnx and torch in turn "
                        "per model; torch is torch.onnx.export's default dynamo exporter, torchscript "
                        "its TorchScript one)")
    p.add_argument("--no-minimize", action="store_true", help="write failures without minimizing them")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("-o", "--output", required=True, help="folder for failures and results.json")
    p.set_defaults(func=cmd_fuzz)


def _add_board_args(p: argparse.ArgumentParser, default_help: str) -> None:
    p.add_argument("--board", default="host", help=f"{default_help}; boards are listed by `mcuforge boards`")
    p.add_argument("--profile", action="store_true", help="firmware: count instructions/cycles per layer")
    p.add_argument("--force", action="store_true",
                   help="firmware: write it even if it exceeds the board's RAM or flash")


def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 0, or 1 when the accuracy lost passes --max-drop (points)."""
    from mcuforge.validate import validate

    v = validate(args.model, args.data, args.labels, _compile_options(args), board=args.board,
                 out_dir=args.output)
    print("\n".join(v.lines()))
    if args.output:
        print(f"report: {Path(args.output) / 'report.html'}")
    if args.max_drop is not None and v.drop_points > args.max_drop:
        print(f"mcuforge: validate: {v.drop_points:.2f} points lost, more than --max-drop {args.max_drop:g}",
              file=sys.stderr)
        return 1
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from mcuforge.report_html import rebuild_html

    print(rebuild_html(Path(args.folder)))
    return 0


def cmd_boards(args: argparse.Namespace) -> int:
    from mcuforge.firmware import list_boards, load_board

    print("host             this machine's C compiler (default)")
    for name in list_boards():
        b = load_board(name)
        qemu = f"QEMU {b.qemu_machine}" if b.qemu_machine else "build only"
        print(f"{name:<16} {b.cpu:<14} RAM {b.ram.length // 1024:>5} KB  "
              f"flash {b.flash.length // 1024:>5} KB  {qemu}")
    return 0


def _add_compile_args(p: argparse.ArgumentParser) -> None:
    _add_quantize_args(p)
    p.add_argument("--name", help="C name of the model (default: from the file name)")
    p.add_argument("--alignment", type=int, default=16, help="arena alignment in bytes (default 16)")
    p.add_argument("--no-overlap", action="store_true",  # issue 13
                   help="never place a layer's output over the input it replaces (default: where the "
                   "kernel's access pattern allows it and the arena shrinks)")
    p.add_argument("--no-residual-rows", action="store_true",  # ic area (issue 13)
                   help="never compute a conv -> conv -> add residual block row by row (default: where "
                   "that shrinks the arena)")
    p.add_argument("--keep-state", action="store_true",  # stateful area
                   help="int8 LSTMs keep their hidden and cell state from one call to the next until "
                   "NAME_reset(), as TFLite Micro's variable tensors (default: only an LSTM fed one time "
                   "step per call does; one over several steps starts every call from zero)")


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file: .onnx, .tflite, .keras, .h5, .mfir, or a SavedModel folder")
    p.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...",
                   help="fix an input's dynamic dimensions (model's own layout); repeatable")


EXPORT_KINDS = ("cmake", "arduino", "zephyr", "platformio")  # mcuforge.export.KINDS, without importing it


def build_parser() -> argparse.ArgumentParser:
    from mcuforge.compress.cli import add_compress_flags, add_compress_subcommand

    parser = argparse.ArgumentParser(prog="mcuforge", description=__doc__)
    parser.add_argument("--version", action="version", version=f"mcuforge {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("inspect", help="print ops, shapes, parameters and MACs of a model")
    _add_model_args(p)
    p.add_argument("--json", action="store_true", help="write the table as JSON to stdout")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("compile", help="compile a model to a C folder with report.json")
    _add_model_args(p)
    _add_compile_args(p)
    p.add_argument("-o", "--output", required=True, help="output folder")
    _add_board_args(p, "target board (default: host); a board adds a firmware project and builds its ELF")
    p.add_argument("--export", nargs="+", default=[], choices=EXPORT_KINDS, metavar="KIND",
                   help=f"also write the model as a library for another build system, each into "
                        f"OUTPUT/KIND/: {', '.join(EXPORT_KINDS)}")
    add_compress_flags(p, with_eval=False)
    p.set_defaults(func=cmd_compile)
    add_compress_subcommand(sub)

    p = sub.add_parser("quantize", help="quantize a float model to a .mfir graph, with an accuracy report")
    _add_model_args(p)
    _add_quantize_args(p)
    p.add_argument("--mode", default="int8", choices=["int8", "16x8"],
                   help="int8, or 16x8: int16 activations, int8 weights (TFLite 16x8 mode)")
    p.add_argument("-o", "--output", required=True, help="the quantized graph, NAME.mfir")
    p.set_defaults(func=cmd_quantize)

    p = sub.add_parser("run", help="compile, build and run on samples, checked against the reference")
    _add_model_args(p)
    _add_compile_args(p)
    p.add_argument("--input", required=True, help="samples: .npy (N, *input shape) or .npz per input")
    p.add_argument("--output", required=True, help="where to write outputs (.npy, or .npz per output)")
    _add_board_args(p, "where to run (default: host); a board with a QEMU machine runs under QEMU")
    p.add_argument("--timeout", type=float, default=300, help="QEMU time limit in seconds (default 300)")
    p.add_argument("--raw", action="store_true", help="write int8 outputs instead of dequantized float")
    p.add_argument("--no-check", action="store_true", help="skip the bit-exactness check")
    p.add_argument("--keep", metavar="DIR", help="keep the generated C folder in DIR")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("validate", help="the original model against the generated C on your data: error "
                       "figures and accuracy")
    _add_model_args(p)
    _add_compile_args(p)
    p.add_argument("--data", required=True,
                   help="samples (.npy, (N, *input shape) in the model's own layout)")
    p.add_argument("--labels", help="class labels (.npy, N integers): top-1 accuracy of both")
    p.add_argument("--max-drop", type=float, metavar="POINTS", help="exit 1 if accuracy drops by more than "
                   "this many points (without labels: 100 x (1 - top-1 agreement))")
    p.add_argument("-o", "--output", help="keep the compiled folder here, the figures in its report")
    _add_board_args(p, "where the C runs (default: host); a board with a QEMU machine runs under QEMU")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("report", help="rebuild FOLDER/report.html from FOLDER/report.json")
    p.add_argument("folder", help="a folder mcuforge compile wrote")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("ops", help="the ops each importer supports, with their constraints")
    p.add_argument("importer", nargs="?", choices=["onnx", "tflite", "keras"], help="only this importer")
    p.add_argument("--json", action="store_true", help="write the list as JSON to stdout")
    p.set_defaults(func=cmd_ops)

    p = sub.add_parser("boards", help="list the boards --board accepts")
    p.set_defaults(func=cmd_boards)

    p = sub.add_parser("bench", help="instructions per inference on the QEMU Cortex-M boards, "
                       "beside TFLite Micro")
    p.add_argument("--models", nargs="*", help="model files instead of the model sets; a float model is "
                   "calibrated on random data")
    p.add_argument("--set", nargs="*", metavar="SET", help="model sets: mlperf, users, cases, sequence, "
                   "example, tests (default: all but tests)")
    p.add_argument("--boards", nargs="*", help="QEMU boards (default: mps2-an385 mps2-an386 mps2-an500 "
                   "mps2-an505 mps3-an547 mps2-an385-m0plus)")
    p.add_argument("--samples", type=int, default=1, help="input samples per model (default 1)")
    p.add_argument("-o", "--output", default="bench_results", help="folder for results.md and results.json")
    p.set_defaults(func=cmd_bench)

    _add_fuzz_parser(sub)  # fuzz (issue 14)

    p = sub.add_parser("demo", help="the whole job on the bundled digits example, with a report")
    p.add_argument("-o", "--output", default="build/demo", help="folder for the generated C")
    p.set_defaults(func=cmd_demo)
    for command in sub.choices.values():  # --debug also after the command (`mcuforge run ... --debug`)
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show tracebacks for errors")
    return parser


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: object = None, line: str | None = None) -> None:
    """mcuforge's own warnings as one line like its errors; others as Python prints them."""
    from mcuforge.quantize.calibration import AccuracyWarning

    if issubclass(category, AccuracyWarning):
        print(f"mcuforge: warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    warnings.showwarning = _show_warning
    try:
        return func(args)
    except MfError as e:
        if args.debug:
            raise
        # File names from the OS may hold undecodable bytes (surrogates): print them escaped.
        message = str(e).encode("utf-8", "backslashreplace").decode("utf-8")
        print(f"mcuforge: error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("mcuforge: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug in mcuforge, not in the user's input
        if args.debug:
            raise
        print(f"mcuforge: internal error: {type(e).__name__}: {e} "
              "(rerun with --debug for a traceback and please report it)", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
