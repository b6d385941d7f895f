"""The `mcuforge` command line. Each subcommand is a function in COMMANDS; user errors
(`MfError`) print one line on stderr and exit 2, with a traceback only under --debug."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from mcuforge import __version__
from mcuforge.errors import MfError
from mcuforge.ir.graph import Shape

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
    if args.json:
        json.dump(summary.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_summary(summary)
    return 0


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file: .onnx, .tflite, .keras, .h5, or a SavedModel folder")
    p.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...",
                   help="fix an input's dynamic dimensions (model's own layout); repeatable")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcuforge", description=__doc__)
    parser.add_argument("--version", action="version", version=f"mcuforge {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("inspect", help="print ops, shapes, parameters and MACs of a model")
    _add_model_args(p)
    p.add_argument("--json", action="store_true", help="write the table as JSON to stdout")
    p.set_defaults(func=cmd_inspect)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except MfError as e:
        if args.debug:
            raise
        print(f"mcuforge: error: {e}", file=sys.stderr)
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
