# Thin wrappers a newcomer can read. Everything installs into .venv/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH := torch==2.13.0

.PHONY: demo test test-fast lint serve bench fuzz install browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the CPU wheel; an unpinned torch would pull a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[train,serve,ray,dev,report]"
	touch $(STAMP)

install: $(STAMP)

# Debian's chromium for the browser test (never `playwright install`).
browser:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; the browser test will be skipped"; }

demo: $(STAMP)
	@mkdir -p out
	$(BIN)/netral score data/samples/feed.jsonl -o out/demo.jsonl
	$(BIN)/netral report out/demo.jsonl

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

test: $(STAMP) browser lint
	$(BIN)/netral data validate data/annotations --require-rationales
	$(BIN)/python -m pytest

# The edit loop: everything but the slow tests (retraining the shipped model, the browser).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

serve: $(STAMP)
	$(BIN)/netral serve

# schemathesis, every check, ~4,000 cases against a live service: no 500, no status the
# OpenAPI document does not list (tests/fuzz_service.py; about a minute).
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz_service.py

bench: $(STAMP)
	$(BIN)/python bench/score_throughput.py
	$(BIN)/python bench/api_latency.py
	$(BIN)/python bench/transformer_inference.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
