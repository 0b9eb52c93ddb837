# retain: every target creates .venv and installs the project first if needed.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := data/demo
ACCOUNTS ?= 2000
SEED ?= 7
AS_OF ?=
EXTRAS ?= dev,spark
export MLFLOW_TRACKING_URI ?= sqlite:///mlruns/mlflow.db
# The source `make serve` and `make retrain` use: RETAIN_DATA as retain reads it (the
# environment, else .env), else the demo world. Expanded only when a recipe runs.
SOURCE = $(or $(RETAIN_DATA),$(shell $(BIN)/python -c "from retain.settings import Settings; print(Settings().data or '')" 2>/dev/null),$(DEMO))
# The MLflow store `make mlflow-ui` opens: the one retain uses (RETAIN_MLFLOW_URI, else .env,
# else the local store in mlruns/).
MLFLOW_STORE = $(or $(shell $(BIN)/python -c "from retain.settings import Settings; print(Settings().mlflow_uri)" 2>/dev/null),sqlite:///mlruns/mlflow.db)

.PHONY: help install run demo-data validate train retrain models score serve mlflow-ui test test-fast lint bench closed-loop clean browser screenshots

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[$(EXTRAS)]"
	@if [[ ",$(EXTRAS)," == *,spark,* ]] && ! command -v java >/dev/null 2>&1; then \
		echo "Installing Java 17 for Spark (apt)"; \
		$$( [ "$$(id -u)" -eq 0 ] || echo sudo ) apt-get update -qq && \
		$$( [ "$$(id -u)" -eq 0 ] || echo sudo ) apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; \
	fi
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install retain with its dev tools and the spark extra (EXTRAS=dev: no Spark)

$(DEMO)/accounts.parquet: | $(STAMP)
	$(BIN)/retain simulate --accounts $(ACCOUNTS) --seed $(SEED) --out $(DEMO)

demo-data: $(DEMO)/accounts.parquet ## Simulate the demo world into data/demo (ACCOUNTS, SEED)

validate: demo-data ## Check the demo data against the data contract
	$(BIN)/retain validate --data $(DEMO)

run: validate train score ## Set up, simulate demo data, train and register, score every account
	@echo "Scores in outputs/scores.parquet. Next: make serve (API), make mlflow-ui (runs, registry)."

train: demo-data ## Train churn and upsell models on the demo data, log to MLflow, gate promotion (AS_OF)
	$(BIN)/retain train --data $(DEMO) $(if $(AS_OF),--as-of $(AS_OF))

retrain: $(STAMP) ## For cron: retrain, promote only a better model, monitor, write outputs/retrain/latest.md
	$(BIN)/retain retrain --data "$(SOURCE)"

models: $(STAMP) ## List registered model versions, aliases and test metrics
	$(BIN)/retain models

mlflow-ui: $(STAMP) ## Open the MLflow UI on retain's store (RETAIN_MLFLOW_URI or .env; default mlruns/)
	$(BIN)/mlflow ui --backend-store-uri "$(MLFLOW_STORE)"

score: $(STAMP) ## Score every active demo account into outputs/scores.parquet (nightly CRM sync)
	$(BIN)/retain score --data $(DEMO) --output outputs/scores.parquet

serve: $(STAMP) ## Start the scoring API (RETAIN_DATA from the environment or .env, default the demo world; RETAIN_API_KEYS)
	$(BIN)/retain serve --data "$(SOURCE)"

# The browser tests drive the system Chromium (apt), never a downloaded one.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "Install Chromium at $(CHROMIUM) (Debian/Ubuntu: chromium chromium-driver)"; exit 1; }
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y --no-install-recommends chromium chromium-driver

browser: $(CHROMIUM) ## Install the system Chromium the browser tests drive (apt, only if missing)

screenshots: $(STAMP) $(CHROMIUM) ## Screenshot each CSM page (small simulated world) into outputs/screenshots/
	$(BIN)/python -m tests.browser.screenshots outputs/screenshots

test: $(STAMP) $(CHROMIUM) ## Run the whole test suite (with the walkthrough notebook and the browser tests)
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder --nbmake tests notebooks

test-fast: $(STAMP) ## The inner loop: every test not marked slow, spark or browser (no 2,000-account worlds, no Spark, no Chromium)
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder -m "not slow and not spark and not browser" tests

lint: $(STAMP) ## Run ruff, mypy and the layer check (import-linter: layers point down only)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy features actions training serving simulator store retain tests
	$(BIN)/lint-imports

bench: $(STAMP) ## Benchmarks: features over >= 10M events vs pandas; the same features on Spark vs DuckDB (3M events); a CSV export stored once vs read through views; API latency vs mlflow serve; weekly plan vs greedy; store writes vs plain drivers; the uplift learner with one BLAS thread vs the default, and its fits on two threads vs one; the bootstrap of a ROC-AUC gap vs scikit-learn per resample; a recorded touchpoint spliced into the features vs the whole snapshot computed again; the monitor's drift of 100 features; a manager's portfolio page vs a trivial page
	@set -e; for bench in bench/bench_*.py; do echo "== $$bench"; $(BIN)/python $$bench; done

closed-loop: $(STAMP) ## The loop on the simulator: 12 months of plan, act, record, retrain; with and without randomized slices vs the playbook (outputs/closed-loop/)
	$(BIN)/retain closed-loop --output outputs/closed-loop

clean: ## Remove generated data, outputs, the MLflow store and caches (keeps .venv and var/: the service's store of touchpoints, plans and scores, and the monitor results)
	rm -rf data outputs .pytest_cache .mypy_cache .ruff_cache
	find mlruns -mindepth 1 ! -name .gitkeep -delete
