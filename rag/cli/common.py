"""What every `rag` command shares: the invocation's settings and library, and the common options."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import click

from rag.safe_output import clean, redact
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


def echo_lines(lines: Iterable[str], empty: str = "") -> None:
    """Print lines for people, control characters made visible (titles and text come from anywhere);
    `empty` when there are none."""
    printed = False
    for line in lines:
        click.echo(clean(line))
        printed = True
    if not printed and empty:
        click.echo(empty)


def report(as_json: bool, data, lines: Iterable[str] = (), empty: str = "") -> None:
    """A command's result: `data` as JSON with --json, otherwise `lines` (see `echo_lines`). Pass
    `lines` as a generator when making them costs work that --json does not need."""
    if as_json:
        emit_json(data)
    else:
        echo_lines(lines, empty)


def echo_error(ctx: click.Context, exc: Exception) -> None:
    """One line on stderr for a failed command: control characters made visible, and the API key
    redacted (servers echo a rejected key in their errors)."""
    click.echo(f"error: {clean(redact(exc, settings_from(ctx).openai_api_key))}", err=True)


def result_lines(results) -> Iterator[str]:
    """One line per input of an add (`AddResult`): status, input, the article it became, and why."""
    for r in results:
        detail = f" ({r.reason})" if r.reason else ""
        target = f" -> {r.article_id}" if r.article_id else ""
        yield f"{r.status:9} {r.path}{target}{detail}"


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
