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
export MLFLOW_TRACKING_URI ?= sqlite:///mlruns/mlflow.db

.PHONY: help install run demo-data validate features train models serve mlflow-ui test test-fast lint bench clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install retain with its dev tools

$(DEMO)/accounts.parquet: | $(STAMP)
	$(BIN)/retain simulate --accounts $(ACCOUNTS) --seed $(SEED) --out $(DEMO)

demo-data: $(DEMO)/accounts.parquet ## Simulate the demo world into data/demo (ACCOUNTS, SEED)

validate: demo-data ## Check the demo data against the data contract
	$(BIN)/retain validate --data $(DEMO)

run: validate ## Set up, simulate demo data and run the main job end to end

test: $(STAMP) ## Run the whole test suite
	$(BIN)/pytest -n 2 --dist loadfile

lint: $(STAMP) ## Run ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy features training serving simulator

clean: ## Remove generated data, MLflow store and caches (keeps .venv)
	rm -rf data outputs .pytest_cache .mypy_cache .ruff_cache
	find mlruns -mindepth 1 ! -name .gitkeep -delete
