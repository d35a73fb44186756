"""`rag serve` (UI + /v1 API + /mcp over HTTP) and `rag mcp` (MCP over stdio): thin click commands."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import click

from rag.cli.common import data_dir_option, open_library
from rag.errors import InputError


@click.command(name="serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (beyond loopback only with keys).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--api-key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File of API keys, one per line (also RAG_API_KEYS, comma-separated).")
@click.option("--auth", envvar="RAG_UI_AUTH", default=None, metavar="USER:PASSWORD",
              help="Require this login for the UI (or set RAG_UI_AUTH).")
@click.option("--no-ui", is_flag=True, help="Serve only the API and MCP.")
@click.option("--allow-writes", is_flag=True, help="Offer MCP's add_url tool.")
@data_dir_option
@click.pass_context
def serve(ctx, host, port, api_key_file, auth, no_ui, allow_writes):
    """Serve the UI at /, the API under /v1 (OpenAI-compatible chat, REST; docs at /docs) and MCP at /mcp."""
    import uvicorn

    from service.app import ServeOptions, create_app
    from service.auth import check_exposure, load_keys
    from ui.cli import parse_auth

    keys = load_keys(os.environ.get("RAG_API_KEYS"), api_key_file)
    ui_auth = parse_auth(auth)
    check_exposure(host, keys, ui_auth is not None, not no_ui)
    options = ServeOptions(host=host, port=port, keys=keys, ui=not no_ui, ui_auth=ui_auth, allow_writes=allow_writes)
    app = create_app(open_library(ctx), options)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"newsground on http://{shown}:{port}/ (API: /v1, docs: /docs, MCP: /mcp"
               f"{', API keys required' if keys else ''})", err=True)
    config = uvicorn.Config(app, host=host, port=port, log_level="info", access_log=True, server_header=False,
                            timeout_graceful_shutdown=5, lifespan="on")
    try:
        uvicorn.Server(config).run()
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (choose another with --port)") from None


@click.command(name="mcp")
@click.option("--allow-writes", is_flag=True, help="Offer the add_url tool.")
@data_dir_option
@click.pass_context
def mcp(ctx, allow_writes):
    """Serve MCP over stdio (for Claude Desktop and other local hosts); no key needed."""
    import anyio

    from service.mcp import build_server

    library = open_library(ctx)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    anyio.run(build_server(library, allow_writes=allow_writes).run_stdio_async)
