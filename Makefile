# Two commands a newcomer needs: `make run` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: install run index test test-fast lint eval bench browser-deps clean

install: $(STAMP)

# Re-installs only when pyproject.toml changes; torch is pinned and installed first (CPU build).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

index: install
	$(BIN)/qa index

# Brings the index up to date first; an index built with other chunk settings is rebuilt.
run: install
	$(BIN)/qa index || $(BIN)/qa index --rebuild
	$(BIN)/qa serve

browser-deps:
	@bash scripts/install-browser.sh

test: install browser-deps
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not browser"

lint: install
	$(BIN)/ruff check qa index ui tests bench
	$(BIN)/ruff format --check qa index ui tests bench
	$(BIN)/mypy

eval: install
	$(BIN)/qa eval --dataset eval_data/seed_dev.jsonl --corpus corpus --baseline
	$(BIN)/qa eval --dataset eval_data/external/squad2_dev_subset/rag_dataset.json --baseline
	$(BIN)/qa eval --dataset eval_data/external/covidqa_deepset_subset/rag_dataset.json --baseline

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf .qa-data test-artifacts bench/work
