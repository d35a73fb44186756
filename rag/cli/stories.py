"""`rag stories`, `rag timeline`, `rag changes`: reading stories (thin, over `Library`)."""

from __future__ import annotations

import click

from rag.cli.common import data_dir_option, emit_json, json_option, open_library
from rag.safe_output import clean

_DATE = click.DateTime(["%Y-%m-%d"])


def _cites(citations) -> str:
    return " ".join(f"[{c.n}]" for c in citations)


def _sources(citations) -> list[str]:
    return [clean(f"  [{c.n}] {c.source or c.article_id}, {c.published or 'undated'} ({c.article_id} {c.start}:{c.end})")
            for c in citations]


@click.command()
@click.option("--since", type=_DATE, default=None, help="Only stories with an article published on or after.")
@data_dir_option
@json_option
@click.pass_context
def stories(ctx, since, as_json):
    """List stories: articles grouped as they were added, near-copies counted once."""
    found = open_library(ctx).stories(since.date() if since else None)
    if as_json:
        emit_json({"stories": [s.to_json_dict() for s in found]})
        return
    if not found:
        click.echo("No stories yet: add articles with `rag add PATH`.")
    for s in found:
        click.echo(clean(f"{s.id}\t{s.first or '-'}..{s.last or '-'}\t{s.size} articles, {len(s.sources)} sources\t{s.title}"))


@click.command()
@click.argument("query_or_story")
@click.option("--since", type=_DATE, default=None, help="Only entries dated on or after.")
@click.option("--until", type=_DATE, default=None, help="Only entries dated on or before.")
@data_dir_option
@json_option
@click.pass_context
def timeline(ctx, query_or_story, since, until, as_json):
    """A story's dated timeline, each entry quoted verbatim from its articles."""
    found = open_library(ctx).timeline(query_or_story, since.date() if since else None, until.date() if until else None)
    if as_json:
        emit_json(found.to_json_dict())
        return
    click.echo(clean(f"{found.story.title} ({found.story.id}, {found.story.size} articles)"))
    for entry in found.entries:
        mark = "" if entry.date_source == "text" else " (published)"
        click.echo(clean(f"{entry.date}{mark}  {entry.text} {_cites(entry.citations)}"))
    if found.disagreements:
        click.echo("Sources disagree:")
        for flag in found.disagreements:
            click.echo(clean(f"  {flag.note} [{flag.a.n}] [{flag.b.n}]"))
    cited = [c for e in found.entries for c in e.citations] + [c for d in found.disagreements for c in (d.a, d.b)]
    for line in _sources(cited):
        click.echo(line)


@click.command()
@click.argument("query_or_story")
@click.option("--since", type=_DATE, required=True, help="Show what articles published on or after this date add.")
@data_dir_option
@json_option
@click.pass_context
def changes(ctx, query_or_story, since, as_json):
    """What changed in a story since a date: new facts, updated numbers, revised pages."""
    found = open_library(ctx).changes(query_or_story, since.date())
    if as_json:
        emit_json(found.to_json_dict())
        return
    click.echo(clean(f"{found.story.title} ({found.story.id}): since {found.since}"))
    if not found.bullets:
        click.echo("Nothing new since then.")
    for bullet in found.bullets:
        click.echo(clean(f"- {bullet.kind}: {bullet.text} {_cites([c.citation for c in bullet.citations])}"))
        for removed in bullet.removed:
            click.echo(clean(f"    removed: {removed}"))
    for line in _sources([c.citation for b in found.bullets for c in b.citations]):
        click.echo(line)
