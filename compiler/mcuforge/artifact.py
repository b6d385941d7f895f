"""The compiled artifact: what compilation hands to the firmware build and to the runners.

A plain record with no behaviour, so the stages after code generation (firmware/, the host
build) take it as input without importing the driver that made it (mcuforge.compile).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mcuforge.codegen.program import Program
from mcuforge.ir.graph import Graph
from mcuforge.quantize.accuracy import AccuracyReport


@dataclass
class Compiled:
    name: str  # C identifier prefix of the generated files and symbols
    graph: Graph  # the int8 graph the C code runs (the reference for bit-exactness)
    program: Program  # kernel calls, constants and the memory plan the C was rendered from
    accuracy: AccuracyReport | None  # float vs int8, when the model was quantized here
    report: dict  # report.json's content; firmware adds report["firmware"]
    files: dict[str, Path]  # generated file name -> path
