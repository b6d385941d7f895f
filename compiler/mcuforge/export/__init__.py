"""Exports of a compiled model into other build systems (`mcuforge compile --export KIND ...`):
each into its own folder OUT/KIND/ beside the generated C.

    cmake       a static library target (add_subdirectory, or install and find_package)
    arduino     an Arduino library folder and its .zip, with an example sketch
    zephyr      a Zephyr module (zephyr/module.yml, CMakeLists.txt, Kconfig) and a sample
    platformio  a PlatformIO library (library.json) with an example project

Every export holds the same sources (`bundle.Bundle`): the model, its weights, the runtime
headers and only the kernel sources the model calls, and one test vector with the integer
reference's output so its example checks itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from mcuforge.artifact import Compiled
from mcuforge.errors import MfError
from mcuforge.export.arduino import write_arduino
from mcuforge.export.bundle import Bundle, make_bundle
from mcuforge.export.cmake import write_cmake
from mcuforge.export.platformio import write_platformio
from mcuforge.export.zephyr import write_zephyr

WRITERS: dict[str, Callable[[Bundle, Path], Path]] = {
    "cmake": write_cmake, "arduino": write_arduino, "zephyr": write_zephyr, "platformio": write_platformio,
}
KINDS = tuple(WRITERS)


def export(compiled: Compiled, kinds: Sequence[str], out: str | Path,
           sample: dict[str, np.ndarray] | None = None) -> dict[str, Path]:
    """Write each export of `kinds` into `out`/KIND/; returns KIND -> the export's root folder
    (arduino: the library folder, with LIB.zip beside it). `sample`: the test vector, one
    quantized sample per graph input in IR layout without batch (default: pseudo-random)."""
    unknown = [k for k in kinds if k not in WRITERS]
    if unknown:
        raise MfError(f"unknown export {', '.join(map(repr, unknown))}; available: {', '.join(KINDS)}")
    bundle = make_bundle(compiled, sample)
    written = {}
    for kind in dict.fromkeys(kinds):
        folder = Path(out) / kind
        folder.mkdir(parents=True, exist_ok=True)
        written[kind] = WRITERS[kind](bundle, folder)
    return written
