"""pip install . ships every Python subpackage and the data folders."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed_in_pyproject() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(REPO / "compiler").parts)
             for p in (REPO / "compiler").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    for data in ("templates", "runtime_c", "boards"):
        assert config["package-dir"][f"mcuforge._data.{data}"] == data
