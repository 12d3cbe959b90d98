# Thin wrappers a newcomer can read. Everything installs into .venv/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH := torch==2.13.0

.PHONY: demo test lint serve bench install browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the CPU wheel; an unpinned torch would pull a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[train,serve,dev,report]"
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
	$(BIN)/netral data validate data/annotations
	$(BIN)/python -m pytest

serve: $(STAMP)
	$(BIN)/netral serve

bench: $(STAMP)
	$(BIN)/python bench/score_throughput.py
	$(BIN)/python bench/api_latency.py
	$(BIN)/python bench/transformer_inference.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
