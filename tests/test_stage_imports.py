"""Stages only look forward: import -> IR -> passes -> quantize -> plan -> codegen -> firmware build
-> run/verify, with a small driver layer as the only place that wires stages together.

Every module of the package belongs to one stage (STAGES, by longest module-name prefix). A module
may import its own stage and the stages its row allows (MAY_IMPORT), never a later one. Imports
inside functions count as much as those at module level. Pure Python (an `ast` walk), no import
of the package's modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "compiler" / "mcuforge"

# Stage, in order, and the modules (name prefixes below mcuforge.) that make it up.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("core", ("errors", "resources", "version")),
    ("ir", ("ir",)),  # graph data types, the verifier, IO layouts
    ("ops", ("ops", "reference")),  # op registry and traits, float and integer references
    ("import", ("importers",)),
    ("passes", ("passes",)),
    ("quantize", ("quantize",)),
    ("weights", ("compress.__init__", "compress.encode", "compress.sparse", "compress.entropy",
                 "compress.kmeans")),  # data-free weight storage after quantization
    ("plan", ("plan",)),
    ("codegen", ("codegen", "kernels", "kernel_params", "runtime_buffers", "kernel_params_reduce",
                 "kernel_params_s16",  # int16: kernel_params_s16
                 "kernel_params_real")),  # real models: kernel_params_real
    ("artifact", ("artifact",)),  # the compiled artifact: a plain record
    ("firmware", ("firmware", "build")),  # firmware and host builds, QEMU runs
    ("export", ("export",)),  # --export: Arduino / Zephyr / PlatformIO / CMake library folders
    ("driver", ("compile", "runner", "bench", "demo", "summary", "report", "report_html", "validate",
                "op_support")),
    ("training", ("compress",)),  # compress's Keras tools, its pipeline and CLI
    ("testing", ("fuzz",)),  # mcuforge fuzz: generates models and drives the whole job on them
    ("entry", ("cli", "__main__", "api", "__init__")),  # the package's front door: its API, lazily
]
ORDER = [name for name, _ in STAGES]
BASE = {"core", "ir", "ops"}  # what every pipeline stage may use
# Besides its own stage, a stage may import these (all earlier in ORDER).
MAY_IMPORT: dict[str, set[str]] = {
    "core": set(),
    "ir": {"core"},
    "ops": {"core", "ir"},
    "import": BASE,
    # quantize() brings the float graph as imported to the canonical form the quantizer's rules
    # assume (BN folded, activations fused) with the (idempotent) float passes.
    "passes": BASE,
    "quantize": BASE | {"passes"},
    "weights": BASE | {"quantize"},  # re-quantizes biases with the quantization scheme
    "plan": BASE,
    "codegen": BASE | {"plan"},
    "artifact": BASE | {"quantize", "codegen"},
    "firmware": BASE | {"codegen", "artifact"},
    "export": BASE | {"codegen", "artifact"},
    "driver": set(ORDER[:ORDER.index("driver")]),
    "training": set(ORDER[:ORDER.index("training")]),
    "testing": set(ORDER[:ORDER.index("testing")]),
    "entry": set(ORDER[:ORDER.index("entry")]),
}


def stage_of(module: str) -> str | None:
    """The stage of `module` (dotted, below mcuforge.), by its longest matching prefix."""
    best, best_len = None, -1
    for name, prefixes in STAGES:
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best_len:
                best, best_len = name, len(p)
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = [*parts[:-1], "__init__"]
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module below mcuforge.) for every import of the package in `path`, at any depth;
    `from mcuforge.x import y` yields x.y when y is a module, else x."""
    mod = module_name(path)
    package = mod.split(".")[:-1]  # the package a relative import starts from
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                target = ".".join(["mcuforge", *base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            modules = [(node.lineno, f"{target}.{a.name}") for a in node.names
                       if _is_module(f"{target}.{a.name}")]
            if len(modules) < len(node.names) or target != "mcuforge":  # `from mcuforge import x`: x alone
                found.append((node.lineno, target))
            found += modules
    return [(line, _below_package(t)) for line, t in found if t == "mcuforge" or t.startswith("mcuforge.")]


def _below_package(dotted: str) -> str:
    """mcuforge.x.y -> x.y; a package names its __init__ module (mcuforge.compress -> compress.__init__)."""
    rel = dotted.split(".")[1:]
    return ".".join([*rel, "__init__"]) if (PACKAGE / Path(*rel) / "__init__.py").is_file() else ".".join(rel)


def _is_module(dotted: str) -> bool:
    rel = Path(*dotted.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def stage_table() -> str:
    rows = []
    for name, prefixes in STAGES:
        allowed = ", ".join(sorted(MAY_IMPORT[name], key=ORDER.index)) or "-"
        rows.append(f"  {name:9} {', '.join(prefixes)}  (may import: {allowed})")
    return "stages, in order:\n" + "\n".join(rows)


def test_every_module_has_a_stage() -> None:
    missing = [module_name(p) for p in sorted(PACKAGE.rglob("*.py")) if stage_of(module_name(p)) is None]
    assert not missing, f"modules in no stage (add them to STAGES): {missing}\n{stage_table()}"


def test_may_import_only_looks_back() -> None:
    for name, allowed in MAY_IMPORT.items():
        assert all(ORDER.index(a) < ORDER.index(name) for a in allowed), name


def test_no_import_runs_backwards() -> None:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        src = module_name(path)
        s = stage_of(src)
        assert s is not None
        for line, target in imports_of(path):
            t = stage_of(target)
            if t is None or t == s or t in MAY_IMPORT[s]:
                continue
            way = "backward" if ORDER.index(t) > ORDER.index(s) else "across stages"
            bad.append(f"{path.relative_to(PACKAGE)}:{line}: {src} ({s}) imports {target} ({t}): {way}")
    assert not bad, "imports that break the stage order:\n  " + "\n  ".join(bad) + "\n" + stage_table()


def test_the_walk_sees_imports_inside_functions() -> None:
    # compile.py imports the weight encoders and the firmware only inside functions.
    found = {t for _, t in imports_of(PACKAGE / "compile.py")}
    assert {"compress.encode", "compress.sparse", "firmware.__init__"} <= found
    assert stage_of("firmware.run") == "firmware" and stage_of("compress.prune") == "training"
    assert stage_of("compress.encode") == "weights" and stage_of("compile") == "driver"
