"""The numpy reference interpreter: the golden model for everything the compiler emits."""

from mcuforge.reference.interpreter import State, is_stateful, new_state, run, run_batch

__all__ = ["State", "is_stateful", "new_state", "run", "run_batch"]
