# satedge — every target creates the virtual environment first when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.satedge-installed
SCENARIO ?= scenarios/default.toml
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test setup lint format bench soak constellation clean

help:
	@echo "make run            emulate scenarios/default.toml and write runs/<name>-<UTC time>/"
	@echo "make test           run the test suite (creates .venv first when needed)"
	@echo "make constellation  SCENARIO=path.toml: coverage run of one scenario"
	@echo "make lint           ruff check, ruff format --check, mypy"
	@echo "make bench          benchmarks: geometry, ledger, consensus (print tables)"
	@echo "make soak           10,000 seeded consensus simulations with faults, 1,000 on the real chain"
	@echo "make setup          create .venv and install satedge with its dev tools"
	@echo "make clean          remove .venv, runs/ and caches"

setup: $(STAMP)

# Re-made whenever pyproject.toml changes, or when .venv was removed or its python no longer runs.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "satedge needs Python >= 3.11, $(PYTHON) is " + sys.version.split()[0] + ": run make PYTHON=python3.11 ...")'
	@if ! $(BIN)/python -c 'import sys' >/dev/null 2>&1; then \
	  rm -rf $(VENV); \
	  $(PYTHON) -m venv $(VENV) || { echo "could not create $(VENV): on Debian/Ubuntu install python3-venv (apt-get install python3-venv)"; rm -rf $(VENV); exit 1; }; \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m emulator constellation $(SCENARIO)

constellation: $(STAMP)
	$(BIN)/python -m emulator constellation $(SCENARIO)

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

soak: $(STAMP)
	$(BIN)/python -m ledger.consensus.pool --seeds 10000
	$(BIN)/python -m ledger.consensus.chainpool --seeds 1000

clean:
	rm -rf $(VENV) runs build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
