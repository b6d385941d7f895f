"""Write a firmware project next to a compiled model: the board's startup, console, counter and
linker script (board/), a harness that runs the model on embedded test vectors (firmware/), and a
CMakeLists.txt with the arm-none-eabi toolchain file that builds the ELF."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcuforge.artifact import Compiled
from mcuforge.codegen.render import environment, io_views
from mcuforge.firmware.boards import Board, boards_dir
from mcuforge.firmware.boot2 import write_boot2_source
from mcuforge.version import __version__

OPT = "-O2"
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-ffunction-sections", "-fdata-sections", "-DNDEBUG"]
LDFLAGS = ["-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections"]


@dataclass
class _Flat:
    """What the template's `rows` filter expects of a constant: ctype and 1-D values."""
    values: np.ndarray
    ctype: str = "int8_t"


@dataclass
class Vectors:
    index: int
    size: int
    array: _Flat


@dataclass
class Project:
    folder: Path
    board: Board
    name: str
    sources: list[Path]  # every .c file of the ELF
    include_dirs: list[Path]
    profile: bool
    samples: int

    @property
    def cflags(self) -> list[str]:
        return [*self.board.cflags, OPT, *CFLAGS]

    def defines_for(self, source: Path) -> list[str]:
        """MF_PROFILE only where the hooks are: the model's .c and the harness."""
        if self.profile and source.name in (f"{self.name}.c", "main.c"):
            return ["-DMF_PROFILE"]
        return []


def qemu_args(board: Board) -> list[str]:
    assert board.qemu_machine
    serial = "none" if board.console == "semihosting" else "stdio"  # a UART console prints to stdout
    return ["-M", board.qemu_machine, "-nographic", "-monitor", "none", "-serial", serial,
            "-semihosting-config", "enable=on,target=native", "-icount", "shift=0,sleep=off"]


def _sample_bytes(x: np.ndarray, dtype: str) -> np.ndarray:
    """The samples of an input as the int8 bytes the test vectors hold (int16: little-endian
    pairs, as the Cortex-M reads them)."""
    if dtype == "int16":
        return np.ascontiguousarray(x, "<i2").view(np.int8).ravel()
    return np.ascontiguousarray(x, np.int8).ravel()


def write_project(compiled: Compiled, board: Board, inputs: dict[str, np.ndarray], out: Path,
                  profile: bool = False, stack_bytes: int = 0) -> Project:
    """`inputs`: int8 (int16) samples per graph input, (N, *IR shape without batch)."""
    g, name = compiled.graph, compiled.name
    n = len(next(iter(inputs.values())))
    board_out, fw_out = out / "board", out / "firmware"
    for d in (board_out, fw_out):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    common = boards_dir() / "common"
    board_sources = board.common_sources()
    headers = sorted(h.name for h in common.glob("*.h"))  # mf_board.h and the drivers' shared parts
    for f in [*board_sources, *headers, "sections.ld"]:
        shutil.copy2(common / f, board_out / f)
    shutil.copy2(board.folder / board.linker_script, board_out / board.linker_script)
    shutil.copy2(board.folder / "board.json", board_out / "board.json")
    shutil.copy2(boards_dir() / "arm-none-eabi.cmake", board_out / "arm-none-eabi.cmake")
    if "boot2" in board.extra_sources:
        write_boot2_source(board, board_out / "boot2_image.c")
        board_sources.append("boot2_image.c")

    vectors = [Vectors(i, g.tensors[nm].nbytes, _Flat(_sample_bytes(inputs[nm], g.tensors[nm].dtype)))
               for i, nm in enumerate(g.inputs)]
    ctx = {
        "name": name, "NAME": name.upper(), "version": __version__, "board": board, "samples": n,
        "layers": len(compiled.program.steps), "vectors": vectors, "profile": profile,
        "inputs": io_views(g, g.inputs, "input", compiled.program.tensor_offsets),
        "outputs": io_views(g, g.outputs, "output", compiled.program.tensor_offsets),
        "board_c": board.name.replace("-", "_"), "board_sources": board_sources,
        "cflags": [*CFLAGS, OPT], "ldflags": [*LDFLAGS, f"-Wl,--defsym=__mf_stack_size={stack_bytes}"],
        "qemu_args": qemu_args(board) if board.qemu_machine else [],
    }
    env = environment()
    for filename in ("main.c", "mf_profile.h", "test_vectors.h", "test_vectors.c"):
        (fw_out / filename).write_text(env.get_template(f"firmware/{filename}.j2").render(**ctx))
    (out / "CMakeLists.txt").write_text(env.get_template("firmware/CMakeLists.txt.j2").render(**ctx))
    sources = [out / f"{name}.c", out / f"{name}_weights.c", *sorted((out / "mf_nn" / "src").rglob("*.c")),
               fw_out / "main.c", fw_out / "test_vectors.c", *[board_out / s for s in board_sources]]
    includes = [out, out / "mf_nn" / "include", fw_out, board_out]
    return Project(out, board, name, sources, includes, profile, n)


def set_stack_in_cmake(project: Project, stack_bytes: int) -> None:
    path = project.folder / "CMakeLists.txt"
    path.write_text(path.read_text().replace("__mf_stack_size=0", f"__mf_stack_size={stack_bytes}"))
