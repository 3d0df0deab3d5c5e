# The two commands of the README, on a fresh machine:
#   make demo   - set everything up and run the demo on the bundled real cohort (outputs in ./harmonomics-demo)
#   make test   - set everything up and run the whole test suite
# Both create ./.venv themselves; nothing has to be installed beforehand except Python >= 3.11.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.harmonomics-installed
DEMO_OUT ?= harmonomics-demo
PYTEST_ARGS ?=

.PHONY: demo test lint setup bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[all,test]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/harmonomics demo --out $(DEMO_OUT)

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff's rules and line length are in pyproject.toml; the formatter's output is the house layout
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
