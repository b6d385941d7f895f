"""Render a lowered program into a standalone C folder from the Jinja templates."""

from __future__ import annotations

import functools
import shutil
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np

from mcuforge.codegen.program import ConstArray, Program
from mcuforge.codegen.sanitize import c_text
from mcuforge.ir.graph import Graph
from mcuforge.kernel_params import dims4
from mcuforge.kernels import render_call
from mcuforge.resources import resource_dir
from mcuforge.version import __version__

ROW = 16  # values per line in weight arrays


@dataclass
class IOView:
    kind: str  # "input" / "output"
    index: int
    label: str
    shape: tuple[int, ...]
    source_shape: tuple[int, ...] | None
    size: int  # bytes
    scale: str
    zero_point: int
    offset: int
    buffer_offset: int  # where it sits in main.c's concatenated input/output buffer
    dims4: tuple[int, int, int, int]
    strides: list[int]  # model-layout strides of each NHWC axis
    count: int = 0  # elements
    ctype: str = "int8_t"  # int16_t (16x8 mode); int32_t / int64_t for index outputs (ARG_MAX), not quantized

    @property
    def ptype(self) -> str:
        """The element type of the API's pointers: int16_t for int16 tensors, else bytes."""
        return "int16_t" if self.ctype == "int16_t" else "int8_t"

    @property
    def quantized(self) -> bool:
        return self.ctype in ("int8_t", "int16_t")

    @property
    def qrange(self) -> tuple[int, int]:
        return (-32768, 32767) if self.ctype == "int16_t" else (-128, 127)

    @property
    def at(self) -> str:
        """C expression of the tensor's place in the arena, as a pointer to ptype."""
        return self.cast(f"arena + {self.offset}")

    def cast(self, text: str, const: bool = False) -> str:
        """A byte pointer expression as a pointer to ptype (the API's argument type)."""
        if self.ptype == "int8_t":
            return text
        c = "const " if const else ""
        return f"({c}int16_t *)({c}void *)({text})"

    @property
    def KIND(self) -> str:
        return self.kind.upper()


def _c_float(x: float) -> str:
    return f"{np.float32(x):.9e}"


def _c_int(v: int, ctype: str) -> str:
    # The most negative int32 has no literal in C: 2147483648 does not fit an int.
    return "(-2147483647 - 1)" if ctype == "int32_t" and v == -(2**31) else str(v)


def const_rows(c: ConstArray) -> list[str]:
    vals = [_c_int(int(v), c.ctype) for v in c.values.tolist()]
    return [", ".join(vals[i:i + ROW]) for i in range(0, len(vals), ROW)]


def io_views(graph: Graph, names: list[str], kind: str, offsets: dict[str, int]) -> list[IOView]:
    views = []
    buffer_offset = 0
    for i, name in enumerate(names):
        t = graph.tensors[name]
        scale, zp = t.scalar_quant() if t.quant is not None else (1.0, 0)
        layout = graph.io_layouts.get(name)
        ir_shape = dims4(t.shape)
        if layout is None:
            strides = list(np.cumprod((*ir_shape[1:], 1)[::-1])[::-1].astype(int))
        else:
            # IR axis k holds source axis perm[k]; pad both to rank 4 on the left.
            src = layout.source_shape
            src_strides = np.cumprod((*src[1:], 1)[::-1])[::-1]
            pad = 4 - len(t.shape)
            strides = [0] * pad + [int(src_strides[p]) for p in layout.perm]
        views.append(IOView(
            kind=kind, index=i, label=c_text(name), shape=t.shape,
            source_shape=tuple(layout.source_shape) if layout else None, size=t.nbytes,
            scale=_c_float(scale), zero_point=zp, offset=offsets[name], buffer_offset=buffer_offset,
            dims4=ir_shape, strides=[int(s) for s in strides], count=t.size,
            ctype={"int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "int64": "int64_t"}[t.dtype],
        ))
        buffer_offset += t.nbytes
    return views


@functools.cache
def environment() -> jinja2.Environment:
    """The templates' environment, made once per process (its compiled templates are cached)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False,
    )
    env.filters["rows"] = const_rows
    env.globals["render_call"] = render_call
    return env


def render(graph: Graph, program: Program, name: str, out_dir: Path, source: str) -> dict[str, Path]:
    """Write <name>.h/.c, <name>_weights.h/.c, main.c, CMakeLists.txt and mf_nn/ to out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = {
        "name": name, "NAME": name.upper(), "version": __version__, "source": c_text(Path(source).name, 200),
        "steps": program.steps, "consts": program.consts, "alignment": program.plan.alignment,
        "arena_bytes": program.plan.arena_bytes, "lower_bound": program.plan.lower_bound_bytes,
        "macs": sum(s.macs for s in program.steps),
        "const_bytes": sum(c.nbytes for c in program.consts),
        "inputs": io_views(graph, graph.inputs, "input", program.tensor_offsets),
        "outputs": io_views(graph, graph.outputs, "output", program.tensor_offsets),
        "state": program.state, "state_bytes": program.state_bytes,  # stateful area
    }
    env = environment()
    files = {
        f"{name}.h": "model.h.j2", f"{name}.c": "model.c.j2", f"{name}_weights.h": "weights.h.j2",
        f"{name}_weights.c": "weights.c.j2", "main.c": "main.c.j2", "CMakeLists.txt": "CMakeLists.txt.j2",
    }
    written = {}
    for filename, template in files.items():
        path = out_dir / filename
        path.write_text(env.get_template(template).render(**ctx))
        written[filename] = path
    _copy_runtime(out_dir / "mf_nn")
    return written


def _copy_runtime(dst: Path) -> None:
    src = resource_dir("runtime_c")
    if dst.exists():
        shutil.rmtree(dst)
    for sub in ("include", "src"):
        shutil.copytree(src / sub, dst / sub)
