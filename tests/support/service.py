"""`rag serve` in the tests: its environment, a corpus to serve, and the server's thread count."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.ui_server import ROOT, Server

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
