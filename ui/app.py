"""The Gradio app's lifecycle: serving it over one `Library`, stopping on signals, the feed
scheduler and the bundled local model. Handlers live in `ui.handlers`, the page in `ui.layout`.

A thin client: every question, citation and article comes from `rag.Library`.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import gradio as gr

from rag.errors import RagError
from ui.layout import build_app

log = logging.getLogger(__name__)
HERE = Path(__file__).parent


def local_model(library):
    """The bundled model's server, started on first use, when the local-llm extra is installed."""
    from rag.llm import bundled
    from rag.llm.server import BackgroundServer

    if not bundled.installed(bundled.DEFAULT_MODEL):
        return None
    return BackgroundServer(bundled.DEFAULT_MODEL, bundled.model_cache_dir(library.settings.data_dir))


def launch(library, *, host: str = "127.0.0.1", port: int = 7860, auth: tuple[str, str] | None = None,
           block: bool = True, watcher=None) -> gr.Blocks:
    """Serve the app on host:port (uploads limited to the library's RAG_MAX_FILE_MB)."""
    app = build_app(library, watcher, local_model(library))
    if block and threading.current_thread() is threading.main_thread():
        # SIGTERM ends the app through sys.exit, so exit handlers (the local model's stop) run.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app.queue()
    scheduler = start_feed_scheduler(library)
    app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="Sign in to newsground." if auth else None,
        # Gradio counts in MiB and says "20.0 Mb"; the library's own limit (1e6 bytes per MB) still
        # rejects, with a per-file reason, anything between the two.
        max_file_size=int(library.settings.max_file_mb * 1024 * 1024),
        theme=gr.themes.Default(primary_hue="blue", neutral_hue="slate"),
        css_paths=[HERE / "style.css"],
        js=(HERE / "app.js").read_text(encoding="utf-8"),
        footer_links=[],
        run_history=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        show_error=True,
        prevent_thread_lock=not block,
        quiet=False,
    )
    if block:
        scheduler.shutdown(wait=False)
    return app


def start_feed_scheduler(library):
    """While the app runs, refresh the feeds that are due (each has its own interval) every
    RAG_FEED_CHECK_S seconds, in one background thread."""
    from apscheduler.schedulers.background import BackgroundScheduler

    def refresh_due() -> None:
        try:
            for refresh in library.feeds.refresh():
                log.info("feed %s: %s", refresh.url, refresh.summary())
        except RagError as exc:  # the next run tries again; the feed list shows each feed's result
            log.warning("feed refresh failed: %s", exc)

    scheduler = BackgroundScheduler(daemon=True)
    # max_instances=1 and coalesce: a slow refresh is never run twice at once or caught up in a burst.
    scheduler.add_job(refresh_due, "interval", seconds=library.settings.feed_check_s, max_instances=1, coalesce=True,
                      next_run_time=datetime.now(timezone.utc))
    scheduler.start()
    return scheduler
