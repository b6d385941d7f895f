"""Write and build a board's firmware for a compiled model (`mcuforge.artifact.Compiled`).
Running a model on a QEMU board and checking it is the driver's (`mcuforge.runner.run_on_board`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mcuforge.artifact import Compiled
from mcuforge.firmware.boards import Board, load_board
from mcuforge.firmware.build import Firmware, build_firmware
from mcuforge.firmware.project import Project, write_project


def default_inputs(compiled: Compiled, n: int = 1, seed: int = 0) -> dict[str, np.ndarray]:
    """Deterministic pseudo-random int8 (int16 for 16x8 inputs) test vectors, when the user gives none."""
    g = compiled.graph
    rng = np.random.default_rng(seed)
    out = {}
    for nm in g.inputs:
        info = np.iinfo(np.int16 if g.tensors[nm].dtype == "int16" else np.int8)
        out[nm] = rng.integers(info.min, info.max + 1, (n, *g.tensors[nm].shape[1:]), dtype=info.dtype)
    return out


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
