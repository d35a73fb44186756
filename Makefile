# Two commands on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
RAG := $(VENV)/bin/rag
SQUAD ?= ../shared/datasets/squad-v1.1/dev-half-a.json
export HF_HUB_OFFLINE=1
export ORT_DISABLE_TELEMETRY=1
export GRADIO_ANALYTICS_ENABLED=False
export ANONYMIZED_TELEMETRY=False

.PHONY: setup run test eval bench bench-full browser clean local-llm stress

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,local-llm]'
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; it downloads no browser itself).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

run: setup
	$(RAG) add corpus/
	$(RAG) serve

# The import layers (pyproject.toml's [tool.importlinter]), then the whole suite, including the
# bundled eval gate (tests/test_eval_run.py::test_bundled_gate).
test: setup browser
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q --durations=15

# The bundled eval set over corpus/; report in evals/runs/<timestamp>/.
eval: setup
	$(RAG) eval --format jsonl --dataset evals/corpus_questions.jsonl --corpus corpus/

# Ingestion against the textbook LlamaIndex pipeline, levers, and latency vs. library size; JSON
# and PNG in bench/results/. `bench` is the quick version (minutes); `bench-full` runs everything.
bench: setup
	$(PY) -m bench.bench_ingest --quick --squad $(SQUAD) --out ingest-quick
	$(PY) -m bench.bench_scale --sizes 2500 --base-docs 40 --questions 30 --adds 3 --out scale-quick

bench-full: setup
	$(PY) -m bench.bench_ingest --levers --squad $(SQUAD) --rtqa-docs 500 --out ingest-full
	$(PY) -m bench.bench_scale --sizes 2500 25000 100000 --server --out scale-full
	$(PY) -m bench.bench_memory --docs 2453 --out memory-full

# Longer reliability runs (tests/ runs short versions): `rag add` of 200 articles killed with
# SIGKILL 20 times, a full disk (as root), then 8 askers with a writer process for 60 s.
stress: setup
	$(PY) -m bench.stress_crash --articles 200 --kills 20 --disk-full
	$(PY) -m bench.stress_concurrency --seconds 60 --askers 8

# A local OpenAI-compatible server (llama.cpp via xllamacpp + Qwen2.5 1.5B) for LLM mode without
# an API key; it prints the environment to use in another shell. Ctrl-C stops it.
local-llm: setup
	$(RAG) llm-server --model qwen1.5b --port 8080

clean:
	rm -rf .rag .pytest_cache tests/artifacts .eval-cache evals/runs
