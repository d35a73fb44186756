"""`rag stories`, `rag timeline`, `rag changes`: reading stories (thin, over `Library`)."""

from __future__ import annotations

import click

from rag.cli.common import data_dir_option, json_option, open_library, report

_DATE = click.DateTime(["%Y-%m-%d"])


def _cites(citations) -> str:
    return " ".join(f"[{c.n}]" for c in citations)


def _sources(citations) -> list[str]:
    return [f"  [{c.n}] {c.source or c.article_id}, {c.published or 'undated'} ({c.article_id} {c.start}:{c.end})"
            for c in citations]


@click.command()
@click.option("--since", type=_DATE, default=None, help="Only stories with an article published on or after.")
@data_dir_option
@json_option
@click.pass_context
def stories(ctx, since, as_json):
    """List stories: articles grouped as they were added, near-copies counted once."""
    found = open_library(ctx).stories(since.date() if since else None)
    report(as_json, {"stories": [s.to_json_dict() for s in found]},
           (f"{s.id}\t{s.first or '-'}..{s.last or '-'}\t{s.size} articles, {len(s.sources)} sources\t{s.title}"
            for s in found),
           empty="No stories yet: add articles with `rag add PATH`.")


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

    def lines():
        yield f"{found.story.title} ({found.story.id}, {found.story.size} articles)"
        for entry in found.entries:
            mark = "" if entry.date_source == "text" else " (published)"
            yield f"{entry.date}{mark}  {entry.text} {_cites(entry.citations)}"
        if found.disagreements:
            yield "Sources disagree:"
            yield from (f"  {flag.note} [{flag.a.n}] [{flag.b.n}]" for flag in found.disagreements)
        cited = [c for e in found.entries for c in e.citations] + [c for d in found.disagreements for c in (d.a, d.b)]
        yield from _sources(cited)

    report(as_json, found.to_json_dict(), lines())


@click.command()
@click.argument("query_or_story")
@click.option("--since", type=_DATE, required=True, help="Show what articles published on or after this date add.")
@data_dir_option
@json_option
@click.pass_context
def changes(ctx, query_or_story, since, as_json):
    """What changed in a story since a date: new facts, updated numbers, revised pages."""
    found = open_library(ctx).changes(query_or_story, since.date())

    def lines():
        yield f"{found.story.title} ({found.story.id}): since {found.since}"
        if not found.bullets:
            yield "Nothing new since then."
        for bullet in found.bullets:
            yield f"- {bullet.kind}: {bullet.text} {_cites([c.citation for c in bullet.citations])}"
            yield from (f"    removed: {removed}" for removed in bullet.removed)
        yield from _sources([c.citation for b in found.bullets for c in b.citations])

    report(as_json, found.to_json_dict(), lines())
