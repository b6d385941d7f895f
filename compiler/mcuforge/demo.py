"""`mcuforge demo`: the main job on the bundled example, end to end, with a report.

Import the digits CNN (ONNX, NCHW), quantize it on 200 training images, compile it to C, build the
C on the host, run it on the 397 held-out images, check every output byte against the integer
reference, and compare its accuracy with the float model's. Then build the firmware for a Cortex-M4
(QEMU mps2-an386), run a few images under QEMU, check them too, and count instructions.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from rich.console import Console

from mcuforge.compile import CompileOptions
from mcuforge.importers import load_model
from mcuforge.passes import optimize
from mcuforge.quantize.calibration import load_calibration
from mcuforge.reference.interpreter import run
from mcuforge.report import make_console, print_compile_report, print_summary
from mcuforge.runner import run_model, run_on_board
from mcuforge.summary import summarize

EXAMPLE = Path(__file__).resolve().parent / "examples" / "digits_cnn.onnx"
TRAIN = 1400  # the example was trained on the first 1400 images
BOARD = "mps2-an386"
BOARD_SAMPLES = 8


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).astype(np.float32)[:, None], d.target


def float_accuracy(x: np.ndarray, y: np.ndarray) -> float:
    graph = optimize(load_model(EXAMPLE))
    samples = load_calibration(graph, x)
    out = graph.outputs[0]
    pred = [int(np.argmax(run(graph, s)[out])) for s in samples]
    return float(np.mean(np.array(pred) == y))


def demo(out_dir: Path) -> int:
    console = make_console()
    x, y = digits()
    console.rule("1. import")
    print_summary(summarize(load_model(EXAMPLE)), console)
    console.rule("2. quantize, plan, generate C, build and run on the host")
    result = run_model(EXAMPLE, x[TRAIN:], CompileOptions(calib=x[:200], name="digits_cnn"),
                       out_dir=out_dir)
    print_compile_report(result.compiled.report, str(out_dir), console)
    console.rule("3. check")
    c_acc = float(np.mean(result.outputs["probs"].argmax(axis=1) == y[TRAIN:]))
    f_acc = float_accuracy(x[TRAIN:], y[TRAIN:])
    exact = not result.mismatches
    console.print(f"C output bit-exact with the integer reference on {result.samples} held-out images: "
                  f"{'yes' if exact else 'NO: ' + str(result.mismatches)}")
    console.print(f"top-1 accuracy on {result.samples} held-out images: float {f_acc:.4f}, "
                  f"int8 C {c_acc:.4f} ({100 * (c_acc - f_acc):+.2f} points)")
    console.rule(f"4. Cortex-M4 firmware under QEMU ({BOARD})")
    return 0 if exact and on_board(x[TRAIN:TRAIN + BOARD_SAMPLES], out_dir / BOARD, console) else 1


def on_board(x: np.ndarray, out_dir: Path, console: Console) -> bool:
    missing = [tool for tool in ("arm-none-eabi-gcc", "qemu-system-arm") if shutil.which(tool) is None]
    if missing:  # only a missing tool skips this step; any other failure fails the demo
        console.print(f"skipped: {' and '.join(missing)} not installed (apt-get install gcc-arm-none-eabi "
                      "libnewlib-arm-none-eabi qemu-system-arm)")
        return True
    board = run_on_board(EXAMPLE, x, BOARD, CompileOptions(calib=digits()[0][:200], name="digits_cnn"),
                         out_dir=out_dir, profile=True)
    fw = board.firmware
    per_layer = board.layer_instructions[0]
    steps = board.compiled.report["ops"]
    macs = board.compiled.report["macs"]
    console.print(f"bit-exact with the integer reference on {board.samples} images: "
                  f"{'yes' if not board.mismatches else 'NO: ' + str(board.mismatches)}")
    n = board.instructions[0]
    console.print(f"instructions per inference (QEMU -icount): {n:,} on the first image ({n / macs:.2f} per "
                  f"MAC), {min(board.instructions):,} to {max(board.instructions):,} over {board.samples}")
    for layer, count in sorted(per_layer.items(), key=lambda kv: -kv[1])[:3]:
        console.print(f"  layer {layer} {steps[layer]['kind']}: {count:,} instructions")
    console.print(f"firmware: flash {fw.flash_bytes:,} B (weights {fw.weights_bytes:,} B), RAM: arena "
                  f"{fw.arena_bytes:,} B + stack estimate {fw.stack_bytes:,} B; ELF {fw.elf}")
    return not board.mismatches
