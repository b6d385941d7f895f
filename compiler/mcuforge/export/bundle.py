"""What every export carries: the compiled model's C (model, weights), the runtime headers, the
kernel sources the model calls (and those they call in turn), one test vector with the integer
reference's output for it, and the names and figures the export templates need.

Kernel selection follows the runtime's rule of one public function per source file
(runtime_c/src/<category>/<function>.c, see README "Adding an op"): a source is needed when its
public function's name appears in the model's C or in a needed source. DSP and MVE paths stay
in the same files, chosen by the compiler's predefined macros (runtime_c/include/mf_internal.h),
so the selection does not depend on the target.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from mcuforge.artifact import Compiled
from mcuforge.codegen.render import IOView, environment, io_views
from mcuforge.codegen.sanitize import c_identifier
from mcuforge.reference.interpreter import new_state, run
from mcuforge.resources import resource_dir
from mcuforge.version import __version__

_IDENT = re.compile(r"\bmf_\w+")
# A function definition's first line: a return type at column 0 (not static), the name, "(".
_DEFINITION = re.compile(r"^(?!static\b)[A-Za-z_][\w \t*]*?\b(mf_\w+)\s*\(", re.MULTILINE)
# A file that defines its function through a shared body (runtime_c/include/mf_*_body.h) names it
# in a macro: `#define MF_SM_NAME mf_softmax_s8`.
_NAMED = re.compile(r"^#define\s+MF_\w*NAME\s+(mf_\w+)", re.MULTILINE)
_INCLUDE = re.compile(r'^#include\s+"(mf_\w+\.h)"', re.MULTILINE)
_DECLARATIONS = {"mf_nn.h", "mf_internal.h"}  # prototypes of everything: not followed
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)


@dataclass
class Vector:
    """One sample's bytes for the test-vector header: int8 values (int16 and wider tensors as
    their little-endian bytes, as a Cortex-M reads them)."""
    index: int
    values: np.ndarray
    ctype: str = "int8_t"


@dataclass
class Bundle:
    compiled: Compiled
    name: str  # C identifier of the model (the generated files' prefix)
    inputs: list[IOView]
    outputs: list[IOView]
    input_vectors: list[Vector]
    expected: Vector  # every output's reference bytes, concatenated in output order
    kernels: list[Path]  # runtime sources the model needs, absolute, under runtime_c/src
    headers: list[Path] = field(default_factory=list)  # runtime_c/include/*.h

    @property
    def output_bytes(self) -> int:
        return int(self.expected.values.size)

    @property
    def model_files(self) -> list[Path]:
        """The generated model's .c/.h files (model and weights)."""
        f = self.compiled.files
        return [f[f"{self.name}.h"], f[f"{self.name}.c"], f[f"{self.name}_weights.h"],
                f[f"{self.name}_weights.c"]]

    def kernel_relpaths(self) -> list[str]:
        """Kernel sources as category/file.c (their place under runtime_c/src)."""
        src = resource_dir("runtime_c") / "src"
        return [p.relative_to(src).as_posix() for p in self.kernels]

    def context(self) -> dict:
        """What every export template gets."""
        return {
            "name": self.name, "NAME": self.name.upper(), "version": __version__,
            "inputs": self.inputs, "outputs": self.outputs, "vectors": self.input_vectors,
            "expected": self.expected, "output_bytes": self.output_bytes,
            "arena_bytes": self.compiled.report["arena_bytes"],
            "weights_bytes": self.compiled.report["weights_bytes"], "macs": self.compiled.report["macs"],
            "kernels": self.kernel_relpaths(), "headers": [h.name for h in self.headers],
        }

    def copy_sources(self, dst: Path, kernels_under: str = "mf_nn") -> list[str]:
        """Model files, runtime headers (all in `dst`) and kernel sources (`dst`/kernels_under/
        category/) into `dst`; returns the kernel paths relative to `dst`."""
        dst.mkdir(parents=True, exist_ok=True)
        for f in [*self.model_files, *self.headers]:
            shutil.copy2(f, dst / f.name)
        rel = []
        for r, p in zip(self.kernel_relpaths(), self.kernels):
            target = dst / kernels_under / r
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, target)
            rel.append(f"{kernels_under}/{r}")
        return rel


@cache
def _definitions() -> dict[str, Path]:
    """Public runtime function -> the source file that defines it."""
    index: dict[str, Path] = {}
    for path in sorted((resource_dir("runtime_c") / "src").rglob("*.c")):
        text = path.read_text()
        for name in _DEFINITION.findall(text) + _NAMED.findall(text):
            index.setdefault(name, path)
    return index


def _with_bodies(path: Path) -> str:
    """A source's code, comments removed, with the shared bodies it includes (not the
    declaration headers)."""
    include = resource_dir("runtime_c") / "include"
    text = path.read_text()
    for header in _INCLUDE.findall(text):
        if header not in _DECLARATIONS and (include / header).exists():
            text += (include / header).read_text()
    return _COMMENT.sub(" ", text)


def needed_kernels(model_c: str) -> list[Path]:
    """Runtime sources whose functions the model's C calls, with everything they call in turn."""
    index = _definitions()
    needed: set[Path] = set()
    todo = [model_c]
    while todo:
        for ident in set(_IDENT.findall(todo.pop())):
            path = index.get(ident)
            if path is not None and path not in needed:
                needed.add(path)
                todo.append(_with_bodies(path))
    return sorted(needed)


def _reference_bytes(compiled: Compiled, sample: dict[str, np.ndarray]) -> np.ndarray:
    g = compiled.graph
    out = run(g, {n: sample[n][None] for n in g.inputs}, state=new_state(g))
    parts = [np.ascontiguousarray(np.asarray(out[o]).astype(np.dtype(g.tensors[o].dtype).newbyteorder("<")))
             .view(np.int8).ravel() for o in g.outputs]
    return np.concatenate(parts)


def default_sample(compiled: Compiled, seed: int = 0) -> dict[str, np.ndarray]:
    """One deterministic pseudo-random sample per input (int8, or int16 in 16x8 mode), IR shape
    without batch: what the example programs run when the user gives no input."""
    g = compiled.graph
    rng = np.random.default_rng(seed)
    out = {}
    for nm in g.inputs:
        info = np.iinfo(np.int16 if g.tensors[nm].dtype == "int16" else np.int8)
        out[nm] = rng.integers(info.min, info.max + 1, g.tensors[nm].shape[1:], dtype=info.dtype)
    return out


def make_bundle(compiled: Compiled, sample: dict[str, np.ndarray] | None = None) -> Bundle:
    """`sample`: one quantized sample per graph input, IR layout without the batch axis."""
    g = compiled.graph
    sample = sample or default_sample(compiled)
    offsets = compiled.program.tensor_offsets
    vectors = [Vector(i, np.ascontiguousarray(sample[nm], np.dtype(g.tensors[nm].dtype).newbyteorder("<"))
                      .view(np.int8).ravel()) for i, nm in enumerate(g.inputs)]
    model_c = compiled.files[f"{compiled.name}.c"].read_text()
    headers = sorted((resource_dir("runtime_c") / "include").glob("*.h"))
    return Bundle(compiled, compiled.name, io_views(g, g.inputs, "input", offsets),
                  io_views(g, g.outputs, "output", offsets), vectors,
                  Vector(0, _reference_bytes(compiled, sample)), needed_kernels(model_c), headers)


def library_name(name: str) -> str:
    """The library name of a model's exports: mcuforge_<C name>; letters, digits and '_' only,
    so it is valid as an Arduino library name, a folder name and a CMake target."""
    return f"mcuforge_{c_identifier(name)}"


def write_template(path: Path, template: str, ctx: dict) -> None:
    """Render templates/export/`template` with `ctx` into `path`."""
    path.write_text(environment().get_template(f"export/{template}").render(**ctx))
