# Two entry points for a fresh clone (only python3 >= 3.10 and make needed):
#   make demo   - the main job: a scenario against the embedded Backend.AI test server
#   make test   - lint (ruff, ruff format, mypy --strict) and the fast test suite
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PIP_FLAGS ?= -q --disable-pip-version-check
# Test processes of `make unit` (pytest-xdist); JOBS=0 runs in this process.
JOBS ?= 2
# Extra pip requirements, e.g. EXTRA_REQ='aiohttp==3.12.*' to test the oldest aiohttp.
EXTRA_REQ ?=
# The real-server harnesses (../shared/real-backend{,-26}/up.sh); a clone without them runs
# the integration tier against the endpoints of BACKENDAI_REAL_* (docs/testing.md).
SHARED ?= ../shared
BACKENDAI_REAL_SHARED ?= $(SHARED)
export BACKENDAI_REAL_SHARED
SRC := $(wildcard backendai_async tests bench examples)

.PHONY: demo test lint unit test-real compat-table bench bench-smoke soak clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[test]' $(EXTRA_REQ)
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

lint: $(STAMP)
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/mypy --strict backendai_async

unit: $(STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/integration -q -n $(JOBS) --dist worksteal

test: lint unit

# Starts each configured harness (23.09 and 26.9 by default), runs the tier against every
# server, then checks docs/compatibility.md against what the tier observed.
test-real: $(STAMP)
	$(BIN)/python -m tests.integration.servers
	$(BIN)/python -m pytest tests/integration -q -m integration
	$(BIN)/python -m tests.integration.compat_table --check

# Rewrites the table of docs/compatibility.md from the last `make test-real`.
compat-table: $(STAMP)
	$(BIN)/python -m tests.integration.compat_table --write

bench: $(STAMP)
	$(BIN)/python -m bench

bench-smoke: $(STAMP)
	$(BIN)/python -m bench --smoke

soak: $(STAMP)
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) .venv-* .pytest_cache .mypy_cache .ruff_cache *.egg-info
