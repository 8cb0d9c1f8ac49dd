# The two commands of the README: `make run` and `make test`. Both set up .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUN_DIR ?= results/default/$(shell date +%Y-%m-%d_%H-%M-%S)
SEEDS ?= 10

.PHONY: venv run test lint clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 12) else \
	  "Python 3.12+ is needed (found %d.%d): install it, e.g. pyenv install 3.12" % v[:2])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The default experiment: lone-seller vs company-wide suppliers in one market, $(SEEDS) seeds.
run: venv
	$(PY) -m sim --multirun 'seed=range(0,$(SEEDS))' hydra.sweep.dir=$(RUN_DIR) \
	  market.n_buyers=1000 steps=150 hydra/job_logging=none hydra/hydra_logging=none
	$(PY) -m sim.report $(RUN_DIR)

test: venv
	$(PY) -m ruff check sim tests
	$(PY) -m pytest -q -n auto

lint: venv
	$(PY) -m ruff check sim tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
