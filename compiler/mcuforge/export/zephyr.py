"""Zephyr module (Zephyr's "Modules (External projects)" guide): the folder OUT/zephyr is the
module root.

    zephyr/module.yml            name, build (cmake: ".", kconfig: "Kconfig"), samples
    CMakeLists.txt               zephyr_library_named + zephyr_library_sources when CONFIG_MCUFORGE_NAME=y
    Kconfig                      config MCUFORGE_NAME
    src/                         the model, weights, runtime headers, src/mf_nn/ the kernels it calls
    samples/NAME/                a sample application: CMakeLists.txt (adds the module through
                                 ZEPHYR_EXTRA_MODULES), prj.conf, sample.yaml, src/main.c

An application uses it by adding the folder to ZEPHYR_EXTRA_MODULES (or its west manifest) and
CONFIG_MCUFORGE_NAME=y to its prj.conf.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mcuforge.export.bundle import Bundle, library_name, write_template


def kconfig_symbol(name: str) -> str:
    """MCUFORGE_<NAME>: the model's C identifier in upper case (letters, digits, '_')."""
    return f"MCUFORGE_{name.upper()}"


def write_zephyr(bundle: Bundle, out: Path) -> Path:
    """Write the module with `out` as its root; returns `out`."""
    for sub in ("src", "samples", "zephyr"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    kernel_paths = bundle.copy_sources(out / "src")
    ctx = {**bundle.context(), "library": library_name(bundle.name), "config": kconfig_symbol(bundle.name),
           "kernel_paths": kernel_paths, "layers": len(bundle.compiled.program.steps)}
    sample = out / "samples" / bundle.name
    (sample / "src").mkdir(parents=True)
    (out / "zephyr").mkdir()
    files = {
        out / "zephyr" / "module.yml": "module.yml.j2", out / "CMakeLists.txt": "CMakeLists.txt.j2",
        out / "Kconfig": "Kconfig.j2", sample / "CMakeLists.txt": "sample_CMakeLists.txt.j2",
        sample / "prj.conf": "prj.conf.j2", sample / "sample.yaml": "sample.yaml.j2",
        sample / "src" / "main.c": "main.c.j2",
    }
    for path, template in files.items():
        write_template(path, f"zephyr/{template}", ctx)
    write_template(sample / "src" / f"{bundle.name}_test_vector.h", "test_vector.h.j2", ctx)
    return out
