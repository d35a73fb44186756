# Two commands on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
RAG := $(VENV)/bin/rag
export HF_HUB_OFFLINE=1
export ORT_DISABLE_TELEMETRY=1
export GRADIO_ANALYTICS_ENABLED=False
export ANONYMIZED_TELEMETRY=False

.PHONY: setup run test eval bench browser clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; it downloads no browser itself).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

run: setup
	$(RAG) add corpus/
	$(RAG) chat

test: setup browser
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/bench_core.py

clean:
	rm -rf .rag .pytest_cache tests/artifacts
