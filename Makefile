# Two entry points for a fresh clone (only python3 >= 3.10 and make needed):
#   make demo   - the main job: a scenario against the embedded Backend.AI test server
#   make test   - lint (ruff, ruff format, mypy --strict) and the fast test suite
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PIP_FLAGS ?= -q --disable-pip-version-check
# Extra pip requirements, e.g. EXTRA_REQ='aiohttp==3.12.*' to test the oldest aiohttp.
EXTRA_REQ ?=
SHARED ?= ../shared
SRC := $(wildcard backendai_async tests bench examples)

.PHONY: demo test lint unit test-real bench bench-smoke soak clean

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
	$(BIN)/python -m pytest tests --ignore=tests/integration -q

test: lint unit

test-real: $(STAMP)
	bash $(SHARED)/real-backend/up.sh
	$(BIN)/python -m pytest tests/integration -q -m integration

bench: $(STAMP)
	$(BIN)/python -m bench

bench-smoke: $(STAMP)
	$(BIN)/python -m bench --smoke

soak: $(STAMP)
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) .venv-* .pytest_cache .mypy_cache .ruff_cache *.egg-info
