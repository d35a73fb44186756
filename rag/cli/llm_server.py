"""`rag llm-server`: serve the bundled local LLM with an OpenAI-compatible API."""

from __future__ import annotations

import signal
import sys

import click

from rag.cli.common import settings_from
from rag.llm.bundled import DEFAULT_MODEL, MODELS, model_cache_dir
from rag.llm.server import DEFAULT_CONTEXT, LocalLLMServer, default_threads


@click.command(name="llm-server")
@click.option("--model", default=DEFAULT_MODEL, show_default=True,
              help=f"{' | '.join(MODELS)} (installed model packages) or the path of a GGUF file.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--n-ctx", type=click.IntRange(256, 32768), default=DEFAULT_CONTEXT, show_default=True,
              help="Context window (tokens).")
@click.option("--threads", type=click.IntRange(1, 256), default=default_threads(), show_default=True,
              help="CPU threads.")
@click.option("--api-key", default=None, help="Require this key from clients.")
@click.pass_context
def command(ctx, model, port, host, n_ctx, threads, api_key):
    """Serve a local LLM (llama.cpp via xllamacpp, default Qwen2.5 1.5B) with an OpenAI-compatible API.

    Runs until Ctrl-C. Point newsground at it with the environment it prints.
    """
    cache = model_cache_dir(settings_from(ctx).data_dir)
    click.echo(f"preparing model {model} (first use joins its parts into {cache}) ...", err=True)
    server = LocalLLMServer.for_model(model, cache, port=port, host=host, n_ctx=n_ctx, threads=threads,
                                      api_key=api_key)
    click.echo(f"starting llama.cpp on {server.base_url} with {server.model_file.name} ...", err=True)
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
