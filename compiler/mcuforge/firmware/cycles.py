"""Cycle estimate of one inference on a Cortex-M3 or Cortex-M4, from a QEMU execution trace.

QEMU's `-icount` counts instructions, while silicon results (X-CUBE-AI's MLPerf Tiny figures,
a board's DWT cycle counter) are cycles. To compare fairly, `estimate_cycles` runs the firmware
once more with `-d in_asm,exec,nochain` (every translated block's instructions, then every
execution of a block, in order), takes the blocks executed inside the first `<model>_invoke()`
call (from its first block to the next block of `main`) and weights each instruction by the
cycles the core's Technical Reference Manual gives for it with zero-wait-state memory: Cortex-M4
TRM (ARM DDI 0439) Table 3-1 and Cortex-M3 TRM (ARM DDI 0337) Table 18-1.

The model, per instruction (`CycleModel` holds the numbers that differ by core):
* data processing, DSP (SIMD, saturating, SMLAD family on the M4), bit-field, IT: 1;
* a load or store of one register: 2, or 1 when it follows another one (the TRMs: neighbouring
  single loads and stores pipeline their address and data phases); LDRD/STRD: 3;
  LDM/STM/PUSH/POP of N registers: 1 + N;
* a branch: 1, plus a pipeline refill P when taken (the TRMs give P = 1..3; we take 2); a
  block-ending branch is taken when the next block executed does not start right after it; a
  POP or LDR that loads PC, BX, BLX: always taken;
* multiplies: MUL 1; MLA/MLS 1 (M4) or 2 (M3); long multiplies 1 (M4) or 4 / 5 for SMULL, UMULL /
  SMLAL, UMLAL (M3: 3-5 and 4-7 in the TRM); SDIV/UDIV 7 (the TRM's 2-12, middle);
* VFP loads and stores as their integer twins, VDIV/VSQRT 14, other VFP 1.
Not modelled: flash wait states and prefetch misses (zero-wait-state memory), interrupts, stalls
from a load result used at once as an address. The figure is an estimate within these rules;
the instruction count it walks is checked against `-icount` by the caller (`CycleEstimate`).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mcuforge.errors import MfError
from mcuforge.firmware.boards import Board
from mcuforge.firmware.project import qemu_args
from mcuforge.firmware.qemu import QEMU, require_qemu

CONDITIONS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt",
              "le", "al")
_COND = "(?:" + "|".join(CONDITIONS) + ")?"
_SINGLE = re.compile(rf"^(?:ldr|str)(?:ex)?(?:b|h|sb|sh)?t?{_COND}$")
_DOUBLE = re.compile(rf"^(?:ldrd|strd){_COND}$")
_MULTIPLE = re.compile(rf"^(?:ldm|stm)(?:ia|db|fd|ea)?{_COND}$|^(?:push|pop)$")
_BRANCH = re.compile(rf"^(?:b{_COND}|bl|blx|bx{_COND}|cbz|cbnz|tbb|tbh)$")
_IT = re.compile(r"^it[te]{0,3}$")
_VFP_SINGLE = re.compile(r"^v(?:ldr|str)$")
_VFP_MULTIPLE = re.compile(r"^v(?:ldm|stm|push|pop)(?:ia|db)?$")
_IN_LINE = re.compile(r"^0x([0-9a-f]+):\s+((?:[0-9a-f]{4} ?)+)\s+(\S+)\s*(.*)$")
_REWIND = re.compile(r"^cpu_io_recompile: rewound execution of TB to ([0-9a-f]+)")
_TRACE = re.compile(r"^Trace \d+: (0x[0-9a-f]+) \[[0-9a-f]+/([0-9a-f]+)/[0-9a-f]+/[0-9a-f]+\] (\S*)")
PIPELINE_REFILL = 2


def _op(names: str) -> re.Pattern[str]:
    """A mnemonic among `names` (a regex alternation), with an optional S and condition."""
    return re.compile(rf"^(?:{names})s?{_COND}$")


_MUL, _MLA, _LONG_MUL, _LONG_MLA = _op("mul"), _op("mla|mls"), _op("smull|umull"), _op("smlal|umlal|umaal")
_DIVIDE, _DSP_MUL, _VFP_SLOW = _op("sdiv|udiv"), re.compile(r"^sm[a-z]+$"), re.compile(r"^v(?:div|sqrt)$")


@dataclass(frozen=True)
class CycleModel:
    """The cycle counts that differ between the cores (the rest is in the module docstring)."""

    core: str
    mla: int
    long_mul: int  # SMULL, UMULL
    long_mla: int  # SMLAL, UMLAL, UMAAL
    divide: int = 7


MODELS = {"cortex-m4": CycleModel("cortex-m4", mla=1, long_mul=1, long_mla=1),
          "cortex-m3": CycleModel("cortex-m3", mla=2, long_mul=4, long_mla=5)}


def _timed(model: CycleModel) -> tuple[tuple[re.Pattern[str], str, int], ...]:
    """Multiplies, divides and slow VFP ops: (pattern, class, cycles), first match wins."""
    return ((_MUL, "multiply", 1), (_MLA, "multiply", model.mla), (_LONG_MUL, "multiply", model.long_mul),
            (_LONG_MLA, "multiply", model.long_mla), (_DIVIDE, "divide", model.divide),
            (_DSP_MUL, "multiply", 1), (_VFP_SLOW, "vfp", 14))


@dataclass(frozen=True)
class Instruction:
    address: int
    size: int  # bytes
    mnemonic: str  # capstone's, without .w/.n and data-type suffixes
    operands: str


@dataclass
class CycleEstimate:
    """One inference: the instructions walked in the trace, their estimated cycles, and the
    cycles by instruction class (alu, load_store, multiply, branch, ...)."""

    core: str
    instructions: int
    cycles: int
    by_class: dict[str, int]

    @property
    def cpi(self) -> float:
        return self.cycles / self.instructions if self.instructions else 0.0


def _registers(operands: str) -> list[str]:
    """The registers of a register list such as '{r4, r5, lr}' or '{r4-r7}'."""
    inside = operands[operands.find("{") + 1:operands.find("}")]
    regs: list[str] = []
    for part in (p.strip() for p in inside.split(",") if p.strip()):
        m = re.fullmatch(r"([rsd])(\d+)-[rsd](\d+)", part)
        regs += [f"{m.group(1)}{i}" for i in range(int(m.group(2)), int(m.group(3)) + 1)] if m else [part]
    return regs


def _writes_pc(ins: Instruction) -> bool:
    """POP/LDM with PC in the list, or an LDR/MOV/ADD whose destination is PC."""
    if "{" in ins.operands:
        return ins.mnemonic.startswith(("pop", "ldm")) and "pc" in _registers(ins.operands)
    return ins.operands.split(",")[0].strip() == "pc"


def _single(mnemonic: str) -> bool:
    return bool(_SINGLE.match(mnemonic) or _VFP_SINGLE.match(mnemonic))


def classify(ins: Instruction, model: CycleModel, previous_single: bool) -> tuple[str, int]:
    """(class, cycles) of one instruction, a branch counted as not taken (the caller adds P).
    `previous_single`: the instruction before was a single load or store (pipelined)."""
    m = ins.mnemonic
    if _single(m):
        return "load_store", 1 if previous_single else 2
    if _DOUBLE.match(m):
        return "load_store", 3
    if _MULTIPLE.match(m) or _VFP_MULTIPLE.match(m):
        return "load_store", 1 + len(_registers(ins.operands))
    if _BRANCH.match(m):
        return "branch", 1
    for pattern, kind, cycles in _timed(model):
        if pattern.match(m):
            return kind, cycles
    if _IT.match(m):
        return "it", 1
    return ("vfp" if m.startswith("v") else "alu"), 1


def _trace(elf: Path, board: Board, log: Path, timeout: float) -> None:
    cmd = [QEMU, *qemu_args(board), "-kernel", str(elf), "-d", "in_asm,exec,nochain", "-D", str(log)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise MfError(f"{elf.name}: the traced run under {QEMU} did not finish in {timeout:g} s") from None
    if proc.returncode != 0 or "mcuforge: done" not in proc.stdout + proc.stderr:
        raise MfError(f"{elf.name}: the traced run under {QEMU} failed (exit {proc.returncode})")


def _parse_block(lines: list[str]) -> list[Instruction]:
    block = []
    for line in lines:
        m = _IN_LINE.match(line)
        if m:
            size = len(m.group(2).replace(" ", "")) // 2
            block.append(Instruction(int(m.group(1), 16), size, m.group(3).split(".")[0], m.group(4)))
    return block


@dataclass(frozen=True)
class _BlockCost:
    instructions: int
    by_class: tuple[tuple[str, int], ...]  # cycles by class, the block's end branch not taken
    fall_through: int  # the address after its last instruction
    end_class: str | None  # the class charged P when the block ends in a taken branch, or None


def _cycles_of(block: list[Instruction], model: CycleModel) -> list[tuple[str, int]]:
    """(class, cycles) of each instruction of a block, in order (a load pipelined behind one)."""
    out, previous_single = [], False
    for ins in block:
        out.append(classify(ins, model, previous_single))
        previous_single = _single(ins.mnemonic)
    return out


def _cost(block: list[Instruction], model: CycleModel) -> _BlockCost:
    by_class: Counter[str] = Counter()
    for kind, cycles in _cycles_of(block, model):
        by_class[kind] += cycles
    end = block[-1]
    kind, _ = classify(end, model, False)
    end_class = "branch" if kind == "branch" else kind if _writes_pc(end) else None
    return _BlockCost(len(block), tuple(by_class.items()), end.address + end.size, end_class)


def walk(log_lines: Iterable[str], entry: str, model: CycleModel) -> CycleEstimate:
    """Weights the blocks executed from the first block of function `entry` to the next block of
    `main` (the inference); `log_lines`: the lines of a `-d in_asm,exec,nochain` log. A block
    that QEMU rewinds at an I/O access (under -icount: the per-layer counter reads) counts only
    up to that instruction, which runs again in a block of its own."""
    costs: dict[str, _BlockCost] = {}  # QEMU's block pointer -> its cost
    listed: dict[str, list[Instruction]] = {}  # QEMU's block pointer -> its instructions
    pending: dict[int, list[Instruction]] = {}  # just translated, not yet seen executing
    undone: Counter[str] = Counter()  # cycles by class of block tails cut short by a rewind
    undone_instructions = 0
    runs: Counter[str] = Counter()  # block pointer -> executions inside the inference
    taken: Counter[str] = Counter()  # block pointer -> executions that left by a taken branch
    inside, done = False, False
    current: list[str] | None = None
    last: _BlockCost | None = None  # the block executed before, to decide its end branch
    last_pointer = ""
    for line in log_lines:
        rewind = _REWIND.match(line)
        if rewind:  # the last block stopped before an I/O access and goes on in a new block
            if inside and last is not None:
                block = listed[last_pointer]
                cut = next(i for i, ins in enumerate(block) if ins.address == int(rewind.group(1), 16))
                for kind, cycles in _cycles_of(block, model)[cut:]:
                    undone[kind] += cycles
                undone_instructions += len(block) - cut
            last = None
            continue
        if line.startswith("IN:"):
            current = []
            continue
        if current is not None:
            if line.strip() and not line.startswith("Trace"):
                current.append(line)
                continue
            block = _parse_block(current)
            if block:
                pending[block[0].address] = block
            current = None
        m = _TRACE.match(line)
        if not m:
            continue
        pointer, pc, function = m.group(1), int(m.group(2), 16), m.group(3)
        if pc in pending:
            listed[pointer] = pending.pop(pc)
            costs[pointer] = _cost(listed[pointer], model)
        if last is not None and last.end_class is not None and pc != last.fall_through:
            taken[last_pointer] += 1
        last = None
        if not inside:
            inside = function == entry
        elif function == "main":
            done = True
            break
        if not inside:
            continue
        if pointer not in costs:
            raise MfError(f"cycle trace: block at 0x{pc:08x} ({function}) executed before it was listed")
        runs[pointer] += 1
        last, last_pointer = costs[pointer], pointer
    if not done:
        raise MfError(f"cycle trace: no complete call of {entry} found")
    by_class: Counter[str] = Counter({kind: -cycles for kind, cycles in undone.items()})
    instructions = -undone_instructions
    for pointer, n in runs.items():
        cost = costs[pointer]
        instructions += n * cost.instructions
        for kind, cycles in cost.by_class:
            by_class[kind] += n * cycles
        if taken[pointer]:
            assert cost.end_class is not None
            by_class[cost.end_class] += taken[pointer] * PIPELINE_REFILL
    return CycleEstimate(model.core, instructions, sum(by_class.values()), dict(by_class))


def estimate_cycles(elf: Path, board: Board, entry: str, timeout: float = 600) -> CycleEstimate:
    """Runs `elf` on `board`'s QEMU machine with the execution trace on and estimates the cycles
    of the first call of `entry` (the model's `<name>_invoke`). MfError when the board's core has
    no cycle model (`MODELS`: Cortex-M3, Cortex-M4) or the run fails."""
    model = MODELS.get(board.cpu)
    if model is None:
        raise MfError(f"board {board.name}: no cycle model for {board.cpu}; there are models for "
                      f"{', '.join(sorted(MODELS))}")
    require_qemu()
    with tempfile.TemporaryDirectory(prefix="mcuforge-trace-") as tmp:
        log = Path(tmp) / "trace.log"
        _trace(elf, board, log, timeout)
        with log.open(errors="replace") as f:
            return walk((line.rstrip("\n") for line in f), entry, model)
