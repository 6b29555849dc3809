# The few targets people reach for. `make run` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed

.PHONY: run test lint typecheck bench quality chaos services clean

$(RUNTIME): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(RUNTIME)

$(DEV): $(RUNTIME)
	$(BIN)/pip install -q -e ".[dev]"
	touch $(DEV)

run: $(RUNTIME)  ## the whole product on embedded defaults: http://127.0.0.1:8000
	$(BIN)/chatsvg serve

lint: $(DEV)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src
	$(BIN)/lint-imports

typecheck: $(DEV)
	$(BIN)/mypy

services:
	-./scripts/ensure-services.sh

test: $(DEV) services lint typecheck  ## every check and every test
	$(BIN)/pytest -q

# Production mode (2 API + 2 worker processes) under model 429s/500s and 3 s outages of Redis,
# Postgres and S3, each scenario on its own, three times (tests/chaos/test_chaos.py). `make test`
# runs the combined scenario once.
chaos: $(DEV) services
	CHAOS_SCENARIOS=model,redis,postgres,s3,all CHAOS_RUNS=$${CHAOS_RUNS:-3} \
		$(BIN)/pytest -q tests/chaos/test_chaos.py -s -o log_cli=false

bench: $(DEV) services
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) || echo "install wrk for the accept-path ceiling"
	$(BIN)/python bench/run_all.py

# Picture quality: fixed prompts x the nine styles through the offline model (no network, no
# services), or any OpenAI-compatible model: make quality QUALITY_ARGS="--base-url URL --model NAME".
quality: $(DEV)
	$(BIN)/python bench/quality.py $(QUALITY_ARGS)

clean:
	rm -rf $(VENV) .chatsvg .pytest_cache .mypy_cache .ruff_cache
