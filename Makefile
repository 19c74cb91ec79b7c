# Two commands do everything on a fresh machine (see README):
#   make report   set up .venv and build all regional reports from the bundled demo data into outputs/
#   make test     set up .venv and run the whole test suite (lint + pytest + notebooks)
# The virtual environment is created and kept up to date from pyproject.toml by the stamp rule below.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2
REGIONS ?=
OUTPUT ?= outputs

.PHONY: help venv report test lint format bench bench-forecast clean demo-data

help:  ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s); set PYTHON=python3.11" % sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench,dask]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

venv: $(STAMP)  ## Create or update the virtual environment

report: $(STAMP)  ## Build all regional reports from the demo data into outputs/
	$(BIN)/kompetensprognos run --data demo --jobs $(JOBS) --output $(OUTPUT) $(if $(REGIONS),--regions $(REGIONS),)

test: $(STAMP)  ## Lint and run the whole test suite (unit tests, doctests and both notebooks under nbval)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile --doctest-modules --nbval-lax --nbval-sanitize-with notebooks/sanitize.cfg kompetensprognos tests notebooks $(PYTEST_ARGS)

lint: $(STAMP)  ## Lint only
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)  ## Auto-fix lint and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)  ## Run the benchmarks (slow, ~10 min; writes benchmarks/results/)
	$(BIN)/python benchmarks/m3_yearly.py
	$(BIN)/python benchmarks/demand_choice.py
	$(BIN)/python benchmarks/demand_timing.py
	$(BIN)/python benchmarks/demand_timing.py --no-backtest
	$(BIN)/python benchmarks/supply_figures.py

bench-forecast: $(STAMP)  ## Issue 14 figures: real SCB panel, M3, interval cost and coverage (~30 min)
	$(BIN)/python benchmarks/real_panel.py --intervals
	$(BIN)/python benchmarks/real_panel.py --keys age,ssyk --origins 2019
	$(BIN)/python benchmarks/m3_yearly.py
	$(BIN)/python benchmarks/m3_yearly.py --inner-only
	$(BIN)/python benchmarks/interval_speed.py
	$(BIN)/python benchmarks/interval_bias.py --after

clean:  ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
