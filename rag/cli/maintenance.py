"""`rag doctor`, `rag export FILE`, `rag import FILE`: thin click commands over rag.maintenance."""

from __future__ import annotations

from pathlib import Path

import click

from rag.cli.common import data_dir_option, json_option, open_library, report


@click.command()
@click.option("--no-repair", is_flag=True,
              help="Only check, writing nothing (what a crash interrupted stays for the next write or doctor).")
@click.option("--sample", type=click.IntRange(0, 10_000), default=20, show_default=True,
              help="Ready articles whose citations are verified.")
@data_dir_option
@json_option
@click.pass_context
def doctor(ctx, no_repair, sample, as_json):
    """Check the registry, Chroma and BM25 agree; repair what can be rebuilt. Exit 0 when consistent."""
    found = open_library(ctx).doctor(repair=not no_repair, sample=sample)
    report(as_json, found.model_dump() | {"ok": found.ok},
           [*(f"{'repaired' if p.repaired else 'PROBLEM':8} {p.kind}: {p.detail}" for p in found.problems),
            f"{found.articles} articles ({found.ready} ready, {found.chunks} chunks), "
            f"{found.citations_checked} citations verified: "
            + ("consistent" if found.ok else f"{len(found.remaining)} problem(s) remain")])
    ctx.exit(0 if found.ok else 1)


@click.command(name="export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@data_dir_option
@json_option
@click.pass_context
def export(ctx, file, as_json):
    """Write every article (text, metadata, vectors) to FILE (gzipped JSON lines)."""
    n = open_library(ctx).export(file)
    report(as_json, {"exported": n, "file": str(file)}, [f"exported {n} articles to {file}"])


@click.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reembed", is_flag=True, help="Recompute vectors even when the embedding model matches.")
@data_dir_option
@json_option
@click.pass_context
def import_(ctx, file, reembed, as_json):
    """Add the articles of a `rag export` FILE under their own ids."""
    result = open_library(ctx).import_corpus(file, reembed=reembed)
    how = "vectors reused" if result.reused_vectors else "re-embedded"
    report(as_json, result.model_dump(), [f"{result.added} added, {result.updated} updated, {result.unchanged} unchanged ({how})"])
