"""`rag feeds ...` and `rag watch DIR`: following news feeds and folders (thin, over `Library`)."""

from __future__ import annotations

import threading

import click

from rag.cli.common import data_dir_option, echo_lines, json_option, open_library, report, result_lines


def _refresh_lines(refreshes) -> list[str]:
    return [line for r in refreshes for line in (f"{r.url}: {r.summary()}", *result_lines(r.results))]


@click.group()
@data_dir_option
def feeds():
    """Follow RSS, Atom and RDF feeds: new entries are added, changed ones updated."""


@feeds.command(name="add")
@click.argument("url")
@click.option("--every", default="30m", show_default=True, help="Refresh interval: 90s, 30m, 2h, 1d.")
@data_dir_option
@json_option
@click.pass_context
def feeds_add(ctx, url, every, as_json):
    """Follow a feed and add its entries now."""
    refresh = open_library(ctx).feeds.add(url, every)
    report(as_json, refresh.model_dump(), _refresh_lines([refresh]))
    ctx.exit(1 if any(r.status == "failed" for r in refresh.results) else 0)


@feeds.command(name="list")
@data_dir_option
@json_option
@click.pass_context
def feeds_list(ctx, as_json):
    """The followed feeds, with their last refresh and its result."""
    infos = open_library(ctx).feeds.list()

    def lines():
        for f in infos:
            every = f"{f.every_s // 60}m" if f.every_s % 3600 else f"{f.every_s // 3600}h"
            yield (f"{f.url}\tevery {every}\t{f.entries} entries\tchecked {f.checked_at or 'never'}\t"
                   f"{f.last_result or '-'}\t{f.title}")

    report(as_json, [f.model_dump(exclude={"etag", "last_modified"}) for f in infos], lines(),
           empty="No feeds yet: follow one with `rag feeds add URL`.")


@feeds.command(name="remove")
@click.argument("url")
@data_dir_option
@json_option
@click.pass_context
def feeds_remove(ctx, url, as_json):
    """Stop following a feed (its articles stay in the library)."""
    info = open_library(ctx).feeds.remove(url)
    report(as_json, {"removed": info.url},
           [f"stopped following {info.url} (its articles stay; remove them with `rag remove ID`)"])


@feeds.command(name="refresh")
@click.argument("urls", nargs=-1)
@click.option("--all", "all_feeds", is_flag=True, help="Refresh every feed, due or not.")
@data_dir_option
@json_option
@click.pass_context
def feeds_refresh(ctx, urls, all_feeds, as_json):
    """Refresh the given feeds, or the ones that are due (--all: every feed)."""
    refreshes = open_library(ctx).feeds.refresh(list(urls), all_feeds=all_feeds)
    report(as_json, [r.model_dump() for r in refreshes], _refresh_lines(refreshes),
           empty="No feed is due (use --all to refresh every feed).")
    failed = any(r.status == "failed" or any(x.status == "failed" for x in r.results) for r in refreshes)
    ctx.exit(1 if failed else 0)


@click.command(name="watch")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--sync-deletes", is_flag=True, help="Remove the articles of files deleted from the folder.")
@click.option("--follow-symlinks", is_flag=True, help="Read symlinks that point outside the folder.")
@click.option("--poll", is_flag=True, help="Poll for changes instead of OS notifications (network drives).")
@data_dir_option
@json_option
@click.pass_context
def watch(ctx, folder, sync_deletes, follow_symlinks, poll, as_json):
    """Add a folder's articles and keep following it: new files added, changed ones updated. Ctrl-C stops."""
    from rag.ingest.watch import FolderWatch

    watcher = FolderWatch(open_library(ctx), folder, sync_deletes=sync_deletes, follow_symlinks=follow_symlinks)
    stop = threading.Event()
    if not as_json:
        click.echo(f"watching {watcher.root} (Ctrl-C stops)", err=True)
    try:
        for changes in watcher.follow(stop, force_polling=poll or None):
            for c in changes:
                if as_json:
                    click.echo(c.model_dump_json())
                else:
                    echo_lines(result_lines([c]))
    except KeyboardInterrupt:
        stop.set()
