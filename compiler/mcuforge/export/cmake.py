"""CMake static library: the folder OUT/cmake.

    CMakeLists.txt     add_library(mcuforge_NAME STATIC ...) (alias mcuforge::mcuforge_NAME), its
                       include directory, install(TARGETS ...) with NAME.h and a CMake package
                       config (find_package(mcuforge_NAME CONFIG)); built alone, an example too
    src/               the model, weights, runtime headers, src/mf_nn/ the kernels it calls
    examples/main.c    runs the embedded test vector and compares with the reference

Another project adds it with add_subdirectory(OUT/cmake) and links mcuforge_NAME. The folder
compile writes (OUT itself, with main.c and every kernel) stays as it was.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mcuforge.export.bundle import Bundle, library_name, write_template


def write_cmake(bundle: Bundle, out: Path) -> Path:
    """Write the library project into `out`; returns `out`."""
    for sub in ("src", "examples"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    kernel_paths = bundle.copy_sources(out / "src")
    ctx = {**bundle.context(), "library": library_name(bundle.name), "kernel_paths": kernel_paths}
    (out / "examples").mkdir()
    write_template(out / "CMakeLists.txt", "cmake/CMakeLists.txt.j2", ctx)
    write_template(out / "examples" / "main.c", "cmake/main.c.j2", ctx)
    write_template(out / "examples" / f"{bundle.name}_test_vector.h", "test_vector.h.j2", ctx)
    return out
