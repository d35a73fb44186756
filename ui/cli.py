"""`rag ui`: serve the web app on one shared Library."""

from __future__ import annotations

import click

from rag.cli.common import data_dir_option, open_library
from rag.errors import InputError


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """USER:PASSWORD into a tuple; None when unset."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise InputError("--auth / RAG_UI_AUTH must look like USER:PASSWORD")
    return user, password


@click.command(name="ui")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--auth", envvar="RAG_UI_AUTH", default=None, metavar="USER:PASSWORD",
              help="Require this login (or set RAG_UI_AUTH).")
@click.option("--watch", "watch_dir", default=None, type=click.Path(file_okay=False), metavar="DIR",
              help="Keep following this folder while the app runs (like `rag watch DIR`).")
@click.option("--sync-deletes", is_flag=True, help="With --watch: remove the articles of deleted files.")
@data_dir_option
@click.pass_context
def command(ctx, host, port, auth, watch_dir, sync_deletes):
    """Start the web app: chat with cited sources, add articles, browse the library."""
    credentials = parse_auth(auth)
    library = open_library(ctx)
    from ui.app import launch

    watcher = None
    if watch_dir:
        # The folder is chosen by whoever starts the server, never by a browser session.
        from rag.ingest.watch import FolderWatch, WatchThread

        watcher = WatchThread(FolderWatch(library, watch_dir, sync_deletes=sync_deletes)).start()
    try:
        launch(library, host=host, port=port, auth=credentials, watcher=watcher)
    except OSError as exc:
        if "port" not in str(exc).lower():
            raise
        raise InputError(f"cannot listen on {host}:{port}: the port is in use or not allowed "
                         "(choose another with --port)") from None
