"""`mcuforge bench`: instructions per inference under QEMU (-icount, see mcuforge.firmware.qemu)
for the MLPerf Tiny int8 models and the test models, beside TensorFlow Lite Micro with CMSIS-NN
measured the same way. Writes results.md (tables) and results.json (everything, per layer).

Sequence models (LSTM, SVDF) also get instructions per time step (an LSTM's inference runs its
whole input sequence, an SVDF's one step of its stream) and the RAM of their persistent state;
the samples of a stateful model run as consecutive calls, the reference carrying the state."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcuforge.compile import CompileOptions, compile_model
from mcuforge.firmware import make_firmware
from mcuforge.firmware.boards import load_board
from mcuforge.firmware.qemu import outputs_array, run_qemu
from mcuforge.firmware.run import default_inputs, to_instructions
from mcuforge.ir.graph import Graph
from mcuforge.ops.lstm import UNIDIRECTIONAL_SEQUENCE_LSTM
from mcuforge.ops.svdf import SVDF
from mcuforge.runner import compare_with_reference

REPO = Path(__file__).resolve().parents[2]
MLPERF = REPO.parent / "shared" / "models" / "mlperf_tiny"
EXAMPLE = Path(__file__).resolve().parent / "examples" / "digits_cnn.onnx"
TOP_LAYERS = 5


@dataclass(frozen=True)
class Tflm:
    """TFLite Micro + CMSIS-NN, arm-none-eabi-gcc 12.2, mps2-an386 under -icount (from issue 5)."""
    instructions: float
    per_mac: float
    arena: int
    firmware_without_model: str


TFLM_AN386 = {
    "kws_dscnn_int8": Tflm(7.70e6, 2.90, 22_820, "52-54 KB"),
    "vww_mbv1_int8": Tflm(24.1e6, 3.22, 100_708, "52-54 KB"),
    "ic_resnet8_int8": Tflm(29.9e6, 2.39, 54_996, "52-54 KB"),
    "ad_fcae_int8": Tflm(0.58e6, 2.21, 2_580, "29 KB"),
}


def time_steps(graph: Graph) -> int | None:
    """Time steps one inference runs (the longest recurrent layer's: an LSTM's sequence length,
    one for an SVDF, which takes one frame per call); None for a model without such layers."""
    steps = []
    for op in graph.ops:
        if op.kind == UNIDIRECTIONAL_SEQUENCE_LSTM.kind:
            x = graph.tensors[op.inputs[0]].shape
            steps.append(x[0] if op.attrs.get("time_major") else x[1])
        elif op.kind == SVDF.kind:
            steps.append(1)
    return max(steps) if steps else None


def sequence_models(work: Path) -> list[tuple[str, Path, CompileOptions]]:
    """The test suite's sequence models: the keyword-shaped SVDF model (no TensorFlow) and two
    tf_keras LSTMs converted by TF (a classifier over 16 steps, a streaming one-step LSTM)."""
    from svdf_models import svdf_model  # a source checkout's test models

    path = work / "svdf_keyword.tflite"
    path.write_bytes(svdf_model())
    models = [("svdf_keyword (test)", path, CompileOptions())]
    for name, steps in (("lstm_seq16", 16), ("lstm_stream", 1)):
        path = work / f"{name}.tflite"
        path.write_bytes(_keras_lstm(steps))
        models.append((f"{name} (test)", path, CompileOptions()))
    return models


def _keras_lstm(steps: int) -> bytes:
    """A tf_keras LSTM(32) over `steps` steps of 16 features with a dense head, int8 by TF's
    converter at its defaults (batch 1, as the fused LSTM needs)."""
    from mcuforge.importers.keras_import import quiet_tensorflow

    with quiet_tensorflow():
        import tensorflow as tf
        import tf_keras as k

        k.utils.set_random_seed(0)
        x = k.Input((steps, 16), batch_size=1)
        model = k.Model(x, k.layers.Dense(8)(k.layers.LSTM(32)(x)))
        rng = np.random.default_rng(0)
        conv = tf.lite.TFLiteConverter.from_keras_model(model)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([rng.standard_normal((1, steps, 16)).astype(np.float32)]
                                               for _ in range(32))
        conv.inference_input_type = conv.inference_output_type = tf.int8
        return conv.convert()


def default_models(test_models: bool, work: Path) -> list[tuple[str, Path, CompileOptions]]:
    paths = [MLPERF / f"{n}.tflite" for n in TFLM_AN386]
    models = [(p.stem, p, CompileOptions()) for p in paths if p.exists()]
    models.append(("digits_cnn (example)", EXAMPLE, CompileOptions(calib="random")))
    if test_models and (REPO / "tests" / "tflite_models.py").exists():
        sys.path.insert(0, str(REPO / "tests"))
        from tflite_models import converted, keras_zoo  # a source checkout's test models

        for name in sorted(keras_zoo()):
            path = work / f"{name}.tflite"
            path.write_bytes(converted(name, int8=True))
            models.append((f"{name} (test)", path, CompileOptions()))
        models += sequence_models(work)
    return models


def bench_model(label: str, model: Path, opts: CompileOptions, boards: list[str], samples: int,
                work: Path) -> dict:
    folder = work / label.split()[0]
    compiled = compile_model(model, folder, opts)
    report = compiled.report
    inputs = default_inputs(compiled, samples, seed=1)
    row: dict = {"model": label, "source": str(model), "macs": report["macs"],
                 "arena_bytes": report["arena_bytes"], "weights_bytes": report["weights_bytes"], "boards": {},
                 "time_steps": time_steps(compiled.graph), "state_bytes": report.get("state_bytes", 0)}
    for name in boards:
        board = load_board(name)
        _, fw = make_firmware(compiled, board, inputs, folder, profile=True)
        run = run_qemu(fw.elf, board)
        out = outputs_array(run, sum(compiled.graph.tensors[o].nbytes for o in compiled.graph.outputs))
        sizes = np.cumsum([compiled.graph.tensors[o].nbytes for o in compiled.graph.outputs])[:-1]
        c_out = {o: s.reshape(len(out), *compiled.graph.tensors[o].shape[1:])
                 for o, s in zip(compiled.graph.outputs, np.split(out, sizes, axis=1))}
        mismatches = compare_with_reference(compiled.graph, inputs, c_out)
        instr = [to_instructions(t, board) for t in run.ticks]
        layers = {i: to_instructions(t, board) for i, t in run.layer_ticks[0].items()}
        ops = report["ops"]
        sections = fw.sections
        row["boards"][name] = {
            "instructions": instr, "instructions_per_mac": instr[0] / max(report["macs"], 1),
            "instructions_per_step": [n / row["time_steps"] for n in instr] if row["time_steps"] else None,
            "resolution_instructions": board.ns_per_tick, "bit_exact": not mismatches,
            "flash_bytes": sum(sections.get(s, 0) for s in (".text", ".rodata", ".data")),
            "text_bytes": sections.get(".text", 0), "rodata_bytes": sections.get(".rodata", 0),
            "data_bytes": sections.get(".data", 0), "bss_bytes": sections.get(".bss", 0),
            "stack_estimate_bytes": fw.stack_bytes, "test_vector_bytes": fw.test_vector_bytes,
            "layers": [{"index": i, "kind": ops[i]["kind"], "name": ops[i]["name"],
                        "kernel": ops[i]["kernel"], "macs": ops[i]["macs"], "instructions": n}
                       for i, n in sorted(layers.items())],
        }
    return row


def markdown(rows: list[dict], boards: list[str]) -> str:
    out = ["# mcuforge benchmark", "",
           "Instructions per inference under QEMU with `-icount shift=0` (1 ns of virtual time per "
           "instruction), read from SysTick around the inference; resolution one SysTick tick "
           "(40 instructions at 25 MHz). Flash = .text + .rodata + .data of the ELF (harness, runtime, "
           "model, weights and one embedded test vector). TFLM = TensorFlow Lite Micro with CMSIS-NN, "
           "same compiler, measured the same way on mps2-an386.", ""]
    head = "| model | MACs | " + " | ".join(f"{b} instr | {b} instr/MAC" for b in boards)
    head += (" | TFLM an386 instr | TFLM instr/MAC | arena | TFLM arena | flash | weights"
             " | flash w/o weights, vectors |")
    out += [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cells = [r["model"], f"{r['macs']:,}"]
        for b in boards:
            d = r["boards"][b]
            cells += [f"{d['instructions'][0] / 1e6:.2f} M" + ("" if d["bit_exact"] else " (NOT bit-exact)"),
                      f"{d['instructions_per_mac']:.2f}"]
        t = TFLM_AN386.get(Path(r["source"]).stem)
        cells += [f"{t.instructions / 1e6:.2f} M" if t else "", f"{t.per_mac:.2f}" if t else ""]
        first = r["boards"][boards[0]]
        rest = first["flash_bytes"] - r["weights_bytes"] - first["test_vector_bytes"]
        tflm_rest = f" (TFLM {t.firmware_without_model})" if t else ""
        cells += [f"{r['arena_bytes']:,}", f"{t.arena:,}" if t else "", f"{first['flash_bytes']:,}",
                  f"{r['weights_bytes']:,}", f"{rest:,}{tflm_rest}"]
        out.append("| " + " | ".join(cells) + " |")
    out += sequence_table(rows, boards)
    out += ["", f"## Top {TOP_LAYERS} layers by instructions ({boards[0]})", ""]
    for r in rows:
        d = r["boards"][boards[0]]
        total = d["instructions"][0]
        out += [f"**{r['model']}** ({total / 1e6:.2f} M instructions)", "",
                "| # | op | kernel | MACs | instructions | share | instr/MAC |",
                "|---|---|---|---|---|---|---|"]
        for layer in sorted(d["layers"], key=lambda x: -x["instructions"])[:TOP_LAYERS]:
            per_mac = f"{layer['instructions'] / layer['macs']:.2f}" if layer["macs"] else ""
            out.append(f"| {layer['index']} | {layer['kind']} {layer['name'][:40]} | {layer['kernel']} | "
                       f"{layer['macs']:,} | {layer['instructions']:,} | "
                       f"{100 * layer['instructions'] / total:.1f}% | {per_mac} |")
        out.append("")
    return "\n".join(out)


def sequence_table(rows: list[dict], boards: list[str]) -> list[str]:
    """Markdown lines for the sequence models: instructions per inference and per time step
    (first sample: a stateful model's later samples continue its stream), and state RAM."""
    seq = [r for r in rows if r.get("time_steps")]
    if not seq:
        return []
    out = ["", "## Sequence models", "",
           "Per time step = per inference / time steps one inference runs (an LSTM's sequence "
           "length; 1 for an SVDF, fed one frame per call). State = the persistent buffer outside "
           "the arena (SVDF memory, LSTM hidden and cell state), kept between calls.", ""]
    head = "| model | time steps | state | arena | " + " | ".join(
        f"{b} instr/inference | {b} instr/step" for b in boards) + " |"
    out += [head, "|" + "---|" * (head.count("|") - 1)]
    for r in seq:
        cells = [r["model"], str(r["time_steps"]), f"{r['state_bytes']:,} B", f"{r['arena_bytes']:,} B"]
        for b in boards:
            d = r["boards"][b]
            cells += [f"{d['instructions'][0]:,}", f"{d['instructions_per_step'][0]:,.0f}"]
        out.append("| " + " | ".join(cells) + " |")
    return out


def main(args: argparse.Namespace) -> int:
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mcuforge-bench-") as tmp:
        work = Path(tmp)
        given = [(Path(m).stem, Path(m), CompileOptions(calib="random")) for m in args.models or []]
        models = given or default_models(not args.no_test_models, work)
        rows = []
        for label, path, opts in models:
            start = time.time()
            rows.append(bench_model(label, path, opts, args.boards, args.samples, work))
            d = rows[-1]["boards"][args.boards[0]]
            print(f"{label}: {d['instructions'][0]:,} instructions on {args.boards[0]} "
                  f"({time.time() - start:.1f} s)", file=sys.stderr)
    (out_dir / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    (out_dir / "results.md").write_text(markdown(rows, args.boards) + "\n")
    print(markdown(rows, args.boards))
    return 0
