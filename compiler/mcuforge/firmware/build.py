"""Cross-build a firmware project with arm-none-eabi-gcc, estimate its stack, link it with the
board's linker script, and measure RAM and flash per region from the ELF.

The memory budget: everything in RAM (.data, .bss with the model's arena, the stack estimate)
must fit the RAM region, and everything loaded into flash (.text, .rodata with the weights,
the initial values of .data) the FLASH region. The linker is told the stack size, so an
overflow shows as a link error; the ELF is still written (--noinhibit-exec) and measured, and
the error names the figures and the overshoot.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from mcuforge.build import cache_dir, headers_digest, object_key
from mcuforge.errors import MfError
from mcuforge.firmware.boards import Board
from mcuforge.firmware.project import LDFLAGS, Project, set_stack_in_cmake
from mcuforge.firmware.stack import estimate_stack

CC = "arm-none-eabi-gcc"
_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")


@dataclass
class RegionUse:
    name: str
    origin: int
    length: int
    used: int
    parts: dict[str, int] = field(default_factory=dict)  # section -> bytes

    @property
    def over(self) -> int:
        return max(0, self.used - self.length)

    def to_json(self) -> dict:
        return {"origin": f"0x{self.origin:08X}", "length": self.length, "used": self.used,
                "free": self.length - self.used, "parts": self.parts}


@dataclass
class Firmware:
    elf: Path
    board: Board
    regions: dict[str, RegionUse]
    sections: dict[str, int]  # .text, .rodata, .data, .bss, ... -> bytes
    stack_bytes: int
    arena_bytes: int
    weights_bytes: int
    test_vector_bytes: int
    fits: bool

    @property
    def flash_bytes(self) -> int:
        """Bytes loaded into flash: .text + .rodata + .data (+ vectors, exidx, boot2)."""
        return sum(u.used for u in self.regions.values() if u.name != "RAM")

    def to_json(self) -> dict:
        return {
            "board": self.board.name, "elf": self.elf.name, "fits": self.fits,
            "stack_estimate_bytes": self.stack_bytes, "arena_bytes": self.arena_bytes,
            "weights_bytes": self.weights_bytes, "test_vector_bytes": self.test_vector_bytes,
            "flash_bytes": self.flash_bytes, "sections": self.sections,
            "regions": {k: v.to_json() for k, v in self.regions.items()},
        }


def require_toolchain() -> None:
    if shutil.which(CC) is None:
        raise MfError(f"{CC} not found: install the Arm GNU toolchain "
                      "(apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)")


def _compile(project: Project, headers: str, src: Path, obj: Path) -> str | None:
    """Compile `src` to `obj` (with its .su and .ci stack files beside it); a runtime library
    source comes from the object cache when an identical one was compiled before."""
    flags = [*project.cflags, *project.defines_for(src), "-fstack-usage", "-fcallgraph-info=su"]
    runtime = project.folder / "mf_nn"
    key = object_key(CC, flags, headers, src) if src.is_relative_to(runtime / "src") else None
    cached = cache_dir() / "firmware" / key if key else None
    if cached is not None and all(cached.with_suffix(x).exists() for x in OUTPUTS):
        for x in OUTPUTS:
            shutil.copyfile(cached.with_suffix(x), obj.with_suffix(x))
        return None
    cmd = [CC, *flags, *(f"-I{d}" for d in project.include_dirs), "-c", str(src), "-o", str(obj)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=obj.parent)
    if proc.returncode != 0:
        return f"{src.name}:\n{proc.stderr.strip()[:3000]}"
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        for x in OUTPUTS:  # the object last: its presence marks a complete entry
            fd, tmp = tempfile.mkstemp(dir=cached.parent)
            os.close(fd)
            shutil.copyfile(obj.with_suffix(x), tmp)
            os.replace(tmp, cached.with_suffix(x))
    return None


OUTPUTS = (".su", ".ci", ".o")  # what one compile writes; the cache keeps all three


def build_firmware(project: Project, arena_bytes: int, weights_bytes: int, force: bool = False) -> Firmware:
    require_toolchain()
    board = project.board
    obj_dir = project.folder / "build_firmware"
    obj_dir.mkdir(exist_ok=True)
    objs = [obj_dir / f"{i:03d}_{s.stem}.o" for i, s in enumerate(project.sources)]
    headers = headers_digest(project.folder / "mf_nn")
    with ThreadPoolExecutor() as pool:
        compile_one = functools.partial(_compile, project, headers)
        errors = [e for e in pool.map(compile_one, project.sources, objs) if e]
    if errors:
        raise MfError(f"cross-compiling for {board.name} failed: {errors[0]}")
    stack = estimate_stack(obj_dir.glob("*.ci"))
    set_stack_in_cmake(project, stack)
    elf = obj_dir / f"{project.name}_{board.name.replace('-', '_')}.elf"
    board_dir = project.folder / "board"
    cmd = [CC, *board.cflags, *LDFLAGS, f"-Wl,--defsym=__mf_stack_size={stack}", "-Wl,--noinhibit-exec",
           f"-L{board_dir}", "-T", str(board_dir / board.linker_script), *map(str, objs), "-lm",
           "-o", str(elf)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    overflow = _OVERFLOW.findall(proc.stderr)
    if (proc.returncode != 0 and not overflow) or not elf.exists():
        raise MfError(f"linking for {board.name} failed:\n{proc.stderr.strip()[:3000]}")
    fw = measure(elf, board, stack, arena_bytes, weights_bytes, project)
    if not fw.fits and not force:
        raise MfError(budget_message(fw) + "; --force writes the project anyway")
    return fw


def measure(elf: Path, board: Board, stack: int, arena_bytes: int, weights_bytes: int,
            project: Project) -> Firmware:
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    regions = {r.name: RegionUse(r.name, r.origin, r.length, 0) for r in board.regions}
    sections: dict[str, int] = {}
    vectors = 0
    with elf.open("rb") as f:
        e = ELFFile(f)
        loads = [s for s in e.iter_segments() if s["p_type"] == "PT_LOAD"]
        for sec in e.iter_sections():
            size = sec["sh_size"]
            if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or size == 0:
                continue
            sections[sec.name] = size
            vma = sec["sh_addr"]
            _add(regions, board, vma, sec.name, size)
            if sec["sh_type"] != "SHT_NOBITS":
                seg = next((s for s in loads if s["p_vaddr"] <= vma < s["p_vaddr"] + s["p_memsz"]), None)
                lma = seg["p_paddr"] + (vma - seg["p_vaddr"]) if seg else vma
                if board.region_of(lma) != board.region_of(vma):
                    _add(regions, board, lma, f"{sec.name} (initial values)", size)
        symtab = e.get_section_by_name(".symtab")
        for sym in symtab.iter_symbols() if symtab else ():
            if sym.name.startswith("mf_test_input"):
                vectors += sym["st_size"]
    fits = all(u.over == 0 for u in regions.values())
    return Firmware(elf, board, regions, sections, stack, arena_bytes, weights_bytes, vectors, fits)


def _add(regions: dict[str, RegionUse], board: Board, address: int, name: str, size: int) -> None:
    region = board.region_of(address)
    if region is None:  # past the end: charge the region it started from (overflow)
        region = max((r for r in board.regions if r.origin <= address), key=lambda r: r.origin,
                     default=board.regions[0])
    use = regions[region.name]
    use.used += size
    use.parts[name] = use.parts.get(name, 0) + size


def budget_message(fw: Firmware) -> str:
    lines = []
    for u in fw.regions.values():
        if u.over:
            parts = ", ".join(f"{k} {v:,}" for k, v in u.parts.items())
            lines.append(f"{u.name} needs {u.used:,} bytes ({parts}) but has {u.length:,}: "
                         f"over by {u.over:,} bytes")
    detail = f" (arena {fw.arena_bytes:,}, stack estimate {fw.stack_bytes:,}, weights {fw.weights_bytes:,})"
    return f"the firmware does not fit {fw.board.name}: " + "; ".join(lines) + detail
