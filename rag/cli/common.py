"""What every `rag` command shares: the invocation's settings and library, and the common options."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rag.settings import Settings


def root_state(ctx: click.Context) -> dict:
    """The shared state of one invocation: settings (flags applied) and the opened library."""
    state = ctx.find_root().ensure_object(dict)
    if "settings" not in state:
        state["settings"] = Settings()
    return state


def settings_from(ctx: click.Context) -> Settings:
    return root_state(ctx)["settings"]


def open_library(ctx: click.Context):
    from rag.library import Library

    root = root_state(ctx)
    if "library" not in root:
        root["library"] = Library(root["settings"])
    return root["library"]


def emit_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(f)


def data_dir_option(f):
    def store(ctx, _param, value):
        if value is not None:
            root = root_state(ctx)
            root["settings"] = root["settings"].with_overrides(data_dir=value)
        return value

    return click.option("--data-dir", type=click.Path(path_type=Path), expose_value=False, callback=store,
                        is_eager=True, help="Data directory (default RAG_DATA_DIR or .rag).")(f)
