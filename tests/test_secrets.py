"""The API key never shows: not in CLI output or errors, not in --json, not in eval reports or
logs, even when the LLM server fails (401, 500) and echoes the key back in its error body.

The server is a real local HTTP server; `rag` runs as real subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-test-SECRET-3f9a1c77e0b24d5e8a6b"


class EchoingErrorServer:
    """/s401/v1/... answers 401, /s500/v1/... answers 500; both bodies quote the key they were sent,
    as real servers do ("Incorrect API key provided: sk-..."). /v1/models answers normally."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sent = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if self.path.endswith("/models"):
                    body, status = {"object": "list", "data": [{"id": "test-model", "object": "model"}]}, 200
                else:
                    status = 401 if self.path.startswith("/s401") else 500
                    body = {"error": {"message": f"Incorrect API key provided: {sent}. Key {sent} failed.",
                                      "type": "invalid_request_error", "code": status}}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _reply

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, status: int) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/s{status}/v1"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def echoing_server():
    server = EchoingErrorServer()
    yield server
    server.stop()


def env_for(server, status, data_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
    env.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=server.url(status), RAG_LLM="openai", RAG_LLM_MODEL="test-model",
               RAG_LLM_TIMEOUT="20", RAG_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    return env


def run(args, env, stdin=None):
    return subprocess.run([sys.executable, "-m", "rag", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=900)


def test_the_api_key_never_appears_in_any_output(echoing_server, corpus_library, tmp_path):
    data_dir = corpus_library.settings.data_dir
    outputs = {}
    for status in (401, 500):
        env = env_for(echoing_server, status, data_dir)
        for name, args, stdin in (
            ("ask", ["ask", "Who is the Kremlin spokesperson?"], None),
            ("ask-json", ["ask", "--json", "Who is the Kremlin spokesperson?"], None),
            ("chat", ["chat"], "Who is the Kremlin spokesperson?\nWhat did he say?\n\n"),
        ):
            result = run(args, env, stdin)
            outputs[f"{name}-{status}"] = (result.returncode, result.stdout + result.stderr)
    # The server really was reached and failed: the notice names the failure, without the key.
    assert "401" in outputs["ask-401"][1] and "500" in outputs["ask-500"][1], outputs["ask-500"]
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "k1", "question": "Who is the Kremlin spokesperson?", "answers": ["Peskov"],
                                     "evidence": [], "answerable": True, "history": []}) + "\n")
    out = tmp_path / "run"
    result = run(["eval", "--format", "jsonl", "--dataset", str(questions), "--corpus", str(ROOT / "corpus"),
                  "--data-dir", str(tmp_path / "eval-data"), "--out", str(out), "--mode", "llm"],
                 env_for(echoing_server, 500, tmp_path / "eval-data"))
    outputs["eval"] = (result.returncode, result.stdout + result.stderr)
    files = [p for p in out.rglob("*") if p.is_file()] + [p for p in (tmp_path / "eval-data").rglob("*") if p.is_file()]
    assert any(p.name == "report.html" for p in files), outputs["eval"]
    leaks = [name for name, (_, text) in outputs.items() if KEY in text or KEY[8:] in text]
    leaks += [str(p) for p in files if KEY.encode() in p.read_bytes() or KEY[8:].encode() in p.read_bytes()]
    assert leaks == [], leaks


def _external_address() -> str | None:
    """This machine's address on its default route (a UDP connect sends nothing), if any."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_the_ui_listens_only_on_loopback_by_default(ui_server):
    import socket
    from urllib.parse import urlparse

    port = urlparse(ui_server.url).port
    socket.create_connection(("127.0.0.1", port), timeout=10).close()
    address = _external_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to try")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((address, port), timeout=10)
