"""`rag serve`'s one ASGI app: the UI at /, the API under /v1, MCP at /mcp, over one `Library`.

Routes are tried in order: /healthz, /v1 and /mcp first, then the Gradio app mounted at /
(which matches every other path). The app's lifespan runs MCP's session manager and the feed
scheduler; Gradio adds its own startup inside it (`gr.mount_gradio_app`).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from service import api, chat, errors, stories
from service.auth import Guard

DEFAULT_MAX_BODY = 1_000_000  # bytes for /v1 JSON bodies other than articles: a question is small


@dataclass(frozen=True)
class ServeOptions:
    """How `rag serve` exposes the library (everything here comes from its flags)."""

    host: str = "127.0.0.1"
    port: int = 8000
    keys: tuple[str, ...] = ()
    ui: bool = True
    ui_auth: tuple[str, str] | None = None
    allow_writes: bool = False  # MCP's add_url tool
    feeds: bool = True  # refresh followed feeds in the background


def max_body(library) -> int:
    """The /v1 body cap: an article's text may be as large as a file `rag add` accepts."""
    return max(DEFAULT_MAX_BODY, int(library.settings.max_file_mb * 1_000_000) + 64_000)


def create_app(library, options: ServeOptions = ServeOptions()):
    """The ASGI app (FastAPI wrapped in the key/body guard); `app.state.library` is `library`."""
    from service.mcp import build_server

    mcp_server = build_server(library, allow_writes=options.allow_writes)
    mcp_app = mcp_server.streamable_http_app(streamable_http_path="/mcp", host=options.host)

    @asynccontextmanager
    async def lifespan(_app):
        scheduler = None
        if options.feeds:
            from ui.app import start_feed_scheduler

            scheduler = start_feed_scheduler(library)
        try:
            # A mounted app's lifespan never runs: the host app runs MCP's session manager.
            async with mcp_server.session_manager.run():
                yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)

    app = FastAPI(title="newsground", version="1", lifespan=lifespan, docs_url="/docs", redoc_url=None,
                  description="Grounded answers over news articles; every citation is a verified span "
                              "(article id, code-point offsets, the exact quote).")
    app.state.library = library
    errors.install(app, library.settings.openai_api_key)

    @app.get("/healthz", summary="Health check (no key needed)")
    def healthz():
        return {"status": "ok"}

    app.include_router(chat.router)
    app.include_router(api.router)
    app.include_router(stories.router)

    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(rest: str):
        return errors.error_response(404, f"no endpoint /v1/{rest} (see /docs)", code="unknown_endpoint")

    app.router.routes.extend(mcp_app.routes)  # /mcp
    if options.ui:
        mount_ui(app, library, options)
    return Guard(app, options.keys, max_body(library))


def mount_ui(app: FastAPI, library, options: ServeOptions) -> None:
    """The Gradio app at /, as `rag ui` serves it."""
    import gradio as gr

    from ui.app import local_model, page_options
    from ui.layout import build_app

    blocks = build_app(library, None, local_model(library)).queue()
    gr.mount_gradio_app(app, blocks, path="/", server_name=options.host, server_port=options.port,
                        **page_options(library, options.ui_auth))
