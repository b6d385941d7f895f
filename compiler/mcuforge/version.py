"""The package's version (one place: pyproject.toml reads it, the generated files name it)."""

__version__ = "0.1.0"
