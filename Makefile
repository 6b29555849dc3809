# The few targets people reach for. `make run` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed
# Every install is from the lock files (exact versions, checked against their hashes); only the
# project itself comes from the tree. `make lock` writes them from pyproject.toml.
RUNTIME_LOCK := requirements/runtime.lock
DEV_LOCK := requirements/dev.lock
# One lock for every platform (uv's universal resolution: Linux in the image, any developer's
# machine), Python 3.11 and up, with the hashes of every file of each pinned release.
LOCK_OPTIONS := --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" --quiet

.PHONY: run test lint typecheck bench quality chaos services clean

.PHONY: lock test-fast

$(RUNTIME): pyproject.toml $(RUNTIME_LOCK)
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r $(RUNTIME_LOCK)
	$(BIN)/pip install -q --no-deps -e .
	touch $(RUNTIME)

$(DEV): $(RUNTIME) $(DEV_LOCK)
	$(BIN)/pip install -q --require-hashes -r $(DEV_LOCK)
	touch $(DEV)

# Re-resolve both locks from pyproject.toml, keeping every pin that still satisfies it (the
# runtime lock takes the dev lock's versions). Move pins forward with
# `make lock LOCK_ARGS=--upgrade` or `LOCK_ARGS="--upgrade-package NAME"`.
lock: $(DEV)
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_OPTIONS) $(LOCK_ARGS) -o $(DEV_LOCK)
	$(BIN)/uv pip compile pyproject.toml -c $(DEV_LOCK) $(LOCK_OPTIONS) $(LOCK_ARGS) -o $(RUNTIME_LOCK)

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

# Domain and application on the in-memory fakes and SQLite, every feature's flows on an
# in-process server: no Postgres, Redis, S3, browser or CLI subprocesses. About 90 seconds.
test-fast: $(DEV)
	$(BIN)/pytest -q -p no:cacheprovider -m "not real and not browser and not subprocess" \
		tests/unit tests/behaviour tests/accounts tests/generation tests/billing \
		tests/keys tests/mcp tests/admin tests/support tests/offline tests/security $(PYTEST_ARGS)

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
