"""Build a generated C folder for the host and run it on samples.

The runtime library's objects are cached across builds (`MCUFORGE_CACHE`, default
`$XDG_CACHE_HOME/mcuforge` or `~/.cache/mcuforge`), keyed by the compiler, the flags, the source
and every runtime header, so a model build compiles only its own three files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mcuforge.errors import MfError

WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
SANITIZERS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


def host_compiler() -> str:
    cc = os.environ.get("CC", "gcc")
    if shutil.which(cc) is None:
        raise MfError(f"C compiler '{cc}' not found; install gcc (apt-get install gcc) or set CC")
    return cc


def build_host(folder: Path, name: str, sanitize: bool = False, opt: str = "-O2") -> Path:
    """Compile the folder's example program (model + weights + runtime + main.c)."""
    exe = folder / (f"{name}_example_san" if sanitize else f"{name}_example")
    sources = [folder / f"{name}.c", folder / f"{name}_weights.c", folder / "main.c"]
    flags = [*WARNINGS, opt, *(SANITIZERS if sanitize else [])]
    cc = host_compiler()
    runtime = runtime_objects(cc, flags, folder / "mf_nn")
    cmd = [cc, *flags, f"-I{folder}", f"-I{folder / 'mf_nn' / 'include'}",
           *map(str, sources), *map(str, runtime), "-lm", "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise MfError(f"building {folder} failed:\n{proc.stderr.strip()[:4000]}")
    return exe


def cache_dir() -> Path:
    """Where compiled runtime objects are kept between builds."""
    env = os.environ.get("MCUFORGE_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mcuforge"


def runtime_objects(cc: str, flags: list[str], runtime: Path) -> list[Path]:
    """Object files of the runtime library at `runtime` (include/, src/), compiled with `flags`,
    from the cache where an identical source was compiled before. Raises MfError on a compile error."""
    headers = headers_digest(runtime)
    sources = sorted((runtime / "src").rglob("*.c"))
    store = cache_dir() / "objects"
    store.mkdir(parents=True, exist_ok=True)
    objs = [store / f"{object_key(cc, flags, headers, src)}.o" for src in sources]
    missing = [(s, o) for s, o in zip(sources, objs) if not o.exists()]
    include = [f"-I{runtime / 'include'}", f"-I{runtime / 'src'}"]

    def build(pair: tuple[Path, Path]) -> str | None:
        src, obj = pair
        fd, tmp = tempfile.mkstemp(suffix=".o", dir=store)
        os.close(fd)
        cmd = [cc, *flags, *include, "-c", str(src), "-o", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            os.unlink(tmp)
            return f"{src.name}:\n{proc.stderr.strip()[:4000]}"
        os.replace(tmp, obj)  # atomic: parallel builds may race to the same object
        return None

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        errors = [e for e in pool.map(build, missing) if e]
    if errors:
        raise MfError(f"building the runtime library in {runtime} failed: {errors[0]}")
    return objs


def headers_digest(runtime: Path) -> str:
    """A digest of every header of the runtime library at `runtime` (a cache key part)."""
    h = hashlib.sha256()
    for header in sorted(runtime.rglob("*.h")):
        h.update(header.relative_to(runtime).as_posix().encode() + b"\0" + header.read_bytes())
    return h.hexdigest()


def object_key(cc: str, flags: list[str], headers: str, src: Path) -> str:
    """The cache name of runtime source `src` compiled by `cc` with `flags` against the headers
    whose `headers_digest` is given."""
    h = hashlib.sha256(f"{cc}\0{compiler_id(cc)}\0{' '.join(flags)}\0{headers}\0".encode() + src.read_bytes())
    return f"{src.stem}-{h.hexdigest()[:24]}"


_COMPILER_IDS: dict[str, str] = {}


def compiler_id(cc: str) -> str:
    """The compiler's version line (a cache key part: an upgraded gcc rebuilds the objects)."""
    if cc not in _COMPILER_IDS:
        proc = subprocess.run([cc, "--version"], capture_output=True, text=True)
        _COMPILER_IDS[cc] = proc.stdout.splitlines()[0] if proc.stdout else cc
    return _COMPILER_IDS[cc]


def run_host(exe: Path, inputs: bytes, sample_out_bytes: int, timeout: float = 600) -> bytes:
    """Run the example program on concatenated raw input samples; return the raw outputs."""
    work = exe.parent
    in_path, out_path = work / "samples_in.bin", work / "samples_out.bin"
    in_path.write_bytes(inputs)
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0"}
    proc = subprocess.run([str(exe), str(in_path), str(out_path)], capture_output=True, text=True,
                          timeout=timeout, env=env)
    if proc.returncode != 0:
        raise MfError(f"{exe.name} failed (exit {proc.returncode}): {proc.stderr.strip()[:2000]}")
    out = out_path.read_bytes()
    if len(out) % sample_out_bytes:
        raise MfError(f"{exe.name} wrote {len(out)} bytes, not a multiple of {sample_out_bytes}")
    return out
