"""The numpy reference interpreter: the golden model for everything the compiler emits."""

from mcuforge.reference.interpreter import run, run_batch

__all__ = ["run", "run_batch"]
