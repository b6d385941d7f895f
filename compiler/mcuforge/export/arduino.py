"""Arduino library (the 1.5 library format, rev. 2.2 of the Arduino library specification):

    OUT/arduino/LIB/library.properties     metadata (name, version, author, maintainer, sentence,
                                           paragraph, category, url, architectures, includes)
    OUT/arduino/LIB/src/                   the model, its weights, the runtime headers, and under
                                           src/mf_nn/ the kernel sources the model calls
    OUT/arduino/LIB/examples/NAME/NAME.ino runs the model on an embedded test vector, prints the
                                           output, the check against the reference, micros()
    OUT/arduino/LIB.zip                    the same folder zipped, top folder LIB ("Add .ZIP Library")

LIB is mcuforge_NAME. The IDE compiles every .c under src/ recursively with src/ on the include
path, which is where the headers are; the kernels pick their DSP/MVE paths from the core's
compiler macros.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from mcuforge.export.bundle import Bundle, library_name, write_template


def write_arduino(bundle: Bundle, out: Path) -> Path:
    """Write the library into `out`/LIB and `out`/LIB.zip; returns the library folder."""
    lib = library_name(bundle.name)
    root = out / lib
    if root.exists():
        shutil.rmtree(root)
    bundle.copy_sources(root / "src")
    ctx = {**bundle.context(), "library": lib, "layers": len(bundle.compiled.program.steps)}
    write_template(root / "library.properties", "arduino/library.properties.j2", ctx)
    example = root / "examples" / bundle.name
    example.mkdir(parents=True)
    write_template(example / f"{bundle.name}.ino", "arduino/sketch.ino.j2", ctx)
    write_template(example / f"{bundle.name}_test_vector.h", "test_vector.h.j2", ctx)
    write_zip(root, out / f"{lib}.zip")
    return root


def write_zip(folder: Path, path: Path) -> None:
    """Zip `folder` with itself as the single top-level entry, directories included, in a fixed
    order (the same library gives the same archive bytes apart from file times)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p in [folder, *sorted(folder.rglob("*"))]:
            arc = p.relative_to(folder.parent).as_posix()
            z.write(p, arc + "/" if p.is_dir() else arc)
