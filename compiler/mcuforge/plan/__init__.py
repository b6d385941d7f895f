"""Static memory planning: every activation and scratch buffer gets a fixed offset in one arena."""

from mcuforge.plan.buffers import Buffer, buffers_for_graph
from mcuforge.plan.planner import MemoryPlan, plan_memory

__all__ = ["Buffer", "MemoryPlan", "buffers_for_graph", "plan_memory"]
