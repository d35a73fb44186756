"""HTML for the UI's panels, built from library objects.

Article text, titles, sources, URLs and questions are untrusted: every one of them passes
through `esc` (html.escape) before it reaches markup, and the only markup in the output is
written here. Chat messages are rendered by Gradio with markdown off, so escaped text stays
literal (no markdown links, no LaTeX, no comments).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urlparse

from rag.models import AddResult, Answer, AnswerSpan, Article, ArticleSummary, Citation, Quotes
from rag.query import Query

# Context shown around a highlighted span, per side, when its paragraph is long.
CONTEXT_CHARS = 600
_SAFE_URL_SCHEMES = {"http", "https"}


def esc(value: object) -> str:
    """Escape any value for use in HTML text or a double-quoted attribute."""
    return html.escape(str(value), quote=True)


def multiline(text: str) -> str:
    return esc(text).replace("\n", "<br>")


def safe_url(url: str) -> str | None:
    """The URL if it is an absolute http(s) link, else None (javascript:, data:, relative...)."""
    url = (url or "").strip()
    parsed = urlparse(url)
    return url if parsed.scheme.lower() in _SAFE_URL_SCHEMES and parsed.netloc else None


def source_anchor(turn: int, n: int) -> str:
    return f"src-{turn}-{n}"


def marker(turn: int, n: int) -> str:
    """A citation marker [n] linking to its source card in the sources panel."""
    return (f'<a class="cite" href="#{source_anchor(turn, n)}" data-turn="{turn}" data-n="{n}" '
            f'title="Show source {n}">[{n}]</a>')


# -- chat messages ------------------------------------------------------------------------------

def user_message(question: str) -> str:
    return f'<div class="question">{multiline(question)}</div>'


def pending_message(query: Query | None, rewritten: bool = False, doing: str | None = None) -> str:
    """The placeholder while the answer is prepared: `doing` when something else comes first
    (starting the local model), else the query searched (when a follow-up was rewritten) and what
    the question was understood to ask for (when more than a plain fact)."""
    if doing:
        return f'<div class="answer pending"><span class="spinner"></span>{esc(doing)}…</div>'
    searching = f' for <q>{esc(query.text)}</q>' if query is not None and rewritten else ""
    info = f' <span class="query-info">({esc(query.describe())})</span>' if _interesting(query) else ""
    return f'<div class="answer pending"><span class="spinner"></span>Searching the library{searching}{info}…</div>'


def _interesting(query: Query | None) -> bool:
    """Whether the query's intent or dates are worth showing (not a plain undated fact)."""
    return query is not None and (query.intent != "factoid" or bool(query.since or query.until))


def streaming_message(text: str, quotes: Quotes | None = None) -> str:
    """The answer as streamed so far, after the verified quotes shown while the model writes;
    markers become links only in the final answer."""
    shown = ""
    if quotes is not None and quotes.citations:
        shown = (f'<div class="quotes"><div class="quotes-label">Verified quotes</div>{multiline(quotes.answer)}</div>'
                 f'<div class="quotes-label">{"The model’s answer" if text else "The model is writing its answer"}</div>')
    return f'<div class="answer streaming">{shown}{multiline(text)}<span class="caret">▍</span></div>'


def error_message(message: str) -> str:
    return f'<div class="answer error" role="alert">⚠ {esc(message)}</div>'


def answer_message(answer: Answer, turn: int) -> str:
    """The final answer: claims with clickable markers, unsupported claims flagged, small print."""
    if answer.abstained:
        body = f'<div class="abstain"><strong>Not in the library.</strong> {esc(answer.answer)}</div>'
    elif answer.claims and not all(c.supported for c in answer.claims):
        body = " ".join(_claim_html(c.text, c.citations, c.supported, turn) for c in answer.claims)
    else:
        body = _answer_text_html(answer, turn)
    return f'<div class="answer final" data-turn="{turn}">{body}{_small_print(answer)}</div>'


_MARKER = re.compile(r" \[(\d+)\]")


def _answer_text_html(answer: Answer, turn: int) -> str:
    """The answer text with the answerer's own markers as links; a leading short answer phrase in bold.

    Only the markers right after a claim's text, with that claim's numbers, become links: a
    "[1]" inside a quote or an article's title (labels name the source) stays plain text, so an
    article cannot forge a citation marker."""
    text, lead = answer.answer, ""
    span = answer.answer_span
    if span is not None and text.startswith(span.text.strip()):
        lead = f'<strong class="short-answer">{esc(span.text.strip())}</strong>'
        text = text[len(span.text.strip()):]
    out, pos = [lead], 0
    for claim in answer.claims:
        start = text.find(claim.text, pos)
        if start < 0:
            continue
        end = start + len(claim.text)
        out.append(multiline(text[pos:end]))
        pos = end
        while (own := _MARKER.match(text, pos)) and int(own.group(1)) in claim.citations:
            out.append(" " + marker(turn, int(own.group(1))))
            pos = own.end()
    out.append(multiline(text[pos:]))
    return "".join(out)


def _claim_html(text: str, citations: list[int], supported: bool, turn: int) -> str:
    if not supported:
        return (f'<span class="unsupported" title="No cited source supports this sentence">{multiline(text)}'
                '<span class="badge">unsupported</span></span>')
    return multiline(text) + "".join(" " + marker(turn, n) for n in citations)


def _small_print(answer: Answer) -> str:
    lines = []
    if answer.notice:
        lines.append(f'<div class="notice">{esc(answer.notice)}</div>')
    if answer.unsupported:
        lines.append(f'<div class="notice">{len(answer.unsupported)} of {len(answer.claims)} sentences are not '
                     'supported by any article and are marked “unsupported”.</div>')
    rewritten = answer.standalone_question.strip() != answer.question.strip()
    if rewritten or _interesting(answer.query):
        searched = f'<q>{esc(answer.standalone_question)}</q>' if rewritten else ""
        info = f'<span class="query-info">{esc(answer.query.describe())}</span>' if _interesting(answer.query) else ""
        lines.append(f'<div class="searched">Searched for: {searched}{" · " if searched and info else ""}{info}</div>')
    sources = len(answer.citations)
    ms = answer.timings_ms.get("total", 0.0)
    took = f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"
    mode = f"LLM answer ({esc(answer.model)})" if answer.mode == "llm" and answer.model else \
        "LLM answer" if answer.mode == "llm" else "Extractive answer"
    detail = f"{sources} source{'s' if sources != 1 else ''}" if not answer.abstained else "no sources"
    lines.append(f'<div class="timing">{mode} · {detail} · {took}</div>')
    return f'<div class="small-print">{"".join(lines)}</div>'


# -- sources panel ------------------------------------------------------------------------------

SOURCES_EMPTY = ('<div class="sources-empty">Sources appear here. Ask a question, then click a marker '
                 'such as <span class="cite-example">[1]</span> to see the cited sentence in its article.</div>')


def sources_panel(sections: list[str]) -> str:
    """Every answered turn's sources (turn n is sections[n-1]).

    CSS shows only the newest turn; clicking a marker of an older answer shows that turn.
    """
    if not sections:
        return f'<div class="sources-panel">{SOURCES_EMPTY}</div>'
    last = len(sections)
    body = "".join(
        f'<section class="turn{" current" if turn == last else ""}" id="turn-{turn}" data-turn="{turn}">{s}</section>'
        for turn, s in enumerate(sections, 1)
    )
    return f'<div class="sources-panel">{body}</div>'


def sources_section(answer: Answer, turn: int, articles: dict[str, Article | None]) -> str:
    """The sources of one answer: a card per citation, span highlighted in its paragraph."""
    heading = f'<h3 class="turn-question">Sources for <q>{esc(answer.question)}</q></h3>'
    if answer.abstained:
        cards = '<p class="no-sources">No article in the library supports an answer to this question.</p>'
    elif not answer.citations:
        cards = '<p class="no-sources">No article in the library supports any sentence of this answer.</p>'
    else:
        span = answer.answer_span
        cards = "".join(source_card(c, articles.get(c.article_id), turn, span if span and span.n == c.n else None)
                        for c in answer.citations)
    return heading + cards


def source_card(citation: Citation, article: Article | None, turn: int, span: AnswerSpan | None = None) -> str:
    meta = [esc(x) for x in (citation.source, citation.published) if x]
    url = safe_url(citation.url)
    if url:
        meta.append(f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">Original article ↗</a>')
    support = "" if citation.support >= 1.0 else f'<span class="support">support {citation.support:.2f}</span>'
    return (
        f'<article class="source" id="{source_anchor(turn, citation.n)}" data-n="{citation.n}" '
        f'data-article="{esc(citation.article_id)}" data-start="{citation.start}" data-end="{citation.end}">'
        f'<header><span class="num">[{citation.n}]</span> <span class="title">{esc(citation.title)}</span></header>'
        f'<div class="meta">{" · ".join(meta)}{support}</div>'
        f'{highlighted_paragraph(citation, article, span)}</article>'
    )


def highlighted_paragraph(citation: Citation, article: Article | None, span: AnswerSpan | None = None) -> str:
    """The cited span, text[start:end] exactly, marked inside its surrounding paragraph; the short
    answer phrase (`span`, inside the citation) is highlighted more strongly within it."""
    if article is None or article.text[citation.start:citation.end] != citation.quote:
        # The article was removed or replaced after this answer: show the verified quote alone.
        return (f'<blockquote class="context"><mark>{esc(citation.quote)}</mark></blockquote>'
                '<div class="stale">This article has since been removed or changed.</div>')
    text, start, end = article.text, citation.start, citation.end
    para_start = text.rfind("\n", 0, start) + 1
    para_end = text.find("\n", end)
    para_end = len(text) if para_end == -1 else para_end
    before = _trim_left(text[para_start:start])
    after = _trim_right(text[end:para_end])
    if span is not None and start <= span.start < span.end <= end:
        cited = (multiline(text[start:span.start]) + f'<strong class="answer-span">{multiline(text[span.start:span.end])}</strong>'
                 + multiline(text[span.end:end]))
    else:
        cited = multiline(text[start:end])
    return f'<blockquote class="context">{multiline(before)}<mark>{cited}</mark>{multiline(after)}</blockquote>'



def _trim_left(text: str) -> str:
    if len(text) <= CONTEXT_CHARS:
        return text
    cut = text[-CONTEXT_CHARS:]
    space = cut.find(" ")
    return "…" + (cut[space + 1:] if 0 <= space < 40 else cut)


def _trim_right(text: str) -> str:
    if len(text) <= CONTEXT_CHARS:
        return text
    cut = text[:CONTEXT_CHARS]
    space = cut.rfind(" ")
    return (cut[:space] if space > CONTEXT_CHARS - 40 else cut) + "…"


# -- add tab ------------------------------------------------------------------------------------

_STATUS_LABELS = {"added": "added", "updated": "updated", "unchanged": "unchanged", "failed": "failed"}


def add_results(results: list[AddResult]) -> str:
    """A table with one row per input: file name, outcome, article, reason."""
    if not results:
        return '<p class="add-empty">Nothing was added.</p>'
    counts = {s: sum(r.status == s for r in results) for s in _STATUS_LABELS}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    rows = "".join(
        f'<tr class="result {r.status}"><td>{esc(_input_name(r.path))}</td>'
        f'<td><span class="status {r.status}">{_STATUS_LABELS[r.status]}</span></td>'
        f'<td>{esc(r.title or "")}</td><td>{esc(r.reason or "")}</td></tr>'
        for r in results
    )
    return (f'<p class="add-summary">{esc(summary)}</p><table class="add-results"><thead><tr><th>Input</th>'
            f'<th>Result</th><th>Article</th><th>Details</th></tr></thead><tbody>{rows}</tbody></table>')


def _input_name(label: str) -> str:
    # Uploaded files live in a temporary folder; the user knows them by their file name.
    return label if label.startswith(("pasted:", "http://", "https://")) else Path(label).name


def feeds_table(feeds) -> str:
    """The followed feeds (`FeedInfo`s): name, interval, entries seen, last check and its result."""
    if not feeds:
        return '<p class="feeds-empty">No feeds yet. Paste an RSS or Atom feed address above to follow it.</p>'
    rows = []
    for f in feeds:
        every = (f"{f.every_s} s" if f.every_s < 60 else f"{f.every_s // 3600} h" if f.every_s % 3600 == 0
                 else f"{f.every_s // 60} min")
        state = "failed" if f.last_ok is False else "ok"
        checked = (f.checked_at or "never")[:16].replace("T", " ")
        rows.append(f'<tr><td><div class="feed-title">{esc(f.title or f.url)}</div><div class="feed-url">{esc(f.url)}</div></td>'
                    f'<td>{every}</td><td>{f.entries}</td><td>{esc(checked)}</td>'
                    f'<td><span class="feed-result {state}">{esc(f.last_result or "-")}</span></td></tr>')
    return ('<table class="feeds"><thead><tr><th>Feed</th><th>Every</th><th>Entries</th><th>Last checked (UTC)</th>'
            f'<th>Last result</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def watch_panel(watcher) -> str:
    """The folder `rag ui --watch` follows, and its latest changes (a `WatchThread`, or None)."""
    if watcher is None:
        return ""
    head = (f'<h3>Watched folder</h3><p class="watch-folder">{esc(watcher.watch.root)}'
            f'{" (deleted files are removed)" if watcher.watch.sync_deletes else ""}</p>')
    if watcher.error:
        head += f'<p class="add-error">Stopped watching: {esc(watcher.error)}</p>'
    changes = list(watcher.recent)[::-1]
    if not changes:
        return head + '<p class="add-empty">No changes yet.</p>'
    rows = "".join(f'<tr><td>{esc(Path(c.path).name)}</td><td><span class="status {esc(c.status)}">{esc(c.status)}</span></td>'
                   f'<td>{esc(c.title or "")}</td><td>{esc(c.reason or "")}</td></tr>' for c in changes)
    return head + f'<table class="add-results"><tbody>{rows}</tbody></table>'


# -- library tab --------------------------------------------------------------------------------

LIBRARY_COLUMNS = ["Title", "Source", "Date", "Chunks", "Added", "Feed", "ID"]
LIBRARY_EMPTY = "No articles yet - add some in the **Add articles** tab."


def library_rows(summaries: list[ArticleSummary], query: str = "", feeds: dict[str, str] | None = None) -> list[list]:
    """Table rows (title, source, date, chunks, added, feed, id) whose title contains `query`;
    `feeds` maps article ids to the name of the feed they came from."""
    needle = query.strip().casefold()
    feeds = feeds or {}
    return [[s.title, s.source, s.published.isoformat() if s.published else "", s.chunks,
             s.added_at[:16].replace("T", " "), feeds.get(s.id, ""), s.id]
            for s in summaries if needle in s.title.casefold()]


def article_view(article: Article) -> str:
    """An article's metadata and canonical text, one paragraph per line."""
    meta = [esc(x) for x in (article.source, article.published) if x]
    url = safe_url(article.url)
    if url:
        meta.append(f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">Original article ↗</a>')
    meta.append(f'<span class="article-id">id {esc(article.id)}</span>')
    paragraphs = "".join(f"<p>{esc(p)}</p>" for p in article.text.split("\n") if p.strip())
    return (f'<div class="article-view"><h3>{esc(article.title)}</h3><div class="meta">{" · ".join(meta)}</div>'
            f'<div class="article-text">{paragraphs}</div></div>')
