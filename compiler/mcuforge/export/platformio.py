"""PlatformIO library (PlatformIO's library.json manifest): the folder OUT/platformio is the
library root.

    library.json                   name, version, description, keywords, authors, license,
                                   frameworks, platforms, headers, build (srcDir, includeDir,
                                   flags), examples
    src/                           the model, weights, runtime headers, src/mf_nn/ the kernels it calls
    examples/NAME/platformio.ini   an Arduino-framework project using the library (lib_deps =
    examples/NAME/src/main.cpp     symlink://../..) that runs the embedded test vector

The library itself needs no framework: any PlatformIO project can list it in lib_deps.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mcuforge.export.bundle import Bundle, library_name, write_template


def write_platformio(bundle: Bundle, out: Path) -> Path:
    """Write the library with `out` as its root; returns `out`."""
    for sub in ("src", "examples"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    bundle.copy_sources(out / "src")
    ctx = {**bundle.context(), "library": library_name(bundle.name)}
    example = out / "examples" / bundle.name
    (example / "src").mkdir(parents=True)
    write_template(out / "library.json", "platformio/library.json.j2", ctx)
    write_template(example / "platformio.ini", "platformio/platformio.ini.j2", ctx)
    write_template(example / "src" / "main.cpp", "arduino/sketch.ino.j2", ctx)  # the sketch, as C++
    write_template(example / "src" / f"{bundle.name}_test_vector.h", "test_vector.h.j2", ctx)
    return out
