# Flowdeck developer entry points: `make run`, `make test`, `make bench`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test bench lint clean venv

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip wheel

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -e .
	touch $@

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install -e '.[test]'
	touch $@

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m flowdeck --demo

test: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

bench: $(TEST_STAMP)
	$(PY) -m benchmarks.run $(BENCH_ARGS)

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
