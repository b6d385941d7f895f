"""C code generation: lower an int8 graph to kernel calls (`program`), render it (`render`)."""

from mcuforge.codegen.program import Program, lower
from mcuforge.codegen.render import render
from mcuforge.codegen.sanitize import c_identifier, c_text

__all__ = ["Program", "c_identifier", "c_text", "lower", "render"]
