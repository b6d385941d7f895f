"""Board descriptions: boards/<name>/board.json, its linker script, and the shared startup,
console and counter sources under boards/common/."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mcuforge.errors import MfError
from mcuforge.resources import resource_dir

HOST = "host"


@dataclass(frozen=True)
class Region:
    name: str
    origin: int
    length: int
    what: str

    def contains(self, address: int) -> bool:
        return self.origin <= address < self.origin + self.length


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    cpu: str
    arch: str
    features: dict
    cflags: tuple[str, ...]
    regions: tuple[Region, ...]
    cpu_hz: int
    qemu_machine: str | None
    console: str
    exit: str
    counter: str
    linker_script: str
    extra_sources: tuple[str, ...]
    flash_tool: dict | None
    folder: Path

    @property
    def ram(self) -> Region:
        return self.region("RAM")

    @property
    def flash(self) -> Region:
        return self.region("FLASH")

    def region(self, name: str) -> Region:
        return next(r for r in self.regions if r.name == name)

    def region_of(self, address: int) -> Region | None:
        return next((r for r in self.regions if r.contains(address)), None)

    @property
    def ns_per_tick(self) -> float:
        """Under QEMU -icount shift=0 one instruction takes 1 ns: instructions per counter tick."""
        return 1e9 / self.cpu_hz

    def common_sources(self) -> list[str]:
        """Files of boards/common/ this board's firmware compiles."""
        return ["mf_startup.c", "mf_print.c", f"mf_console_{self.console}.c",
                f"mf_counter_{self.counter}.c", f"mf_exit_{self.exit}.c"]


def boards_dir() -> Path:
    return resource_dir("boards")


def list_boards() -> list[str]:
    return sorted(p.parent.name for p in boards_dir().glob("*/board.json"))


def load_board(name: str) -> Board:
    path = boards_dir() / name / "board.json"
    if not path.exists():
        raise MfError(f"unknown board '{name}'; available: {HOST}, {', '.join(list_boards())}")
    d = json.loads(path.read_text())
    regions = tuple(Region(k, int(v["origin"], 16), int(v["length"]), v["what"])
                    for k, v in d["memory"].items())
    return Board(
        name=d["name"], description=d["description"], cpu=d["cpu"], arch=d["arch"],
        features=d["features"], cflags=tuple(d["cflags"]), regions=regions, cpu_hz=int(d["cpu_hz"]),
        qemu_machine=(d.get("qemu") or {}).get("machine"), console=d["console"], exit=d["exit"],
        counter=d["counter"],
        linker_script=d["linker_script"], extra_sources=tuple(d.get("extra_sources", [])),
        flash_tool=d.get("flash_tool"), folder=path.parent,
    )
