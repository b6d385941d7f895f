"""Op kinds of the IR. Importing this package imports every module in it, and each op module
registers its ops in `REGISTRY`: adding an op is adding its file, no list to edit."""

import importlib
import pkgutil

from mcuforge.ops.registry import REGISTRY, Ctx, OpDef, lookup

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["REGISTRY", "Ctx", "OpDef", "lookup"]
