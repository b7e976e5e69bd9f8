# NOC incident-intake assistant. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Rasa 3.6 needs Python 3.10; on these machines it lives under pyenv.
PYTHON310 ?= $(or $(shell ls -d "$$(pyenv root 2>/dev/null)"/versions/3.10.*/bin/python3.10 2>/dev/null | tail -1),$(shell command -v python3.10 2>/dev/null),python3.10)
VENV := .venv
BIN := $(VENV)/bin
MODEL := models/noc.tar.gz
TRAINING_FILES := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) noc/rasa_plugins/failure_kind_reader.py noc/domain/failure_kinds.py

export ACTION_PORT ?= 5055
export ACTION_ENDPOINT_URL ?= http://127.0.0.1:$(ACTION_PORT)/webhook
# TensorFlow and SQLAlchemy chatter that says nothing about this project.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1

.PHONY: help run run-cluster shell train test test-fast lint validate bench load db clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.lock
	@test -x "$(PYTHON310)" || { echo "Python 3.10 not found (looked under pyenv and PATH); set PYTHON310=/path/to/python3.10"; exit 1; }
	@test -x $(BIN)/python || "$(PYTHON310)" -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel
	$(BIN)/pip install --quiet -r requirements.lock
	@touch $@

.env: .env.example
	@test -f .env || install -m 600 .env.example .env
	@touch .env

$(MODEL): $(BIN)/.installed $(TRAINING_FILES)
	$(BIN)/rasa train --fixed-model-name noc --out models --quiet
	@touch $@

# Web chat widget (widget): socket.io-client bundled by esbuild, both
# pinned in package-lock.json; dist/ is built here, never committed.
WIDGET := widget/dist/widget.js
$(WIDGET): widget/package.json widget/package-lock.json $(wildcard widget/src/*)
	cd widget && npm ci --ignore-scripts --no-audit --no-fund && npm run build
	@touch $@

# The browser tests (tests/web) drive Debian's chromium; CI runs as root.
.PHONY: chromium
chromium:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# The load balancer of `make run-cluster` and tests/cluster: Debian's nginx.
.PHONY: nginx
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || (apt-get update && apt-get install -y nginx-light)

run: $(BIN)/.installed .env $(MODEL) $(WIDGET) ## Start the action server, the Rasa server and the web/API server (Ctrl-C stops all)
	@scripts/run.sh

run-cluster: $(BIN)/.installed .env $(MODEL) $(WIDGET) nginx ## 2 Rasa + 2 action servers behind nginx on PostgreSQL and Redis (docs/production.md)
	@scripts/run_cluster.sh

shell: $(BIN)/.installed .env $(MODEL) ## Talk to the assistant in the terminal
	@scripts/shell.sh

train: $(MODEL) ## Train the model when data, config or domain changed

db: $(BIN)/.installed .env ## Create or upgrade the database schema
	$(BIN)/python -m noc migrate

lint: $(BIN)/.installed ## ruff
	$(BIN)/ruff check actions noc tests scripts migrations

validate: $(BIN)/.installed ## rasa data validate --fail-on-warnings (see scripts/validate_data.py)
	$(BIN)/python scripts/validate_data.py

# Tiers are pytest markers set from the fixtures a test uses (tests/conftest.py).
# The widget bundle too: the web server's own tests fetch /widget.js (503 when it was never built).
# The fast tier runs on every core (pytest-xdist; each test has its own
# database schema and Redis prefix); the rest runs in one process, in order,
# because its tests share one stack of servers and several measure time.
FAST_TIER := -m "unit or db" -n auto --maxprocesses 4
test-fast: $(BIN)/.installed $(WIDGET) ## Pure logic, the database, actions with a fake dispatcher: no training, no servers
	$(BIN)/python -m pytest $(FAST_TIER) tests

test: $(BIN)/.installed $(MODEL) $(WIDGET) chromium nginx lint validate ## The whole test suite (test-fast first)
	$(BIN)/python -m pytest $(FAST_TIER) tests
	$(BIN)/python -m pytest -m "not (unit or db)" tests
	$(BIN)/rasa test core --model $(MODEL) --stories tests/stories --fail-on-prediction-errors --out var/test-results/core

bench: $(BIN)/.installed $(MODEL) nginx ## NLU quality, latency and load figures (docs/benchmarks.md; about 30 minutes)
	$(BIN)/python scripts/bench.py

load: $(BIN)/.installed $(MODEL) nginx ## Load test only: one server, the cluster, a bare rasa init bot (docs/load.md)
	$(BIN)/python scripts/bench.py --part load

clean: ## Remove the environment, models and local data
	rm -rf $(VENV) models/*.tar.gz var
