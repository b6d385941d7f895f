"""Coverage-guided fuzzing of the TFLite and ONNX loading paths with atheris (issue 14).

    python tests/fuzz_loaders.py tflite|onnx SEED_DIR [libFuzzer flags, e.g. -max_total_time=60]

The target imports the bytes as a model without `load_model`'s last-resort net (which turns any
exception into a one-line error): the importers, the graph verifier and the graph checks must
refuse bad input with `MfError` themselves. Any other exception is a finding: atheris prints it
and writes the input to $MCUFORGE_FUZZ_FINDINGS/<format>_finding_<hash>.<format>. tests/test_fuzz_loaders.py
runs both formats for a fixed budget from the corpus of tests/corpus/make_corpus.py.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import traceback
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["mcuforge"]):
    from mcuforge.errors import MfError
    from mcuforge.importers.graph_checks import check_graph
    from mcuforge.importers.onnx_import import import_onnx
    from mcuforge.importers.tflite_import import import_tflite_bytes
    from mcuforge.ir.verify import GraphError, verify

FORMAT = sys.argv[1] if len(sys.argv) > 1 else "tflite"
FINDINGS = os.environ.get("MCUFORGE_FUZZ_FINDINGS", "")
SCRATCH = Path(tempfile.mkdtemp(prefix="mcuforge-atheris-")) / "m.onnx"


def load(data: bytes) -> None:
    if FORMAT == "tflite":
        graph = import_tflite_bytes(data, {}, "<fuzz>")
    else:
        SCRATCH.write_bytes(data)
        graph = import_onnx(SCRATCH, {})
    verify(graph)
    check_graph(graph, "<fuzz>")


def target(data: bytes) -> None:
    try:
        load(data)
    except (MfError, GraphError):  # load_model reports a GraphError as one MfError line
        pass
    except Exception as e:
        trace = "".join(traceback.format_exception(e)[-6:])
        if FINDINGS:  # keep the input: it becomes a corpus entry once fixed
            name = hashlib.sha1(data).hexdigest()[:12]
            (Path(FINDINGS) / f"{FORMAT}_finding_{name}.{FORMAT}").write_bytes(data)
        raise AssertionError(f"{FORMAT} loader raised {type(e).__name__}: {e}\n{trace}") from e


if __name__ == "__main__":
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()
