# Flowdeck developer entry points: `make run`, `make test`, `make bench`, `make bundle`.
# The first of these interpreters that runs and is Python >= 3.11 (override with PYTHON=...).
find_python = $(shell for candidate in python3.13 python3.12 python3.11 python3; do \
	if $$candidate -c 'import sys; sys.exit(sys.version_info < (3, 11))' > /dev/null 2>&1; then \
	command -v $$candidate; break; fi; done)
PYTHON ?= $(find_python)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
BUNDLE_STAMP := $(VENV)/.installed-bundle

.PHONY: run test bench lint clean venv bundle

$(PY):
	@test -n "$(PYTHON)" || { echo "no Python >= 3.11 found; run make PYTHON=/path/to/python3.x" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip wheel

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -e .
	touch $@

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install -e '.[test]'
	touch $@

$(BUNDLE_STAMP): $(STAMP)
	$(PY) -m pip install -e '.[bundle]'
	touch $@

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m flowdeck --demo

test: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

bench: $(TEST_STAMP)
	$(PY) -m benchmarks.run $(BENCH_ARGS)

# The one-folder desktop bundle: dist/flowdeck/flowdeck (see packaging/README.md).
bundle: $(BUNDLE_STAMP)
	$(PY) -m PyInstaller packaging/flowdeck.spec --noconfirm --distpath dist --workpath build/pyinstaller

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info
