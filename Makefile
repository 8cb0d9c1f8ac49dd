# The two commands of the README: `make run` and `make test`. Both set up .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUN_DIR ?= results/default/$(shell date +%Y-%m-%d_%H-%M-%S)
SEEDS ?= 10

.PHONY: experiment experiments venv run test validate lint clean dashboard browser screenshots \
  bench bench-quick bench-compare bench-adaptation bench-dashboard bench-scale slurm whatif soak \
  calibrate

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 12) else \
	  "Python 3.12+ is needed (found %d.%d): install it, e.g. pyenv install 3.12" % v[:2])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,dashboard]'
	@touch $(STAMP)

# The default experiment: lone-seller vs company-wide suppliers in one market, $(SEEDS) seeds.
run: venv
	$(PY) -m sim --multirun 'seed=range(0,$(SEEDS))' hydra.sweep.dir=$(RUN_DIR) \
	  market.n_buyers=1000 steps=150 hydra/job_logging=none hydra/hydra_logging=none
	@cat $(RUN_DIR)/report.md

# On CI (CI=true) the slow validation runs join the suite (about 3 more minutes), and so do
# the cluster tests (tests/cluster/): local Dask and Ray clusters, and, as root, a
# single-node SLURM cluster that the test starts with tests/cluster/slurm_up.sh.
PYTEST_MARKS := $(if $(filter true,$(CI)),-m "slow or not slow",)

test: venv browser
	$(PY) -m ruff check sim tests benchmarks experiments examples hydra_plugins
	$(PY) -m pytest -q -n auto $(PYTEST_MARKS)

# A named research experiment (experiments/<NAME>/), e.g. make experiment NAME=buyer_stance
# ARGS='seeds=3' passes overrides. `make experiments` runs all seven, one after the other.
experiment: venv
	@test -n "$(NAME)" || { echo "usage: make experiment NAME=<name> [ARGS='seeds=3']; names:" \
	  $$(ls experiments/*/experiment.yaml | cut -d/ -f2); exit 2; }
	$(PY) -m sim -m +experiment=$(NAME) $(ARGS)

EXPERIMENT_NAMES := strategy_comparison salesperson_turnover buyer_stance \
  silence_and_monitoring share_of_wallet wkh_transition sensitivity coevolution

experiments: venv
	@for name in $(EXPERIMENT_NAMES); do \
	  echo "== $$name"; time $(PY) -m sim -m +experiment=$$name $(ARGS) || exit 1; done

# The teaching dashboard (sim/app.py → sim/dashboard/) on a local port: DASHBOARD_PORT=8600 make dashboard
dashboard: venv
	@port=$${DASHBOARD_PORT:-$$($(PY) -c 'import socket; s = socket.socket(); \
	  s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}; \
	echo "Teaching dashboard: http://127.0.0.1:$$port/  (Ctrl-C stops it)"; \
	exec $(VENV)/bin/solara run sim/app.py --host 127.0.0.1 --port $$port --no-open --production

# tests/test_browser.py drives Debian's chromium (the project never downloads a browser):
# installed here when missing and root; otherwise that test skips, except on CI (CI=true).
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	elif [ "$$CI" = true ]; then \
	  echo "CI needs chromium for tests/test_browser.py: run as root or apt-get install chromium" >&2; \
	  exit 1; \
	else echo "chromium missing and not root: tests/test_browser.py will be skipped"; fi

# Screenshots of the dashboard at 1280x800 and 1024x768, one per lesson at 1024x768, into docs/
screenshots: venv browser
	DASHBOARD_SCREENSHOTS=docs $(PY) -m pytest -q -p no:xdist tests/test_browser.py

# The slow validation suite: WKH transition on full grids and every fact with 10 seeds.
validate: venv
	$(PY) -m pytest -q -n auto -m slow tests/test_validate.py

lint: venv
	$(PY) -m ruff check sim tests benchmarks experiments examples hydra_plugins

# Performance (issue 5): a table per benchmark, JSON in benchmarks/results/. Quick: < 2 min.
bench-quick: venv
	$(PY) -m benchmarks.bench_quick

# Throughput of REF and of the working tree measured in the same run (alternating), and the ratio:
# make bench-compare REF=0414eb2
bench-compare: venv
	@test -n "$(REF)" || { echo "usage: make bench-compare REF=<commit>"; exit 2; }
	$(PY) -m benchmarks.bench_compare $(REF)

# Suppliers that learn: vector engine with adaptation=reinforcement vs none, same run, and the ratio
bench-adaptation: venv
	$(PY) -m benchmarks.bench_adaptation

# The teaching dashboard in Chromium: steps/s while playing, first render, lesson switch
bench-dashboard: venv browser
	$(PY) -m benchmarks.bench_dashboard

bench: venv
	$(PY) -m benchmarks.bench_engines
	$(PY) -m benchmarks.bench_throughput
	$(PY) -m benchmarks.bench_collection
	$(PY) -m benchmarks.bench_scaling --figure benchmarks/scaling.png
	$(PY) -m benchmarks.bench_sweep
	$(PY) -m benchmarks.bench_adaptation

# Issue 19: sweep efficiency per launcher (200 default-size runs each; as root, to count every
# process in a cgroup; SLURM needs `make slurm`), the progress poll and the report's peak
# memory at 10,000 runs (with buyer_stance's analysis too). JSON in benchmarks/results/.
bench-scale: venv
	$(PY) -m benchmarks.bench_scale poll
	$(PY) -m benchmarks.bench_scale report
	$(PY) -m benchmarks.bench_scale report --experiment buyer_stance
	$(PY) -m benchmarks.bench_scale efficiency
	$(PY) -m benchmarks.bench_scale efficiency --runs-per-task 20
	$(PY) -m benchmarks.bench_scale overhead

# A single-node SLURM cluster on this machine (root; apt installs slurm-wlm, munge, slurmdbd,
# MariaDB), for hydra/launcher=submitit_slurm by hand: see docs/cluster.md.
slurm:
	bash tests/cluster/slurm_up.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Calibration to the sources' measured figures (docs/calibration.md §6): calibrated.yaml and a
# report in results/calibrate/<timestamp>/; ARGS='budget=40 seeds=8' changes the search.
calibrate: venv
	$(PY) -m sim.calibrate targets=configs/targets/sources.yaml budget=30 seeds=6 $(ARGS)

# What-if (docs/whatif.md): the example book, baseline and every scenario preset,
# 30 paired seeds over 36 months; the report lands in results/whatif/<timestamp>/.
whatif: venv
	$(PY) -m sim.whatif accounts=examples/accounts.csv currency=kEUR seeds=30 horizon=36

# Soak (issue 7, docs/reliability.md): 10,000 steps at 2,000 buyers with every event kind
# recurring; checks bounds, RSS and per-step drift; figures in benchmarks/results/soak.json.
soak: venv
	$(PY) -m pytest -q -s -p no:xdist -m slow tests/test_soak.py
