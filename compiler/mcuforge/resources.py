"""Where the data folders shipped with mcuforge live: at the top of a source checkout (the package
is compiler/mcuforge/), inside the package (as mcuforge/_data/) in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """`templates`, `runtime_c` or `boards`."""
    for candidate in (_HERE.parents[1] / name, _HERE / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"mcuforge data folder '{name}' is missing from the installation")
