"""Real servers for the LLM-mode tests: environment helpers, `StatusProxy` (a real HTTP server in
front of llama.cpp answering some requests with an error status) and `SilentServer` (accepts
connections and never answers)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

from rag.net import free_port


ROOT = Path(__file__).resolve().parents[2]  # the repository


LOGS = ROOT / "tests" / "artifacts"


MODEL_CACHE = LOGS / "models"  # the joined GGUF, reused by later sessions (like <data dir>/models)


def llm_env(server_env: dict[str, str], data_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a `rag` subprocess in LLM mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
    env.update(server_env)
    env["RAG_DATA_DIR"] = str(data_dir)
    env.update(overrides)
    return env


def run_rag(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=600)


def library_for(env: dict[str, str]):
    """A Library configured from `env` (as a subprocess with that environment would be)."""
    from rag.library import Library
    from rag.settings import Settings

    names = {"RAG_DATA_DIR", "RAG_LLM", "OPENAI_BASE_URL", "OPENAI_API_KEY", "RAG_LLM_MODEL",
             "RAG_LLM_CONTEXT_WINDOW", "RAG_LLM_TIMEOUT"}
    return Library(Settings(**{k: v for k, v in env.items() if k in names}))


@dataclass
class StatusProxy:
    """An HTTP server that answers the first `count` requests whose path starts with `path` with
    `status` (OpenAI-style JSON error body) and forwards every other request to `upstream`,
    recording each forwarded request's path, body and the upstream's response body in `exchanges`
    (with `count=0` it is a recording proxy)."""

    upstream: str
    status: int = 0
    count: int = 1_000_000
    path: str = "/v1/chat/completions"
    hits: list[tuple[str, str, int]] = field(default_factory=list)
    exchanges: list[tuple[str, bytes, bytes]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "StatusProxy":
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection closes: simple streaming

            def log_message(self, *args):
                pass

            def _handle(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith(proxy.path) and proxy.count > 0:
                    proxy.count -= 1
                    proxy.hits.append((self.command, self.path, proxy.status))
                    self._error()
                    return
                proxy.hits.append((self.command, self.path, 0))
                self._forward(body)

            def _error(self):
                payload = json.dumps({"error": {"message": f"status {proxy.status} from the test proxy",
                                                "type": "test_proxy", "code": proxy.status}}).encode()
                self.send_response(proxy.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(payload)

            def _forward(self, body: bytes):
                target = urlparse(proxy.upstream)
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=600)
                headers = {k: v for k, v in self.headers.items() if k.lower() in {"content-type", "authorization", "accept"}}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                response = conn.getresponse()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in {"transfer-encoding", "connection", "content-length", "date", "server"}:
                        self.send_header(key, value)
                self.end_headers()
                received = []
                while chunk := response.read1(65536):
                    received.append(chunk)
                    self.wfile.write(chunk)
                    self.wfile.flush()
                conn.close()
                proxy.exchanges.append((self.path, body, b"".join(received)))

            do_GET = do_POST = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def rejected(self) -> int:
        return sum(1 for *_, status in self.hits if status)

    def __enter__(self) -> "StatusProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def streamed_content(body: bytes) -> str:
    """The reply text of a streamed (server-sent events) chat completion response body."""
    parts = []
    for line in body.decode("utf-8").splitlines():
        if line.startswith("data:") and line[5:].strip() != "[DONE]":
            for choice in json.loads(line[5:]).get("choices", []):
                parts.append((choice.get("delta") or {}).get("content") or "")
    return "".join(parts)


class SilentServer:
    """Accepts TCP connections and never answers: a hung LLM server."""

    def __init__(self):
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._connections: list[socket.socket] = []
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}/v1"

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._socket.accept()
            except OSError:
                return
            self._connections.append(conn)

    def stop(self) -> None:
        self._stopped.set()
        self._socket.close()
        for conn in self._connections:
            conn.close()


def closed_port_url() -> str:
    """A URL on which nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}/v1"
