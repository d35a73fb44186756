"""`rag add`, `list`, `show`, `remove`, `ask` and `chat`: the article and question commands."""

from __future__ import annotations

import sys

import click

from rag.cli.common import data_dir_option, echo_error, emit_json, json_option, open_library, report, result_lines
from rag.errors import RagError
from rag.models import Answer, Searching, Turn
from rag.safe_output import clean


@click.command()
@click.argument("paths", nargs=-1)
@click.option("--sitemap", default=None, metavar="URL", help="Also add the pages this sitemap (or index) lists.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="With --sitemap: only pages published or modified on or after this date.")
@click.option("--follow-symlinks", is_flag=True, help="Read symlinks in folders that point outside the folder.")
@data_dir_option
@json_option
@click.pass_context
def add(ctx, paths, sitemap, since, follow_symlinks, as_json):
    """Add article files, folders or web pages (.txt .md .html .htm .json .jsonl .pdf, http(s) URLs)."""
    from tqdm import tqdm

    if not paths and not sitemap:
        raise click.UsageError("give files, folders or URLs to add, or --sitemap URL")
    library = open_library(ctx)
    bar = None

    def progress(done, total):
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="article", file=sys.stderr, disable=total < 3 or as_json, desc="indexing")
        bar.update(done - bar.n)

    try:
        results = library.add(list(paths), progress=progress, follow_symlinks=follow_symlinks) if paths else []
        if sitemap:
            results += library.add_sitemap(sitemap, since=since.date() if since else None, progress=progress)
    finally:
        if bar is not None:
            bar.close()  # before any error message, so that starts on its own line
    counts = {s: sum(r.status == s for r in results) for s in ("added", "updated", "unchanged", "failed")}
    report(as_json, [r.model_dump() for r in results],
           [*result_lines(results), ", ".join(f"{n} {s}" for s, n in counts.items())])
    ctx.exit(1 if any(r.status == "failed" for r in results) else 0)


@click.command(name="list")
@data_dir_option
@json_option
@click.pass_context
def list_articles(ctx, as_json):
    """List the articles in the library."""
    summaries = open_library(ctx).articles()
    report(as_json, [s.model_dump(mode="json") for s in summaries],
           (f"{s.id}\t{s.published or '-'}\t{s.source or '-'}\t{s.chunks} chunks\t{s.title}" for s in summaries),
           empty="No articles yet: add some with `rag add PATH`.")


@click.command()
@click.argument("article_id")
@data_dir_option
@json_option
@click.pass_context
def show(ctx, article_id, as_json):
    """Show an article's metadata and canonical text."""
    library = open_library(ctx)
    article = library.article(article_id)

    def lines():
        yield f"{article.title}\n{article.source or '-'} | {article.published or '-'} | {article.url or '-'}"
        yield f"id {article.id} | sha256 {article.sha256}"
        origin = library.origin(article.id)
        if origin is not None and origin.fetched_at:
            by = f" | by {origin.author}" if origin.author else ""
            feed = f" | feed {origin.feed_url}" if origin.feed_url else ""
            yield f"fetched {origin.fetched_at} from {origin.location}{by}{feed}"
        yield ""
        yield article.text

    report(as_json, article.model_dump(mode="json"), lines())


@click.command()
@click.argument("article_id")
@data_dir_option
@json_option
@click.pass_context
def remove(ctx, article_id, as_json):
    """Remove an article everywhere (registry, Chroma, BM25)."""
    summary = open_library(ctx).remove(article_id)
    report(as_json, {"removed": summary.id, "title": summary.title}, [f"removed {summary.id} ({summary.title})"])


def ask_options(f):
    f = click.option("-k", "--top-k", "k", type=click.IntRange(1, 50), default=None, help="Chunks to retrieve.")(f)
    f = click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Only articles published on or after.")(f)
    f = click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Only articles published on or before.")(f)
    f = click.option("--mode", type=click.Choice(["extractive", "llm"]), default=None, help="Answerer (default: llm if configured).")(f)
    f = click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
                     help="Reference date for 'latest', 'last month' (default: newest article's date).")(f)
    return f


def _ask_kwargs(k, since, until, mode, as_of=None) -> dict:
    return {"k": k, "since": since.date() if since else None, "until": until.date() if until else None, "mode": mode,
            "as_of": as_of.date() if as_of else None}


def print_answer(answer: Answer, streamed: bool, pages: dict[int, int] | None = None) -> None:
    if not streamed:
        click.echo(clean(answer.answer))
    if answer.notice:
        click.secho(clean(f"note: {answer.notice}"), fg="yellow", err=True)
    if answer.standalone_question != answer.question:
        click.secho(clean(f"(searched for: {answer.standalone_question})"), dim=True)
    for c in answer.citations:
        meta = ", ".join(str(x) for x in (c.source, c.published) if x)
        page = f" p. {pages[c.n]}" if pages and c.n in pages else ""
        click.echo(clean(f"[{c.n}] {c.title}" + (f" ({meta})" if meta else "") + f" [{c.article_id} {c.start}-{c.end}{page}]"))
        click.echo(clean(f"    “{c.quote}”"))
    for claim in answer.unsupported:
        click.secho(clean(f"unsupported: {claim}"), fg="red")


def run_question(library, question: str, history: list[Turn], as_json: bool, kwargs: dict) -> Answer:
    answer, shown = None, []
    for event in library.ask_stream(question, history=history, **kwargs):
        if isinstance(event, Answer):
            answer = event
        elif isinstance(event, Searching):
            continue
        elif not as_json:
            click.echo(clean(event), nl=False)
            shown.append(event)
    if shown:
        click.echo()
    if as_json:  # the object `POST /v1/ask` returns; a citation's url is its article's own URL here
        emit_json(library.answer_json(answer))
    else:
        # PDF citations carry the page their quote starts on.
        pages = {c.n: p for c in answer.citations if (p := library.page_of(c.article_id, c.start))}
        # The streamed text is the answer, unless the LLM failed midway and was replaced.
        print_answer(answer, streamed="".join(shown) == answer.answer, pages=pages)
    return answer


@click.command()
@click.argument("question")
@ask_options
@data_dir_option
@json_option
@click.pass_context
def ask(ctx, question, k, since, until, mode, as_of, as_json):
    """Answer a question from the library, citing the exact sentences used."""
    run_question(open_library(ctx), question, [], as_json, _ask_kwargs(k, since, until, mode, as_of))


@click.command()
@ask_options
@data_dir_option
@json_option
@click.pass_context
def chat(ctx, k, since, until, mode, as_of, as_json):
    """Ask questions in a loop; follow-ups use the conversation. Empty line or Ctrl-D ends it."""
    library = open_library(ctx)
    history: list[Turn] = []
    kwargs = _ask_kwargs(k, since, until, mode, as_of)
    if not as_json:
        click.echo(f"{library.ready_count()} articles indexed. Ask a question (empty line to quit, /new to reset).")
    while True:
        try:
            question = click.prompt("?", prompt_suffix=" ", default="", show_default=False)
        except (EOFError, click.Abort):
            break
        if not question.strip():
            break
        if question.strip() == "/new":
            history = []
            continue
        try:
            answer = run_question(library, question, history, as_json, kwargs)
        except RagError as exc:
            echo_error(ctx, exc)
            continue
        history.append(Turn(question=question, answer=answer.answer))
