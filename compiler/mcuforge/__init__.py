"""mcuforge: compile trained neural networks to static C for Arm Cortex-M.

The Python API (mcuforge.api) is here: `mcuforge.load`, `quantize`, `compile`, `run`, `validate`,
`bench`, and `MfError`, the one exception raised for input mcuforge cannot take. They are imported
on first use, so `import mcuforge` stays cheap and the command line starts quickly.

Three of those names are also modules of the package (mcuforge.compile, mcuforge.quantize,
mcuforge.bench), and importing a submodule binds it on its package. The package's module class
keeps the API's functions under those names instead (Python's documented way to customize a
module's attributes: assigning a ModuleType subclass to its __class__); `from mcuforge.compile
import ...` still reads the module, which `import` finds in sys.modules.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from mcuforge.errors import MfError
from mcuforge.version import __version__

if TYPE_CHECKING:
    from mcuforge.api import bench, compile, load, quantize, run, validate

__all__ = ["MfError", "__version__", "bench", "compile", "load", "quantize", "run", "validate"]
API = frozenset(__all__[2:])


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name in API and isinstance(value, types.ModuleType):
            return  # a submodule of the same name: the API function stays
        super().__setattr__(name, value)


def __getattr__(name: str) -> Any:
    if name in API:
        from mcuforge import api

        return getattr(api, name)
    raise AttributeError(f"module 'mcuforge' has no attribute '{name}'")


sys.modules[__name__].__class__ = _Package
