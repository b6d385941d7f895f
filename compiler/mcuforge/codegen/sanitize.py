"""Text from a model (tensor and op names, doc strings) never reaches generated C as it is.

Names become C identifiers through `c_identifier`; anything shown to a reader (comments, layer
name strings) goes through `c_text`, which keeps only characters that cannot end a comment,
start one, escape, splice lines or form a trigraph.
"""

from __future__ import annotations

import re

C_KEYWORDS = frozenset({
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "_Bool", "_Complex", "_Imaginary", "main",
})

_SAFE_TEXT = re.compile(r"[^A-Za-z0-9 _.:,=+\-\[\]()#]")


def c_identifier(name: str, fallback: str = "model") -> str:
    """A valid, non-reserved C identifier made from `name`."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name.encode("ascii", "replace").decode("ascii"))
    ident = re.sub(r"_+", "_", ident).strip("_") or fallback
    if ident[0].isdigit():
        ident = f"m_{ident}"
    if ident in C_KEYWORDS or ident.startswith("__") or re.match(r"_[A-Z]", ident):
        ident = f"m_{ident}"
    return ident


def c_text(text: str, limit: int = 60) -> str:
    """Model-supplied text made safe inside a C comment or string literal."""
    safe = _SAFE_TEXT.sub("_", text)
    return safe if len(safe) <= limit else safe[: limit - 3] + "..."
