# nexusfin: `make help` lists the targets. Every target sets up .venv itself on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
STAMP  := $(VENV)/.installed
UV_VERSION := 0.13.8

# One demo world; override e.g. `make demo DEMO_ACCOUNTS=50000 DEMO_DAYS=30`.
DEMO_DIR      ?= var/demo
DEMO_ACCOUNTS ?= 5000
DEMO_DAYS     ?= 28
DEMO_SEED     ?= 7

export TZ := UTC
export NUMBA_CACHE_DIR ?= $(CURDIR)/var/numba_cache
export PYTHONHASHSEED := 0

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is required (python3.11 or python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install --quiet --python $(PY) -r requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned dependencies (requirements.lock)

lock: $(STAMP) ## Re-resolve requirements.lock from pyproject.toml
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

demo: $(STAMP) ## Generate a synthetic world and run every stage on local Parquet + DuckDB
	$(PY) -m nexusfin.demo --out $(DEMO_DIR) --accounts $(DEMO_ACCOUNTS) --days $(DEMO_DAYS) --seed $(DEMO_SEED)

CHROMIUM ?= /usr/bin/chromium

browser: ## Install Debian's chromium for the browser test (apt-get; playwright downloads no browser)
	@test -x $(CHROMIUM) || { \
	  command -v apt-get >/dev/null || { echo "the browser test needs Debian's chromium at $(CHROMIUM) (apt-get not found)"; exit 1; }; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing Debian's chromium for the browser test (apt-get)"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@test -x $(CHROMIUM) && echo "browser: $$($(CHROMIUM) --version 2>/dev/null)"

review: $(STAMP) ## Start the analyst review app over the demo warehouse on http://127.0.0.1:8501
	NEXUSFIN_WAREHOUSE=$(CURDIR)/$(DEMO_DIR)/warehouse.duckdb NEXUSFIN_REVIEW_STORE=$(CURDIR)/$(DEMO_DIR)/review/review.sqlite \
	$(VENV)/bin/nexusfin review --host 127.0.0.1 --port 8501

test: $(STAMP) browser ## Run the test suite (exit 5, "no tests collected", counts as a failure)
	@$(PY) -m pytest -q -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi; exit $$rc

test-fast: $(STAMP) ## Run the suite without tests marked slow
	$(PY) -m pytest -q -m "not slow"

lint: $(STAMP) ## ruff check + format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP) ## Run the benchmarks in bench/ (results in docs/benchmarks.md and var/bench/)
	$(PY) -m bench

dagster: $(STAMP) ## Start the Dagster UI on http://localhost:3000 over pipelines/
	export DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/$(DEMO_DIR)/dagster_home} ; mkdir -p $$DAGSTER_HOME ; test -f $$DAGSTER_HOME/dagster.yaml || printf 'telemetry:\n  enabled: false\n' > $$DAGSTER_HOME/dagster.yaml ; \
	NEXUSFIN_DATA_ROOT=$(CURDIR)/$(DEMO_DIR)/world NEXUSFIN_LAKE=$(CURDIR)/$(DEMO_DIR)/lake \
	NEXUSFIN_WAREHOUSE=$(CURDIR)/$(DEMO_DIR)/warehouse.duckdb \
	$(VENV)/bin/dagster dev -m pipelines.definitions -h 127.0.0.1 -p 3000

clean: ## Remove generated data (var/), keep .venv
	rm -rf var

distclean: clean ## Remove generated data and .venv
	rm -rf $(VENV)

.PHONY: help install lock demo browser review test test-fast lint bench dagster clean distclean
