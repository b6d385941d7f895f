"""Run a firmware ELF under qemu-system-arm and read what the harness prints.

QEMU runs with -icount shift=0: the virtual clock advances exactly 1 ns per guest instruction
and every timer follows the virtual clock, so the harness's SysTick readings are a deterministic
instruction count (ticks x 1e9 / cpu_hz, resolution one tick). Output comes over semihosting.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mcuforge.errors import MfError
from mcuforge.firmware.boards import Board
from mcuforge.firmware.project import qemu_args

QEMU = "qemu-system-arm"
_LINE = re.compile(r"^sample (\d+) (output ([0-9a-f]*)|ticks (\d+)|layer (\d+) ticks (\d+)|status (-?\d+))$")


@dataclass
class BoardRun:
    outputs: list[bytes]  # raw output bytes per sample
    ticks: list[int]  # counter ticks per inference
    layer_ticks: list[dict[int, int]] = field(default_factory=list)  # per sample: layer -> ticks
    log: str = ""


def require_qemu() -> None:
    if shutil.which(QEMU) is None:
        raise MfError(f"{QEMU} not found: install QEMU (apt-get install qemu-system-arm)")


def run_qemu(elf: Path, board: Board, timeout: float = 300) -> BoardRun:
    if not board.qemu_machine:
        raise MfError(f"board {board.name} has no QEMU machine: build it and flash it instead")
    require_qemu()
    cmd = [QEMU, *qemu_args(board), "-kernel", str(elf)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        tail = (e.stderr or b"")[-1500:]
        text = tail.decode(errors="replace") if isinstance(tail, bytes) else tail
        raise MfError(f"{elf.name} did not finish under {QEMU} -M {board.qemu_machine} within "
                      f"{timeout:g} s; last output: {text}") from None
    log = proc.stdout + proc.stderr  # the UART goes to stdout, semihosting output to stderr
    if "mcuforge: fault" in log:
        raise MfError(f"{elf.name} faulted under {QEMU} -M {board.qemu_machine}:\n"
                      + log[log.index("mcuforge: fault"):][:1500])
    if proc.returncode != 0 or "mcuforge: done" not in log:
        raise MfError(f"{elf.name} failed under {QEMU} -M {board.qemu_machine} (exit {proc.returncode}):\n"
                      f"{log.strip()[-2000:]}")
    return parse_log(log)


def parse_log(log: str) -> BoardRun:
    run = BoardRun([], [], [], log)
    for line in log.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        s = int(m.group(1))
        while len(run.layer_ticks) <= s:
            run.layer_ticks.append({})
        if m.group(3) is not None:
            run.outputs.append(bytes.fromhex(m.group(3)))
        elif m.group(4) is not None:
            run.ticks.append(int(m.group(4)))
        elif m.group(5) is not None:
            run.layer_ticks[s][int(m.group(5))] = int(m.group(6))
        else:
            raise MfError(f"sample {s}: the model returned status {m.group(7)} on the board")
    return run


def outputs_array(run: BoardRun, sample_bytes: int) -> np.ndarray:
    if any(len(o) != sample_bytes for o in run.outputs):
        raise MfError(f"the firmware printed outputs of {[len(o) for o in run.outputs]} bytes, "
                      f"expected {sample_bytes} per sample")
    return np.frombuffer(b"".join(run.outputs), dtype=np.int8).reshape(len(run.outputs), sample_bytes)
