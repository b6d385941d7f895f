"""mcuforge: compile trained neural networks to static C for Arm Cortex-M."""

__version__ = "0.1.0"
