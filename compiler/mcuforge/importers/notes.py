"""One-line notes importers print on stderr: things they decided for the user that are not errors."""

from __future__ import annotations

import sys
from pathlib import Path


def note(message: str) -> None:
    print(f"mcuforge: note: {message}", file=sys.stderr)


def note_free_batch(path: Path | str, name: str, dim: str) -> None:
    """A free batch dimension (ONNX `dim_param`/unset, Keras `None`, TFLite -1) is taken as 1."""
    note(f"{path}: input '{name}' has a free batch dimension ('{dim}'); compiling for batch 1 "
         "(--input-shape fixes it otherwise)")
