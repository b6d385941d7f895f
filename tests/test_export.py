"""`mcuforge compile --export cmake|arduino|zephyr|platformio`: each export's sources built with
the flags its build system would use (host gcc/g++ with -Wall -Wextra -Werror; arm-none-eabi-gcc
for Cortex-M0+, M4 (DSP) and M55 (MVE)), its example run on the host where the build system can be
stood in for (a stub Arduino.h, stub Zephyr headers and CMake functions), and its metadata checked
against the fields its format documents: the Arduino library specification (1.5 format, rev. 2.2),
Zephyr's module.yml schema (scripts/zephyr_module.py), PlatformIO's library.json manifest schema.
No Arduino IDE, arduino-cli, PlatformIO or Zephyr SDK is installed here: what they would add
(their own compiler flags, the Zephyr kernel) is not exercised."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from model_paths import mlperf_model

from mcuforge.cli import EXPORT_KINDS, main
from mcuforge.compile import CompileOptions, compile_model
from mcuforge.errors import MfError
from mcuforge.export import KINDS, export
from mcuforge.export.bundle import library_name, needed_kernels
from mcuforge.resources import resource_dir

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "compiler" / "mcuforge" / "examples" / "digits_cnn.onnx"
NAME = "digits_cnn"
LIB = f"mcuforge_{NAME}"
WARN = ["-Wall", "-Wextra", "-Werror"]
CORTEX_M = {  # -mcpu flags: no DSP, DSP, MVE
    "cortex-m0plus": ["-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"],
    "cortex-m4": ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"],
    "cortex-m55": ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"],
}
STUB_ARDUINO = """\
// Arduino.h stand-in: the parts of the Arduino API the generated example uses.
#include <stdint.h>
#include <stdio.h>
struct StubSerial {
    void begin(unsigned long) {}
    void print(const char *s) { fputs(s, stdout); }
    void print(int v) { printf("%d", v); }
    void print(unsigned long v) { printf("%lu", v); }
    void println() { putchar('\\n'); }
    template <class T> void println(T v) { print(v); println(); }
};
static StubSerial Serial;
inline unsigned long micros() { static unsigned long t = 0; return t += 123; }
inline void delay(unsigned long) {}
"""
STUB_MAIN = "void setup();\nvoid loop();\nint main() { setup(); loop(); return 0; }\n"
STUB_ZEPHYR_KERNEL = """\
#include <stdint.h>
static inline uint32_t k_cycle_get_32(void) { static uint32_t t = 0; return t += 1000u; }
static inline uint32_t k_cyc_to_us_floor32(uint32_t cycles) { return cycles / 64u; }
"""
STUB_ZEPHYR_PRINTK = "#include <stdio.h>\n#define printk printf\n"
# Zephyr's library functions as plain CMake, enough to build a module's CMakeLists.txt on the host.
STUB_ZEPHYR_CMAKE = """\
function(zephyr_library_named name)
  add_library(${name} STATIC)
  set(ZEPHYR_CURRENT_LIBRARY ${name} PARENT_SCOPE)
endfunction()
macro(zephyr_library_sources)
  target_sources(${ZEPHYR_CURRENT_LIBRARY} PRIVATE ${ARGN})
endmacro()
function(zephyr_include_directories)
  foreach(d ${ARGN})
    get_filename_component(abs ${d} ABSOLUTE)
    set_property(GLOBAL APPEND PROPERTY ZEPHYR_INCLUDES ${abs})
  endforeach()
endfunction()
"""

needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not installed")
needs_arm = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None,
                               reason="arm-none-eabi-gcc not installed")
needs_cmake = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The digits example compiled once with every export."""
    from sklearn.datasets import load_digits

    x = (load_digits().images / 16.0).astype(np.float32)[:, None]
    out = tmp_path_factory.mktemp("export")
    compile_model(EXAMPLE, out, CompileOptions(calib=x[:100], exports=KINDS))
    return out


def sh(cmd: list[str], cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def c_sources(src: Path) -> list[Path]:
    return sorted(src.rglob("*.c"))


def host_build_and_run(tmp: Path, sources: list[Path], cxx_sources: list[Path], includes: list[Path],
                       c_flags: tuple[str, ...] = ("-std=c99",)) -> str:
    """Compile C sources with gcc (`c_flags`) and C++ sources with g++ (all -Wall -Wextra -Werror),
    link, run; returns what the program printed."""
    tmp.mkdir(parents=True, exist_ok=True)
    inc = [f"-I{d}" for d in includes]
    objs = []
    for i, s in enumerate(sources):
        objs.append(tmp / f"{i}_{s.stem}.o")
        sh(["gcc", *c_flags, *WARN, "-O1", *inc, "-c", str(s), "-o", str(objs[-1])])
    for i, s in enumerate(cxx_sources):
        objs.append(tmp / f"x{i}_{s.stem}.o")
        sh(["g++", "-std=gnu++11", *WARN, "-O1", *inc, "-x", "c++", "-c", str(s), "-o", str(objs[-1])])
    exe = tmp / "example"
    sh(["g++", *map(str, objs), "-lm", "-o", str(exe)])
    return sh([str(exe)])


def cross_compile(tmp: Path, sources: list[Path], includes: list[Path], cpu: str, cxx: bool = False) -> None:
    tmp.mkdir(parents=True, exist_ok=True)
    cc = ["arm-none-eabi-g++", "-std=gnu++11", "-x", "c++"] if cxx else ["arm-none-eabi-gcc", "-std=c99"]
    for i, s in enumerate(sources):
        sh([*cc, *CORTEX_M[cpu], "-O2", *WARN, "-ffunction-sections", "-fdata-sections",
            *(f"-I{d}" for d in includes), "-c", str(s), "-o", str(tmp / f"{i}_{s.stem}.o")])


def properties(path: Path) -> dict[str, str]:
    """A Java-style .properties file as the Arduino IDE reads library.properties: key=value lines."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"not a key=value line: {line!r}"
            out[key.strip()] = value.strip()
    return out


# --- what every export shares ------------------------------------------------------------------

def test_kernel_selection_is_what_the_model_calls() -> None:
    """The digits CNN calls convolution, fully-connected and softmax kernels; their helpers come
    along, nothing else does."""
    src = resource_dir("runtime_c") / "src"
    model_c = "int f(void) { return mf_convolve_s8(0) + mf_fully_connected_s8(0) + mf_softmax_s8(0); }"
    names = {p.relative_to(src).as_posix() for p in needed_kernels(model_c)}
    assert {"convolution/mf_convolve_s8.c", "fully_connected/mf_fully_connected_s8.c",
            "activation/mf_softmax_s8.c"} <= names
    assert all(n.startswith(("convolution/", "fully_connected/", "activation/", "support/")) for n in names)
    assert len(names) < len(list(src.rglob("*.c"))) // 3
    assert needed_kernels("int main(void) { return 0; }") == []


def test_exports_land_in_their_folders(exported: Path) -> None:
    report = json.loads((exported / "report.json").read_text())
    assert set(report["exports"]) == set(KINDS)
    assert (exported / "cmake" / "CMakeLists.txt").exists()
    assert (exported / "arduino" / LIB / "library.properties").exists()
    assert (exported / "arduino" / f"{LIB}.zip").exists()
    assert (exported / "zephyr" / "zephyr" / "module.yml").exists()
    assert (exported / "platformio" / "library.json").exists()
    # today's folder is untouched: main.c, CMakeLists.txt and every kernel
    assert (exported / "main.c").exists() and (exported / "CMakeLists.txt").exists()
    assert len(list((exported / "mf_nn" / "src").rglob("*.c"))) > len(c_sources(exported / "cmake" / "src"))


def test_cli_export_choices_match_the_writers() -> None:
    assert EXPORT_KINDS == KINDS


def test_unknown_export_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MfError, match=r"unknown export 'keil'; available: cmake, arduino, zephyr, "
                                      r"platformio"):
        export(None, ["keil"], tmp_path)  # type: ignore[arg-type]


@needs_arm
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["cmake", "arduino", "zephyr", "platformio"])
@pytest.mark.parametrize("cpu", sorted(CORTEX_M))
def test_sources_cross_compile_for_cortex_m(exported: Path, kind: str, cpu: str, tmp_path: Path) -> None:
    """Every export's C under -Wall -Wextra -Werror for an M0+, an M4 (DSP path) and an M55 (MVE)."""
    src = {"cmake": exported / "cmake" / "src", "arduino": exported / "arduino" / LIB / "src",
           "zephyr": exported / "zephyr" / "src", "platformio": exported / "platformio" / "src"}[kind]
    cross_compile(tmp_path, c_sources(src), [src], cpu)


# --- CMake ------------------------------------------------------------------------------------

@needs_cmake
@pytest.mark.slow
def test_cmake_export_add_subdirectory_and_install(exported: Path, tmp_path: Path) -> None:
    lib = exported / "cmake"
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    shutil.copy(lib / "examples" / f"{NAME}_test_vector.h", consumer)
    shutil.copy(lib / "examples" / "main.c", consumer / "app.c")
    (consumer / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(consumer C)\n"
        f"add_subdirectory({lib.as_posix()} mcuforge_model)\n"
        f"add_executable(app app.c)\ntarget_link_libraries(app PRIVATE {LIB})\n"
        "target_compile_options(app PRIVATE -Wall -Wextra -Werror)\n")
    flags = "-DCMAKE_C_FLAGS=-Wall -Wextra -Werror"
    sh(["cmake", "-S", str(consumer), "-B", str(tmp_path / "b1"), flags])
    sh(["cmake", "--build", str(tmp_path / "b1")])
    assert "output matches the reference" in sh([str(tmp_path / "b1" / "app")])
    assert not (tmp_path / "b1" / "mcuforge_model" / f"{NAME}_example").exists()  # only when built alone

    # built alone (with its example), installed, found by find_package
    prefix = tmp_path / "prefix"
    sh(["cmake", "-S", str(lib), "-B", str(tmp_path / "b2"), flags, f"-DCMAKE_INSTALL_PREFIX={prefix}"])
    sh(["cmake", "--build", str(tmp_path / "b2")])
    assert "output matches the reference" in sh([str(tmp_path / "b2" / f"{NAME}_example")])
    sh(["cmake", "--install", str(tmp_path / "b2")])
    assert (prefix / "include" / LIB / f"{NAME}.h").exists()
    assert list(prefix.glob(f"lib*/lib{LIB}.a"))
    found = tmp_path / "found"
    found.mkdir()
    shutil.copy(consumer / "app.c", found)
    shutil.copy(consumer / f"{NAME}_test_vector.h", found)
    (found / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(found C)\n"
        f"find_package({LIB} CONFIG REQUIRED)\n"
        f"add_executable(app app.c)\ntarget_link_libraries(app PRIVATE mcuforge::{LIB})\n")
    sh(["cmake", "-S", str(found), "-B", str(tmp_path / "b3"), f"-DCMAKE_PREFIX_PATH={prefix}"])
    sh(["cmake", "--build", str(tmp_path / "b3")])
    assert "output matches the reference" in sh([str(tmp_path / "b3" / "app")])


# --- Arduino ----------------------------------------------------------------------------------

ARDUINO_REQUIRED = ("name", "version", "author", "maintainer", "sentence", "paragraph", "category", "url",
                    "architectures")
ARDUINO_OPTIONAL = ("depends", "dot_a_linkage", "includes", "precompiled", "ldflags", "email", "license")
ARDUINO_CATEGORIES = ("Display", "Communication", "Signal Input/Output", "Sensors", "Device Control",
                      "Timing", "Data Storage", "Data Processing", "Other")


def test_arduino_library_properties_follow_the_specification(exported: Path) -> None:
    root = exported / "arduino" / LIB
    props = properties(root / "library.properties")
    assert all(props.get(k) for k in ARDUINO_REQUIRED), props
    assert set(props) <= set(ARDUINO_REQUIRED) | set(ARDUINO_OPTIONAL)
    # name: letters, digits, space, _ . -; starts with a letter or digit; at most 63; not "Arduino..."
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,62}", props["name"])
    assert re.search("[A-Za-z]", props["name"])
    assert not props["name"].lower().startswith("arduino")
    assert props["name"] == root.name  # the folder the IDE installs it into
    assert re.fullmatch(r"\d+\.\d+\.\d+", props["version"])
    assert props["category"] in ARDUINO_CATEGORIES
    assert props["url"].startswith(("http://", "https://"))
    assert all(re.fullmatch(r"\*|[a-z0-9_]+", a.strip()) for a in props["architectures"].split(","))
    for header in props["includes"].split(","):
        assert (root / "src" / header.strip()).exists()
    # the 1.5 format: sources under src/ (recursive), examples/NAME/NAME.ino
    assert (root / "src" / f"{NAME}.h").exists() and (root / "src" / "mf_nn.h").exists()
    sketch = root / "examples" / NAME / f"{NAME}.ino"
    assert sketch.exists() and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", NAME)


def test_arduino_zip_has_the_library_as_its_only_top_folder(exported: Path) -> None:
    root = exported / "arduino" / LIB
    with zipfile.ZipFile(exported / "arduino" / f"{LIB}.zip") as z:
        names = z.namelist()
        assert z.testzip() is None
        assert {n.split("/")[0] for n in names} == {LIB}
        files = {n for n in names if not n.endswith("/")}
        assert files == {f"{LIB}/{p.relative_to(root).as_posix()}" for p in root.rglob("*") if p.is_file()}
        assert z.read(f"{LIB}/library.properties") == (root / "library.properties").read_bytes()
        assert f"{LIB}/examples/{NAME}/{NAME}.ino" in files


@needs_gxx
@pytest.mark.slow
def test_arduino_sketch_builds_and_runs_with_a_stub_core(exported: Path, tmp_path: Path) -> None:
    """As the IDE builds it: the library's src/ on the include path, its .c files as C (gnu11),
    the sketch as C++; Arduino.h replaced by a stub whose Serial prints to stdout."""
    root = exported / "arduino" / LIB
    stub = tmp_path / "core"
    stub.mkdir()
    (stub / "Arduino.h").write_text(STUB_ARDUINO)
    (stub / "stub_main.cpp").write_text(STUB_MAIN)
    sketch = root / "examples" / NAME
    out = host_build_and_run(tmp_path / "host", c_sources(root / "src"),
                             [sketch / f"{NAME}.ino", stub / "stub_main.cpp"], [stub, root / "src", sketch],
                             c_flags=("-std=gnu11",))
    lines = out.splitlines()
    assert re.fullmatch(r"output [0-9a-f]{20}", lines[0]), out  # 10 int8 class probabilities
    assert lines[1] == "output matches the reference"
    assert lines[2] == "us per inference 123"


@needs_arm
@pytest.mark.slow
def test_arduino_sketch_cross_compiles_as_cxx(exported: Path, tmp_path: Path) -> None:
    root = exported / "arduino" / LIB
    (tmp_path / "Arduino.h").write_text(STUB_ARDUINO)
    sketch = root / "examples" / NAME
    cross_compile(tmp_path / "o", [sketch / f"{NAME}.ino"], [tmp_path, root / "src", sketch], "cortex-m4",
                  cxx=True)


# --- Zephyr -----------------------------------------------------------------------------------

# zephyr/module.yml keys and their types (Zephyr's scripts/zephyr_module.py METADATA_SCHEMA)
ZEPHYR_TOP = {"name": str, "build": dict, "tests": list, "samples": list, "boards": list, "blobs": list,
              "security": dict, "package-managers": dict}
ZEPHYR_BUILD = {"cmake": str, "kconfig": str, "cmake-ext": bool, "kconfig-ext": bool, "sysbuild-cmake": str,
                "sysbuild-kconfig": str, "sysbuild-cmake-ext": bool, "sysbuild-kconfig-ext": bool,
                "depends": list, "settings": dict}


def test_zephyr_module_files_follow_the_module_schema(exported: Path) -> None:
    root = exported / "zephyr"
    meta = yaml.safe_load((root / "zephyr" / "module.yml").read_text())
    assert isinstance(meta, dict) and set(meta) <= set(ZEPHYR_TOP)
    assert all(isinstance(v, ZEPHYR_TOP[k]) for k, v in meta.items())
    assert set(meta["build"]) <= set(ZEPHYR_BUILD)
    assert all(isinstance(v, ZEPHYR_BUILD[k]) for k, v in meta["build"].items())
    assert (root / meta["build"]["cmake"] / "CMakeLists.txt").is_file()  # "cmake": a folder
    assert (root / meta["build"]["kconfig"]).is_file()  # "kconfig": a file
    assert all((root / s).is_dir() for s in meta["samples"])
    assert re.fullmatch(r"[A-Za-z0-9_\-]+", meta["name"])

    symbol = f"MCUFORGE_{NAME.upper()}"
    kconfig = (root / meta["build"]["kconfig"]).read_text()
    entries = re.findall(r"^config (\w+)\n\tbool \"([^\"]+)\"\n", kconfig, re.MULTILINE)
    assert entries and entries[0][0] == symbol
    assert re.search(r"^\thelp\n(\t  .*\n)+", kconfig, re.MULTILINE)
    cmake = (root / "CMakeLists.txt").read_text()
    assert f"if(CONFIG_{symbol})" in cmake and "zephyr_library_named(" in cmake
    sample = root / "samples" / NAME
    assert f"CONFIG_{symbol}=y" in (sample / "prj.conf").read_text().splitlines()
    for f in ("CMakeLists.txt", "prj.conf", "sample.yaml", "src/main.c"):
        assert (sample / f).is_file(), f
    sample_yaml = yaml.safe_load((sample / "sample.yaml").read_text())
    assert set(sample_yaml) == {"sample", "tests"} and sample_yaml["sample"]["name"]
    assert "find_package(Zephyr" in (sample / "CMakeLists.txt").read_text()


@needs_cmake
@pytest.mark.slow
def test_zephyr_module_cmake_builds_the_sample_on_the_host(exported: Path, tmp_path: Path) -> None:
    """The module's CMakeLists.txt run by CMake with Zephyr's library functions stood in for, with
    and without its Kconfig symbol; the sample's main.c built against it with stub kernel headers."""
    root = exported / "zephyr"
    symbol = f"CONFIG_MCUFORGE_{NAME.upper()}"
    stubs = tmp_path / "stubs"
    (stubs / "zephyr" / "sys").mkdir(parents=True)
    (stubs / "zephyr" / "kernel.h").write_text(STUB_ZEPHYR_KERNEL)
    (stubs / "zephyr" / "sys" / "printk.h").write_text(STUB_ZEPHYR_PRINTK)
    (stubs / "zephyr.cmake").write_text(STUB_ZEPHYR_CMAKE)
    app = tmp_path / "app"
    app.mkdir()
    sample = root / "samples" / NAME
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(zephyr_stand_in C)\n"
        f"include({(stubs / 'zephyr.cmake').as_posix()})\n"
        f"add_subdirectory({root.as_posix()} module)\n"
        f"if({symbol})\n"
        f"  add_executable(app {(sample / 'src' / 'main.c').as_posix()})\n"
        "  get_property(incs GLOBAL PROPERTY ZEPHYR_INCLUDES)\n"
        f"  target_include_directories(app PRIVATE {stubs.as_posix()} ${{incs}})\n"
        f"  target_include_directories(mcuforge_{NAME} PRIVATE ${{incs}})\n"
        f"  target_link_libraries(app PRIVATE mcuforge_{NAME} m)\n"
        "endif()\n"
        f"if(TARGET mcuforge_{NAME})\n  message(STATUS \"module library: yes\")\n"
        "else()\n  message(STATUS \"module library: no\")\nendif()\n")
    flags = "-DCMAKE_C_FLAGS=-std=c99 -Wall -Wextra -Werror"
    assert "module library: yes" in sh(["cmake", "-S", str(app), "-B", str(tmp_path / "on"), flags,
                                        f"-D{symbol}=y"])
    sh(["cmake", "--build", str(tmp_path / "on")])
    out = sh([str(tmp_path / "on" / "app")]).splitlines()
    assert out[1] == "output matches the reference" and out[2].startswith("cycles per inference 1000")
    # without the symbol the module adds nothing
    assert "module library: no" in sh(["cmake", "-S", str(app), "-B", str(tmp_path / "off"), flags])


# --- PlatformIO --------------------------------------------------------------------------------

PIO_FIELDS = {"name", "version", "description", "keywords", "authors", "license", "repository",
              "homepage", "frameworks", "platforms", "headers", "build", "examples", "export",
              "dependencies", "downloadUrl"}
PIO_BUILD = {"flags", "unflags", "includeDir", "srcDir", "srcFilter", "extraScript", "libArchive",
             "libLDFMode", "libCompatMode", "builder"}


def _pio_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_platformio_library_json_follows_the_manifest_schema(exported: Path) -> None:
    root = exported / "platformio"
    m = json.loads((root / "library.json").read_text())
    assert set(m) <= PIO_FIELDS and {"name", "version"} <= set(m)
    assert 1 <= len(m["name"]) <= 100 and not re.search(r"[:;/,@<>]", m["name"])
    assert "." in m["version"] and re.fullmatch(r"\d+\.\d+\.\d+([-+].*)?", m["version"])
    assert 1 <= len(m["description"]) <= 1000
    assert all(re.fullmatch(r"[a-z\d\-+. ]{1,50}", k) for k in m["keywords"])
    for field in ("frameworks", "platforms"):
        assert all(re.fullmatch(r"[a-z\d\-_]+|\*", v) for v in _pio_list(m[field]))
    assert all(1 <= len(a["name"]) <= 50 for a in m["authors"])
    assert m["license"] == "Apache-2.0"  # an SPDX identifier
    assert set(m["build"]) <= PIO_BUILD
    assert (root / m["build"]["srcDir"]).is_dir() and (root / m["build"]["includeDir"]).is_dir()
    for header in _pio_list(m["headers"]):
        assert (root / m["build"]["includeDir"] / header).is_file()
    for ex in m["examples"]:
        assert re.fullmatch(r"[a-zA-Z\d\-_/]{1,100}", ex["name"])
        assert all((root / ex["base"] / f).is_file() for f in ex["files"])
    ini = (root / m["examples"][0]["base"] / "platformio.ini").read_text()
    assert re.search(r"^\[env:\w+\]$", ini, re.MULTILINE) and "lib_deps = symlink://../.." in ini


@needs_gxx
@pytest.mark.slow
def test_platformio_example_builds_and_runs_with_a_stub_core(exported: Path, tmp_path: Path) -> None:
    """As PlatformIO's library builder would: srcDir's sources with build.flags, includeDir on the
    include path of the library and of the project; the Arduino-framework example with a stub core."""
    root = exported / "platformio"
    m = json.loads((root / "library.json").read_text())
    (tmp_path / "Arduino.h").write_text(STUB_ARDUINO)
    (tmp_path / "stub_main.cpp").write_text(STUB_MAIN)
    base = root / m["examples"][0]["base"]
    include = root / m["build"]["includeDir"]
    out = host_build_and_run(tmp_path / "host", c_sources(root / m["build"]["srcDir"]),
                             [base / "src" / "main.cpp", tmp_path / "stub_main.cpp"],
                             [tmp_path, include, base / "src"],
                             c_flags=("-std=gnu11", *m["build"]["flags"]))
    assert out.splitlines()[1] == "output matches the reference"


# --- models beyond the example, the CLI, names -------------------------------------------------

@needs_gxx
@pytest.mark.slow
@pytest.mark.parametrize(("model", "kernels"), [
    ("kws_dscnn_int8", {"mf_depthwise_conv_s8.c", "mf_avgpool_s8.c"}),
    ("ad_fcae_int8", {"mf_fully_connected_s8.c"}),
    ("ic_resnet8_int8", {"mf_elementwise_add_s8.c", "mf_avgpool_s8.c"}),
    ("vww_mbv1_int8", {"mf_depthwise_conv_s8.c", "mf_convolve_1x1_s8.c"}),
])
def test_mlperf_exports_link_and_match_on_the_host(model: str, kernels: set[str], tmp_path: Path) -> None:
    """Real models: the selected kernels are all the model needs (it links) and it runs right."""
    path = mlperf_model(f"{model}.tflite")
    compile_model(path, tmp_path, CompileOptions(name="m", exports=("cmake",)))
    src = tmp_path / "cmake" / "src"
    names = {p.name for p in c_sources(src)}
    assert kernels <= names, names
    examples = tmp_path / "cmake" / "examples"
    out = host_build_and_run(tmp_path / "host", [*c_sources(src), examples / "main.c"], [], [src, examples])
    assert "output matches the reference" in out


def test_cli_compile_with_two_exports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sklearn.datasets import load_digits

    np.save(tmp_path / "calib.npy", (load_digits().images[:50] / 16.0).astype(np.float32)[:, None])
    code = main(["compile", str(EXAMPLE), "--calib", str(tmp_path / "calib.npy"), "--name", "my-model v2",
                 "-o", str(tmp_path / "out"), "--export", "arduino", "zephyr"])
    out = capsys.readouterr().out
    assert code == 0
    assert "export arduino: " in out and "export zephyr: " in out
    # the C name comes from the sanitizer; the library name and Kconfig symbol from it
    assert library_name("my-model v2") == "mcuforge_my_model_v2"
    props = properties(tmp_path / "out" / "arduino" / "mcuforge_my_model_v2" / "library.properties")
    assert props["name"] == "mcuforge_my_model_v2"
    assert "config MCUFORGE_MY_MODEL_V2\n" in (tmp_path / "out" / "zephyr" / "Kconfig").read_text()
    assert not (tmp_path / "out" / "cmake").exists()


@needs_gxx
@pytest.mark.slow
def test_int16_output_model_examples_run(tmp_path: Path) -> None:
    """16x8 layers to the end: an int16 output, which the examples receive through an aligned
    buffer and compare byte for byte (little-endian) with the reference."""
    from sklearn.datasets import load_digits

    x = (load_digits().images / 16.0).astype(np.float32)[:, None]
    opts = CompileOptions(calib=x[:100], exports=("cmake", "arduino"),
                          int16_layers=("c1", "c2", "f", "g1", "logits", "probs"))
    compile_model(EXAMPLE, tmp_path, opts)
    assert "int16_t *output0" in (tmp_path / f"{NAME}.h").read_text()
    src, examples = tmp_path / "cmake" / "src", tmp_path / "cmake" / "examples"
    out = host_build_and_run(tmp_path / "c", [*c_sources(src), examples / "main.c"], [], [src, examples])
    assert re.fullmatch(r"output [0-9a-f]{40}", out.splitlines()[0]) and "matches the reference" in out
    root = tmp_path / "arduino" / LIB
    (tmp_path / "Arduino.h").write_text(STUB_ARDUINO)
    (tmp_path / "stub_main.cpp").write_text(STUB_MAIN)
    sketch = root / "examples" / NAME
    out = host_build_and_run(tmp_path / "ino", c_sources(root / "src"),
                             [sketch / f"{NAME}.ino", tmp_path / "stub_main.cpp"],
                             [tmp_path, root / "src", sketch], c_flags=("-std=gnu11",))
    assert out.splitlines()[1] == "output matches the reference"
