# Two commands do the whole setup on a fresh machine:
#   make demo   creates .venv, installs the package, runs the demo
#   make test   creates .venv, installs the dev tools, runs lint, types and the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev
BENCH  := $(VENV)/.installed-bench

.PHONY: demo test lint typecheck pytest bench bench-gate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(STAMP)
	$(BIN)/scs demo $(DEMO_ARGS)

lint: $(DEV)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(DEV)
	$(BIN)/mypy

pytest: $(DEV)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

$(BENCH): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

# Without SIZE: the demo-city benchmark (benchmarks/bench_evaluate.py), as before. With
# SIZE=small|medium|province: the evaluation of a generated lake next to DuckDB's group-by,
# pandas, Polars and Spark (benchmarks/bench_scale.py; installs the bench extra).
bench: $(if $(SIZE),$(BENCH),$(STAMP))
	$(BIN)/python benchmarks/$(if $(SIZE),bench_scale.py --size $(SIZE),bench_evaluate.py) $(BENCH_ARGS)

# The gate check over HTTP next to a bare FastAPI endpoint and a raw ASGI app (needs wrk).
bench-gate: $(STAMP)
	$(BIN)/python benchmarks/bench_gate.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) scs-data .pytest_cache .mypy_cache .ruff_cache
