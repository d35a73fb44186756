"""Every LLM failure gives one line naming the cause and the setting, then an extractive answer.

Failures come from real servers: the llama.cpp server (xllamacpp, Qwen2.5 1.5B) (wrong model name, wrong API key, a
context window smaller than configured), a closed port, a server that never answers, and a real
HTTP proxy in front of llama.cpp for the statuses it cannot produce (429 rate limits, 404).
"""

from __future__ import annotations

import json
import re

import pytest

from tests.support.llm_servers import SilentServer, StatusProxy, closed_port_url, library_for, llm_env, run_rag

pytestmark = pytest.mark.server

QUESTION = "Who is the Kremlin spokesperson?"
CITED = re.compile(r"\[1\]")


def ask_cli(env: dict[str, str], question: str = QUESTION):
    """`rag ask` in LLM mode: (stdout, the one `note:` line, whole stderr)."""
    result = run_rag(["ask", "--mode", "llm", question], env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1, result.stderr
    return result.stdout, notes[0], result.stderr


def assert_fallback(stdout: str, note: str, *phrases: str) -> None:
    """The notice names the cause and the setting; the extractive answer is shown with citations."""
    assert "Answered in extractive mode instead" in note
    for phrase in phrases:
        assert phrase in note, note
    assert "Peskov" in stdout and CITED.search(stdout), stdout
    assert "“" in stdout  # the verbatim quote under the citation


def test_unknown_model_name(llm_server, corpus_dir):
    # llama.cpp answers with its one model whatever name it is sent; the model list tells.
    stdout, note, _ = ask_cli(llm_env(llm_server.env(), corpus_dir, RAG_LLM_MODEL="gpt-nope"))
    assert_fallback(stdout, note, "'gpt-nope' is not served", llm_server.alias, "RAG_LLM_MODEL")


def test_model_not_found_status(llm_server, corpus_dir):
    with StatusProxy(llm_server.base_url.removesuffix("/v1"), status=404) as proxy:
        stdout, note, _ = ask_cli(llm_env(llm_server.env(), corpus_dir, OPENAI_BASE_URL=proxy.base_url))
    assert_fallback(stdout, note, "(404)", "RAG_LLM_MODEL")


def test_wrong_api_key(llm_keyed_server, corpus_dir):
    env = llm_env(llm_keyed_server.env(), corpus_dir, OPENAI_API_KEY="wrong", RAG_LLM_CONTEXT_WINDOW="2048")
    stdout, note, _ = ask_cli(env)
    assert_fallback(stdout, note, "(401)", "OPENAI_API_KEY")


def test_context_window_smaller_than_configured(llm_keyed_server, corpus_dir):
    # The server holds 256 tokens; the settings claim 2048, so the prompt cannot fit.
    env = llm_env(llm_keyed_server.env(), corpus_dir, RAG_LLM_CONTEXT_WINDOW="2048")
    stdout, note, _ = ask_cli(env)
    assert_fallback(stdout, note, "context window", "RAG_LLM_CONTEXT_WINDOW=256")


def test_context_window_too_small_for_any_evidence(llm_server, corpus_dir):
    stdout, note, _ = ask_cli(llm_env(llm_server.env(), corpus_dir, RAG_LLM_CONTEXT_WINDOW="300"))
    assert_fallback(stdout, note, "RAG_LLM_CONTEXT_WINDOW=300 leaves no room")


def test_server_down(llm_server, corpus_dir):
    env = llm_env(llm_server.env(), corpus_dir, OPENAI_BASE_URL=closed_port_url())
    stdout, note, _ = ask_cli(env)
    assert_fallback(stdout, note, "cannot reach", "OPENAI_BASE_URL")
    result = run_rag(["ask", "--json", "--mode", "llm", QUESTION], env)
    answer = json.loads(result.stdout)
    assert answer["mode"] == "extractive" and "OPENAI_BASE_URL" in answer["notice"]
    assert answer["citations"] and not answer["abstained"]


def test_server_that_never_answers(llm_server, corpus_dir):
    silent = SilentServer()
    try:
        env = llm_env(llm_server.env(), corpus_dir, OPENAI_BASE_URL=silent.base_url, RAG_LLM_TIMEOUT="1.5")
        stdout, note, _ = ask_cli(env)
    finally:
        silent.stop()
    assert_fallback(stdout, note, "did not answer within 1.5s", "RAG_LLM_TIMEOUT")


def test_rate_limit_is_retried_then_reported(llm_server, corpus_dir):
    with StatusProxy(llm_server.base_url.removesuffix("/v1"), status=429) as proxy:
        stdout, note, _ = ask_cli(llm_env(llm_server.env(), corpus_dir, OPENAI_BASE_URL=proxy.base_url))
    assert_fallback(stdout, note, "(429) after 3 tries", "OPENAI_API_KEY")
    assert proxy.rejected() == 3


def test_rate_limit_then_success(llm_server, corpus_dir):
    with StatusProxy(llm_server.base_url.removesuffix("/v1"), status=429, count=2) as proxy:
        library = library_for(llm_env(llm_server.env(), corpus_dir, OPENAI_BASE_URL=proxy.base_url))
        answer = library.ask(QUESTION, mode="llm")
    assert answer.mode == "llm" and answer.notice is None
    posts = [status for method, _, status in proxy.hits if method == "POST"]
    # Two 429s, then the answer; then one-token judge requests confirming paraphrased sentences.
    assert posts[:3] == [429, 429, 0] and all(status == 0 for status in posts[3:]), posts


def test_condensing_falls_back_when_the_server_is_down(llm_server, corpus_dir):
    env = llm_env(llm_server.env(), corpus_dir, OPENAI_BASE_URL=closed_port_url())
    result = run_rag(["chat", "--mode", "llm"], env, stdin=f"{QUESTION}\nWhat did he say about the peace deal?\n\n")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 2 and all("OPENAI_BASE_URL" in n for n in notes), result.stderr
    assert "(searched for: " in result.stdout  # the offline rewrite of the follow-up
