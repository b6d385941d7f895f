"""Model importers: ONNX, TFLite and Keras files (and mcuforge's own .mfir) into the graph IR.

`load_model` picks the importer from the file (suffix, then magic bytes), runs it, and verifies
the graph. Importers raise `MfError` naming the file, node and op at fault.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from mcuforge.errors import MfError
from mcuforge.importers.graph_checks import check_graph
from mcuforge.ir.graph import Graph, Shape
from mcuforge.ir.verify import GraphError, verify

Importer = Callable[[Path, Mapping[str, Shape]], Graph]

FORMATS = {
    ".onnx": "onnx",
    ".tflite": "tflite",
    ".keras": "keras",
    ".h5": "keras",
    ".hdf5": "keras",
    ".mfir": "mfir",
}


def detect_format(path: Path) -> str:
    if path.is_dir():
        if (path / "saved_model.pb").exists() or (path / "saved_model.pbtxt").exists():
            return "keras"
        raise MfError(f"{path}: a directory, but not a SavedModel (no saved_model.pb inside)")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt:
        return fmt
    head = path.read_bytes()[:8]
    if head[4:8] == b"TFL3":
        return "tflite"
    if head.startswith(b"\x89HDF"):
        return "keras"
    raise MfError(
        f"{path}: unknown model format; give a .onnx, .tflite, .keras, .h5 or .mfir file "
        "or a SavedModel directory"
    )


def load_model(path: str | Path, input_shapes: Mapping[str, Shape] | None = None) -> Graph:
    """Import a model file into a verified IR graph. `input_shapes` fixes dynamic dimensions."""
    path = Path(path)
    if not path.exists():
        raise MfError(f"{path}: no such file or directory")
    if path.is_file() and path.stat().st_size == 0:
        raise MfError(f"{path}: the file is empty; expected an ONNX, TFLite or Keras model")
    fmt = detect_format(path)
    importer = _importer(fmt)
    try:
        graph = importer(path, dict(input_shapes or {}))
        graph.source = str(path)
        graph.source_format = fmt
        verify(graph)
        check_graph(graph, str(path))
    except MfError:
        raise
    except GraphError as e:  # the verifier's list of problems, on one line
        problems = "; ".join(line.strip() for line in str(e).splitlines()[1:4])
        raise MfError(f"{path}: the model's graph is inconsistent: {problems}") from None
    except Exception as e:  # the importers check what they can; the rest of a bad file ends here
        raise malformed(path, fmt, e) from e
    return graph


def malformed(path: Path, fmt: str, e: Exception) -> MfError:
    """One line for a file an importer could not make sense of (issue 14: bad input never
    reaches "internal error")."""
    detail = " ".join(str(e).split())[:300]
    return MfError(f"{path}: not a valid {fmt} model ({type(e).__name__}: {detail})")


def _importer(fmt: str) -> Importer:
    # Imported lazily: TensorFlow takes seconds to load and only the Keras path needs it.
    if fmt == "onnx":
        from mcuforge.importers.onnx_import import import_onnx

        return import_onnx
    if fmt == "tflite":
        from mcuforge.importers.tflite_import import import_tflite

        return import_tflite
    if fmt == "mfir":
        from mcuforge.importers.ir_file import import_ir

        return import_ir
    from mcuforge.importers.keras_import import import_keras

    return import_keras
