# mcuforge: `make demo` and `make test` each set everything up first (idempotent, fast when done).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
APT_PKGS := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm chromium

.PHONY: setup toolchain demo test test-fast test-c fuzz lint clean

setup: $(STAMP) toolchain

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "mcuforge: $(PYTHON) not found; install python3 (>= 3.10) with venv"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

# The Arm cross compiler, its C library and QEMU come from Debian's packages, and Chromium, which
# renders report.html in the tests (tests/test_report_html.py).
toolchain:
	@if command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null \
	    && [ -f "$$(arm-none-eabi-gcc -print-file-name=libc.a)" ] && command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $(APT_PKGS) with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS) >/dev/null; \
	else \
	    echo "mcuforge: arm-none-eabi-gcc, newlib, qemu-system-arm or chromium is missing and this is not root;"; \
	    echo "          run 'sudo apt-get install $(APT_PKGS)'. Tests that need them will be skipped."; \
	fi

demo: setup
	$(BIN)/mcuforge demo -o build/demo

# One pytest worker per core (pytest-xdist); slow tests are spread by work stealing.
test: setup
	$(BIN)/ruff check compiler tests
	$(BIN)/pytest -q -rs -n auto --dist worksteal -m "not fuzz"

# Coverage-guided fuzzing of the TFLite and ONNX loaders (a few minutes; tests/fuzz_loaders.py).
fuzz: setup
	$(BIN)/pytest -q -rs -m fuzz

# Seconds, not minutes: pure Python; no TensorFlow conversion, no C build, no QEMU (tests/conftest.py
# fails a test that builds C or imports TensorFlow without its marker).
test-fast: setup
	$(BIN)/pytest -q -m "not slow and not cbuild and not qemu and not fuzz"

# Host C builds (the kernel library under the sanitizers, generated code) without TensorFlow or QEMU.
test-c: setup
	$(BIN)/pytest -q -m "cbuild and not slow and not qemu and not fuzz"

lint: setup
	$(BIN)/ruff check compiler tests

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
