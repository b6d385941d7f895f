"""mcuforge: compile trained neural networks to static C for Arm Cortex-M.

The Python API (mcuforge.api) is here: `mcuforge.load`, `quantize`, `compile`, `run`, `validate`,
`bench`, and `MfError`, the one exception raised for input mcuforge cannot take. They are imported
on first use, so `import mcuforge` stays cheap and the command line starts quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcuforge.errors import MfError
from mcuforge.version import __version__

if TYPE_CHECKING:
    from mcuforge.api import bench, compile, load, quantize, run, validate

__all__ = ["MfError", "__version__", "bench", "compile", "load", "quantize", "run", "validate"]
API = frozenset(__all__[2:])


def __getattr__(name: str) -> Any:
    if name in API:
        from mcuforge import api

        return getattr(api, name)
    raise AttributeError(f"module 'mcuforge' has no attribute '{name}'")
