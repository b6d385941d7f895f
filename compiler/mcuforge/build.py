"""Build a generated C folder for the host and run it on samples."""

from __future__ import annotations

import os
import shutil
import subprocess
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
    sources = [folder / f"{name}.c", folder / f"{name}_weights.c", folder / "main.c",
               *sorted((folder / "mf_nn" / "src").rglob("*.c"))]
    flags = [*WARNINGS, opt, *(SANITIZERS if sanitize else [])]
    cmd = [host_compiler(), *flags, f"-I{folder}", f"-I{folder / 'mf_nn' / 'include'}",
           *map(str, sources), "-lm", "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise MfError(f"building {folder} failed:\n{proc.stderr.strip()[:4000]}")
    return exe


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
