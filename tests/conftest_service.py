"""Fixtures for the service tests: one live `rag serve` per session over its own data directory.

A pytest plugin (registered in tests/conftest.py). The data directory holds corpus/ (added by a
`rag add` subprocess); the server runs in extractive mode (no model), on a free loopback port,
and is stopped by its PID. Tests that add articles remove them again, so the corpus the
server answers from is the shipped one whenever a test starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest_ui import ROOT, Server, start_server, stop_server

SERVE = ("rag", "serve")
# The LLM settings are cleared so answers are extractive whatever the environment holds.
OFFLINE = {"RAG_LLM": "none", "OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "RAG_API_KEYS": ""}
TEST_KEY = "test-key-0123456789abcdef"


def index_corpus(data_dir: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "rag", "--data-dir", str(data_dir), "add", "corpus/"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, env={**os.environ, **OFFLINE})
    assert run.returncode == 0, run.stderr[-3000:]


def server_threads(server: Server) -> int:
    """Threads of the server process now (Linux: /proc/PID/task)."""
    return len(os.listdir(f"/proc/{server.process.pid}/task"))


def wait_until(condition, timeout: float = 60.0, every: float = 0.2):
    """Poll `condition` until it returns a truthy value; that value, or None at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    return None


@pytest.fixture(scope="session")
def service_data(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("service-data")
    index_corpus(data_dir)
    return data_dir


@pytest.fixture(scope="session")
def serve_server(service_data, tmp_path_factory):
    """`rag serve` (UI, /v1, /mcp) over the corpus, no keys; `.url` ends with '/'."""
    server = start_server(service_data, tmp_path_factory.mktemp("serve-log") / "serve.log", env=OFFLINE,
                          command=SERVE)
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def api_base(serve_server) -> str:
    return serve_server.url.rstrip("/")
