"""The op table of the differential fuzzer: every `OpGen` in the `GENS` tuple of each module of
this package, by name. A new module is picked up without editing this file."""

from __future__ import annotations

import importlib
import pkgutil

from mcuforge.fuzz.ops.base import EXTRA_FRONTENDS, FRONTENDS, OpGen, Params, Weights, dialect


def _collect() -> dict[str, OpGen]:
    table: dict[str, OpGen] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "base":
            continue
        for gen in importlib.import_module(f"{__name__}.{info.name}").GENS:
            if gen.name in table:
                raise ValueError(f"fuzz op '{gen.name}' is defined twice")
            table[gen.name] = gen
    return table


OPS: dict[str, OpGen] = _collect()

__all__ = ["EXTRA_FRONTENDS", "FRONTENDS", "OPS", "OpGen", "Params", "Weights", "dialect"]
