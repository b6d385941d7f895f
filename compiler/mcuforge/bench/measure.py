"""Running one benchmark model: compile it, build its firmware for each board, run it under QEMU
(`-icount shift=0`: one instruction per virtual nanosecond, read from the board's counter around
the inference and around each layer), check the outputs bit-exact against the integer reference.
On the Cortex-M3 and M4 also estimate the inference's cycles from an execution trace
(mcuforge.firmware.cycles), for comparison with silicon cycle counts.

Layers are put in classes (`layer_class`) so instructions per MAC can be compared across models
and with issue 12's per-layer targets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from mcuforge.artifact import Compiled
from mcuforge.bench.models import BenchModel
from mcuforge.compile import compile_model
from mcuforge.errors import MfError
from mcuforge.firmware import make_firmware
from mcuforge.firmware.boards import Board, load_board
from mcuforge.firmware.cycles import MODELS as CYCLE_MODELS
from mcuforge.firmware.cycles import estimate_cycles
from mcuforge.firmware.qemu import outputs_array, run_qemu
from mcuforge.firmware.run import default_inputs, to_instructions
from mcuforge.ir.graph import Graph, Op
from mcuforge.kernels.target import family_of
from mcuforge.ops.conv_2d import CONV_2D
from mcuforge.ops.depthwise_conv_2d import DEPTHWISE_CONV_2D
from mcuforge.ops.fully_connected import FULLY_CONNECTED
from mcuforge.ops.lstm import UNIDIRECTIONAL_SEQUENCE_LSTM
from mcuforge.ops.svdf import SVDF
from mcuforge.runner import compare_with_reference

# Issue 12's per-layer targets on the Cortex-M4 (instructions per MAC), by layer class.
M4_LAYER_TARGETS = {"conv 1x1": 1.2, "depthwise 3x3": 2.5, "first conv (1-3 channels)": 2.0, "dense": 1.3}


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


def layer_class(graph: Graph, op: Op) -> str:
    """The class a layer's instructions per MAC are compared within: convolutions by kernel size
    (first layers with 1-3 input channels apart), depthwise layers by kernel size and channel
    multiplier, dense layers; any other op by its kind."""
    w = graph.tensors[op.inputs[1]].shape if len(op.inputs) > 1 else ()
    if op.kind == CONV_2D.kind:
        _, kh, kw, cin = w
        if cin <= 3 and graph.tensors[op.inputs[0]].shape[-1] <= 3:
            return "first conv (1-3 channels)"
        return f"conv {kh}x{kw}"
    if op.kind == DEPTHWISE_CONV_2D.kind:
        mult = op.attrs.get("depth_multiplier", 1)
        return f"depthwise {w[1]}x{w[2]}" + (f" mult {mult}" if mult != 1 else "")
    if op.kind == FULLY_CONNECTED.kind:
        return "dense"
    return op.kind


def _inputs(model: BenchModel, graph: Graph, samples: int) -> dict[str, np.ndarray] | None:
    """The model's own input (one tensor, reshaped to the graph's input), repeated to `samples`."""
    if model.inputs is None or len(graph.inputs) != 1:
        return None
    t = graph.tensors[graph.inputs[0]]
    x = np.asarray(model.inputs)
    if x.dtype != np.dtype(t.dtype) or x.size % int(np.prod(t.shape[1:])):
        return None
    x = x.reshape(-1, *t.shape[1:])
    return {t.name: np.resize(x, (samples, *t.shape[1:]))}


def bench_model(model: BenchModel, boards: list[str], samples: int, work: Path) -> dict:
    """A results row: the compile report's figures and, per board, instructions per sample,
    instructions per MAC, arena, flash, stack and every layer's instructions. The model is
    compiled once per core family of the boards (mcuforge.kernels.target: the M55 gets its own
    kernel choices, hence its own arena and flash); row-level figures are the first board's."""
    families = {name: family_of(load_board(name).features) for name in boards}
    builds: dict[str, Compiled] = {}
    for family in dict.fromkeys(families.values()):
        opts = replace(model.opts, kernel_target=family)
        builds[family] = compile_model(model.path, work / family / _folder(model), opts)
    first = builds[families[boards[0]]]
    report, graph = first.report, first.graph
    inputs = _inputs(model, graph, samples) or default_inputs(first, samples, seed=1)
    row: dict = {"model": model.label, "group": model.group, "source": str(model.path), "key": model.key,
                 "macs": report["macs"], "arena_bytes": report["arena_bytes"],
                 "weights_bytes": report["weights_bytes"], "boards": {}, "time_steps": time_steps(graph),
                 "state_bytes": report.get("state_bytes", 0)}
    for name in boards:
        board = load_board(name)
        compiled = builds[families[name]]
        ops, folder, g = compiled.report["ops"], compiled.files[f"{compiled.name}.c"].parent, compiled.graph
        _, fw = make_firmware(compiled, board, inputs, folder, profile=True)
        run = run_qemu(fw.elf, board)
        out = outputs_array(run, sum(graph.tensors[o].nbytes for o in graph.outputs))
        sizes = np.cumsum([graph.tensors[o].nbytes for o in graph.outputs])[:-1]
        c_out = {o: s.reshape(len(out), *graph.tensors[o].shape[1:])
                 for o, s in zip(graph.outputs, np.split(out, sizes, axis=1))}
        mismatches = compare_with_reference(g, inputs, c_out)
        instr = [to_instructions(t, board) for t in run.ticks]
        layers = {i: to_instructions(t, board) for i, t in run.layer_ticks[0].items()}
        sections = fw.sections
        row["boards"][name] = {
            "instructions": instr, "instructions_per_mac": instr[0] / max(report["macs"], 1),
            "instructions_per_step": [n / row["time_steps"] for n in instr] if row["time_steps"] else None,
            "resolution_instructions": board.ns_per_tick, "bit_exact": not mismatches,
            "kernel_target": families[name], "arena_bytes": compiled.report["arena_bytes"],
            "flash_bytes": sum(sections.get(s, 0) for s in (".text", ".rodata", ".data")),
            "text_bytes": sections.get(".text", 0), "rodata_bytes": sections.get(".rodata", 0),
            "data_bytes": sections.get(".data", 0), "bss_bytes": sections.get(".bss", 0),
            "stack_estimate_bytes": fw.stack_bytes, "test_vector_bytes": fw.test_vector_bytes,
            "cycles_estimate": _cycles(fw.elf, board, f"{compiled.name}_invoke", instr[0]),
            "layers": [{"index": i, "kind": ops[i]["kind"], "class": layer_class(g, g.ops[i]),
                        "name": ops[i]["name"], "kernel": ops[i]["kernel"], "macs": ops[i]["macs"],
                        "instructions": n}
                       for i, n in sorted(layers.items())],
        }
    return row


def _folder(model: BenchModel) -> str:
    return model.label.replace("/", "_").split()[0]


def _cycles(elf: Path, board: Board, entry: str, instructions: int) -> dict | None:
    """The cycle estimate of the first inference (mcuforge.firmware.cycles) on a core with a cycle
    model, else None; its walked instruction count must agree with -icount's (the same code) within
    1% or two counter ticks (the counter's resolution), or the estimate is refused."""
    if board.cpu not in CYCLE_MODELS:
        return None
    est = estimate_cycles(elf, board, entry)
    if abs(est.instructions - instructions) > max(0.01 * instructions, 2 * board.ns_per_tick):
        raise MfError(f"{elf.name}: the cycle trace walked {est.instructions:,} instructions, -icount "
                      f"counted {instructions:,}")
    return {"core": est.core, "cycles": est.cycles, "cpi": round(est.cpi, 4),
            "trace_instructions": est.instructions, "cycles_by_class": est.by_class}

