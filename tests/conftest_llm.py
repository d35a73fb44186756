"""Fixtures for the LLM-mode tests: a real llama.cpp server and small real TCP/HTTP servers.

`llm_server` is llama.cpp's server (xllamacpp, through `rag.llm.server.LocalLLMServer`) serving
Qwen2.5-Coder-1.5B-Instruct from the `local-llm` extra's model packages, joined once into
tests/artifacts/models and reused, started once per session on a free 127.0.0.1 port and
stopped by its PID. For failures llama.cpp cannot produce (it has no rate
limit, and serves any model name), `StatusProxy` is a real HTTP server in front of it that
answers some requests with an error status and forwards the rest; `SilentServer` accepts
connections and never answers (a hung server). The server fixtures skip the tests that use them
when the local-llm extra (xllamacpp) is not installed; the helpers (`tests.support.llm_servers`)
need no extra."""

from __future__ import annotations

import pytest

from rag.llm.server import LocalLLMServer
from tests.support.llm_servers import LOGS, MODEL_CACHE


def _server(name: str, **options) -> LocalLLMServer:
    pytest.importorskip("xllamacpp", reason="needs the local-llm extra: pip install -e '.[local-llm]'")
    LOGS.mkdir(parents=True, exist_ok=True)
    return LocalLLMServer.for_model("qwen1.5b", MODEL_CACHE, log_path=LOGS / f"{name}.log", **options).start()


@pytest.fixture(scope="session")
def llm_server():
    """The local OpenAI-compatible server every LLM-mode test talks to."""
    server = _server("llm-server", n_ctx=2048, threads=2)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def llm_keyed_server():
    """A second real server that demands an API key and has a small context window (256 tokens)."""
    server = _server("llm-server-keyed", n_ctx=256, threads=1, api_key="sesame")
    yield server
    server.stop()
