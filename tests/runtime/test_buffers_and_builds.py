"""Scratch sizes (C vs mcuforge.runtime_buffers), argument checks, the Cortex-M build, CMake, and
the whole runtime suite again under AddressSanitizer + UBSan."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import SANITIZE
from mfnn import MF_ARG_ERROR, MF_NO_SCRATCH, RUNTIME, WARNINGS, Kernels
from oneop import CHANNELS

from mcuforge import runtime_buffers
from mcuforge.kernels import SPECS
from mcuforge.kernels.convolution import depthwise_conv_rows_s8

HERE = Path(__file__).resolve().parent
ARM_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-O2"]


def test_buffer_sizes_match(mf: Kernels) -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        ind = (int(rng.integers(1, 3)), int(rng.integers(1, 64)), int(rng.integers(1, 64)),
               int(rng.choice((*CHANNELS, 32, 64, 255))))
        fd = (int(rng.choice(CHANNELS)), int(rng.integers(1, 8)), int(rng.integers(1, 8)), ind[3])
        for kernel in ("convolve_s8", "convolve_1x1_s8", "depthwise_conv_s8"):
            assert mf.buffer_size(f"mf_{kernel}", ind, fd) == getattr(runtime_buffers, kernel)(ind, fd)
        # speed-m4: the depthwise rows kernel also depends on the output width, stride and dilation
        od = (ind[0], int(rng.integers(1, 64)), int(rng.integers(1, 64)), ind[3] * int(rng.integers(1, 4)))
        sh, sw, dh, dw = (int(v) for v in rng.integers(1, 4, 4))
        assert (mf.buffer_size("mf_depthwise_conv_rows_s8", ind, fd, od, sh, sw, dh, dw)
                == depthwise_conv_rows_s8(ind, fd, od, sh, sw, dh, dw))
        a, b = int(rng.integers(1, 2048)), int(rng.integers(1, 512))
        assert mf.buffer_size("mf_fully_connected_s8", a, b) == runtime_buffers.fully_connected_s8(a, b)
        assert mf.buffer_size("mf_avgpool_s8", a, b) == runtime_buffers.avgpool_s8(a, b)


def test_every_spec_scratch_rule_matches_its_c_twin(mf: Kernels) -> None:
    """Each kernel spec's scratch rule (mcuforge.kernels) returns what its C *_get_buffer_size
    returns, called with the arguments the rule names."""
    rng = np.random.default_rng(1)
    rules = {name: spec.scratch for name, spec in SPECS.items() if spec.scratch is not None}
    assert {"mf_convolve_s8", "mf_convolve_1x1_s8", "mf_fully_connected_s8"} <= rules.keys()
    for _ in range(100):
        ind = (int(rng.integers(1, 3)), int(rng.integers(1, 64)), int(rng.integers(1, 64)),
               int(rng.choice((*CHANNELS, 32, 64, 255))))
        fd = (int(rng.choice(CHANNELS)), int(rng.integers(1, 8)), int(rng.integers(1, 8)), ind[3])
        od = (ind[0], int(rng.integers(1, 64)), int(rng.integers(1, 64)), fd[0])
        dims = {"input": ind, "filter": fd, "output": od}
        params = {"accum_depth": int(rng.integers(1, 2048)), "output_depth": int(rng.integers(1, 512)),
                  "stride": (int(rng.integers(1, 4)), int(rng.integers(1, 4))),
                  "dilation": (int(rng.integers(1, 4)), int(rng.integers(1, 4)))}
        # attention (issue 11): mf_batch_matmul_s8's operands and adjoint flags
        dims.update(lhs=ind, rhs=(1, ind[1], int(rng.integers(1, 64)), int(rng.integers(1, 64))))
        params.update(adj_x=int(rng.integers(0, 2)), adj_y=int(rng.integers(0, 2)))
        # recurrent (issue 11): mf_lstm_s8's batch and hidden size
        params.update(batches=int(rng.integers(1, 9)), hidden_size=int(rng.integers(1, 129)))
        # ic area (issue 13): mf_residual_rows_s8's two filters (A: C -> CM, B: CM -> C)
        dims.update(filter_a=fd, filter_b=(ind[3], int(rng.integers(1, 8)), int(rng.integers(1, 8)), fd[0]))
        for name, rule in rules.items():
            assert mf.buffer_size(name, *rule.values(dims, params)) == rule.bytes(dims, params), name


def test_argument_errors(mf: Kernels) -> None:
    """What the caller can get wrong comes back as a status, not a crash."""
    import ctypes as C

    from mfnn import Context, ConvParams, Dims4, PerChannelQuant, Tile, s8

    x = np.zeros((1, 4, 4, 3), np.int8)
    w = np.zeros((2, 3, 3, 3), np.int8)
    y = np.zeros((1, 2, 2, 2), np.int8)
    mult = np.full(2, 1 << 30, np.int32)
    shift = np.zeros(2, np.int32)
    q = PerChannelQuant(mult.ctypes.data_as(C.POINTER(C.c_int32)), shift.ctypes.data_as(C.POINTER(C.c_int32)))
    p = ConvParams(0, 0, Tile(1, 1), Tile(0, 0), Tile(1, 1), (-128, 127))
    dims = [Dims4(1, 4, 4, 3), Dims4(2, 3, 3, 3), Dims4(1, 2, 2, 2)]
    scratch = np.zeros(256, np.int8)

    def conv(ctx: Context, params: ConvParams) -> int:
        return int(mf.lib.mf_convolve_s8(C.byref(ctx), C.byref(params), C.byref(q), C.byref(dims[0]),
                                         s8(x), C.byref(dims[1]), s8(w), None, C.byref(dims[2]), s8(y)))

    small = Context(scratch.ctypes.data_as(C.c_void_p), 3 * 3 * 3 * 6 - 1)  # C_in % 4 != 0: 6 * len
    assert conv(small, p) == MF_NO_SCRATCH
    ok = Context(scratch.ctypes.data_as(C.c_void_p), 256)
    assert conv(ok, p) == 0
    bad = ConvParams(0, 0, Tile(0, 1), Tile(0, 0), Tile(1, 1), (-128, 127))
    assert conv(ok, bad) == MF_ARG_ERROR
    perm = (C.c_int32 * 4)(0, 1, 1, 3)
    assert mf.lib.mf_transpose_s8(C.byref(dims[0]), s8(x), perm, s8(x)) == MF_ARG_ERROR


def test_cortex_m4_build(tmp_path: Path) -> None:
    cc = shutil.which("arm-none-eabi-gcc")
    if cc is None:
        pytest.skip("arm-none-eabi-gcc not installed: Cortex-M4 build not checked")
    for src in sorted((RUNTIME / "src").rglob("*.c")):
        cmd = [cc, *ARM_FLAGS, *WARNINGS, f"-I{RUNTIME / 'include'}", "-c", str(src),
               "-o", str(tmp_path / (src.stem + ".o"))]
        result = subprocess.run(cmd, capture_output=True, text=True)
        assert result.returncode == 0, f"{src.name}:\n{result.stderr}"


def test_cmake_static_library(tmp_path: Path) -> None:
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("cmake not installed")
    build = tmp_path / "build"
    subprocess.run([cmake, "-S", str(RUNTIME), "-B", str(build)], check=True, capture_output=True)
    subprocess.run([cmake, "--build", str(build)], check=True, capture_output=True)
    assert (build / "libmf_nn.a").exists()


@pytest.mark.skipif(SANITIZE, reason="already the sanitized run")
def test_sanitized_suite(tmp_path: Path) -> None:
    """Re-run this directory against a library built with -fsanitize=address,undefined and
    -fno-sanitize-recover: any out-of-bounds access or undefined behaviour aborts the run."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    libasan = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                             text=True).stdout.strip()
    if not os.path.isabs(libasan) or not os.path.exists(libasan):
        pytest.skip("gcc's libasan.so not found: sanitizer build not checked")
    # -s: the sanitizers write their reports to stderr, which pytest's capture would swallow
    # when the process aborts. The inner run gets its own basetemp: sharing this run's would
    # prune this test's tmp_path.
    env = {**os.environ, "MF_SANITIZE": "1", "LD_PRELOAD": libasan,
           "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
           "MF_RUNTIME_CASES": os.environ.get("MF_SANITIZE_CASES", "1")}
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-s", "-p", "no:cacheprovider",
           f"--basetemp={tmp_path / 'inner'}", str(HERE), "-k", "not cortex_m4 and not cmake"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1500)
    tail = result.stderr[:4000] + "\n" + result.stdout[-3000:]
    assert result.returncode == 0, tail
    assert " passed" in result.stdout, tail
