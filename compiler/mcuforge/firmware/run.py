"""The two entry points: write and build a board's firmware for a compiled model, and run a
model on a QEMU board checked byte for byte against the integer reference."""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mcuforge.compile import Compiled, CompileOptions, compile_model
from mcuforge.errors import MfError
from mcuforge.firmware.boards import HOST, Board, load_board
from mcuforge.firmware.build import Firmware, build_firmware, require_toolchain
from mcuforge.firmware.project import Project, write_project
from mcuforge.firmware.qemu import outputs_array, require_qemu, run_qemu


@dataclass
class BoardResult:
    compiled: Compiled
    firmware: Firmware
    raw: dict[str, np.ndarray]  # int8 outputs per output name, model layout, (N, ...)
    outputs: dict[str, np.ndarray]  # dequantized float32, model layout
    instructions: list[int]  # per sample: instructions (QEMU) of one inference
    layer_instructions: list[dict[int, int]] = field(default_factory=list)  # per sample (--profile)
    mismatches: dict[str, int] = field(default_factory=dict)
    samples: int = 0


def default_inputs(compiled: Compiled, n: int = 1, seed: int = 0) -> dict[str, np.ndarray]:
    """Deterministic pseudo-random int8 test vectors, when the user gives none."""
    g = compiled.graph
    rng = np.random.default_rng(seed)
    return {nm: rng.integers(-128, 128, (n, *g.tensors[nm].shape[1:]), dtype=np.int8) for nm in g.inputs}


def make_firmware(compiled: Compiled, board: str | Board, inputs: dict[str, np.ndarray] | None = None,
                  out: Path | None = None, profile: bool = False,
                  force: bool = False) -> tuple[Project, Firmware]:
    """Write the firmware project into the compiled folder (or `out`) and build its ELF.
    `inputs`: int8 samples per graph input in IR layout, (N, *shape without batch)."""
    b = load_board(board) if isinstance(board, str) else board
    # Absolute: the cross compiler runs in the object folder, so relative paths would not resolve.
    folder = (out or compiled.files[f"{compiled.name}.c"].parent).resolve()
    project = write_project(compiled, b, inputs or default_inputs(compiled), folder, profile)
    fw = build_firmware(project, compiled.report["arena_bytes"], compiled.report["weights_bytes"], force)
    compiled.report["firmware"] = fw.to_json()
    return project, fw


def to_instructions(ticks: int, board: Board) -> int:
    return round(ticks * board.ns_per_tick)


def run_on_board(model: str | Path, inputs: str | Path | np.ndarray | dict[str, np.ndarray], board: str,
                 opts: CompileOptions | None = None, out_dir: str | Path | None = None, check: bool = True,
                 profile: bool = False, timeout: float = 300) -> BoardResult:
    """Compile `model`, build its firmware for a QEMU `board` with `inputs` embedded, run it, and
    compare every output with the integer reference. Instruction counts come from -icount."""
    from mcuforge.runner import decode_outputs, load_samples, quantized_inputs

    b = load_board(board)
    if not b.qemu_machine:
        raise MfError(f"board {b.name} has no QEMU machine: `mcuforge compile --board {b.name}` builds "
                      "its firmware, which runs on the board itself")
    require_toolchain()
    require_qemu()
    opts = dataclasses.replace(opts or CompileOptions(), board=HOST)
    with tempfile.TemporaryDirectory(prefix="mcuforge-fw-") as tmp:
        folder = Path(out_dir) if out_dir else Path(tmp)
        compiled = compile_model(model, folder, opts)
        g = compiled.graph
        q = quantized_inputs(g, load_samples(inputs, g))
        _, fw = make_firmware(compiled, b, q, folder, profile=profile)
        run = run_qemu(fw.elf, b, timeout)
    n = len(next(iter(q.values())))
    out_sizes = [g.tensors[o].nbytes for o in g.outputs]
    per_sample = outputs_array(run, sum(out_sizes))
    if len(per_sample) != n:
        raise RuntimeError(f"the firmware ran {len(per_sample)} of {n} samples")
    raw, outputs, mismatches = decode_outputs(g, q, per_sample, check)
    layers = [{k: to_instructions(v, b) for k, v in d.items()} for d in run.layer_ticks] if profile else []
    return BoardResult(compiled, fw, raw, outputs, [to_instructions(t, b) for t in run.ticks], layers,
                       mismatches, samples=n)
