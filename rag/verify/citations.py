"""Citations and their one invariant: quote == article.text[start:end].

Every citation the product shows is built here and verified here; nothing else constructs them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.errors import RagError
from rag.models import Answer, AnswerCitation, AnswerSpan, Article, Citation

SpanLink = Callable[[str, int, int], str]  # (article_id, start, end) -> a link to the span
_MARKER = re.compile(r"\s*\[(\d+)\]")


class CitationError(RagError):
    """A citation does not resolve verbatim to its article: a bug, never shown to a user."""


def make_citation(n: int, article: Article, start: int, end: int, support: float) -> Citation:
    """A verified citation of article.text[start:end]."""
    if not (0 <= start < end <= len(article.text)):
        raise CitationError(f"span {start}:{end} is outside article {article.id} ({len(article.text)} chars)")
    return Citation(
        n=n,
        article_id=article.id,
        title=article.title,
        source=article.source,
        url=article.url,
        published=article.published,
        start=start,
        end=end,
        quote=article.text[start:end],
        support=round(min(max(support, 0.0), 1.0), 3),
    )


def is_verbatim(citation: Citation, article: Article | None) -> bool:
    return (
        article is not None
        and article.id == citation.article_id
        and 0 <= citation.start < citation.end <= len(article.text)
        and article.text[citation.start:citation.end] == citation.quote
    )


def verify_all(citations: list[Citation], articles: dict[str, Article]) -> None:
    """Raise CitationError unless every citation is verbatim in its article."""
    for citation in citations:
        if not is_verbatim(citation, articles.get(citation.article_id)):
            raise CitationError(
                f"citation [{citation.n}] does not match {citation.article_id}[{citation.start}:{citation.end}]"
            )


def make_answer_span(citation: Citation, article: Article, start: int, end: int) -> AnswerSpan:
    """A short answer phrase, article.text[start:end], which must lie inside `citation`."""
    if not (citation.start <= start < end <= citation.end) or article.id != citation.article_id:
        raise CitationError(f"answer span {start}:{end} is outside citation [{citation.n}] "
                            f"{citation.article_id}[{citation.start}:{citation.end}]")
    return AnswerSpan(n=citation.n, start=start, end=end, text=article.text[start:end])


def verify_span(span: AnswerSpan | None, citations: list[Citation], articles: dict[str, Article]) -> None:
    """Raise CitationError unless the span is verbatim and inside the citation it names."""
    if span is None:
        return
    citation = next((c for c in citations if c.n == span.n), None)
    article = articles.get(citation.article_id) if citation else None
    if (citation is None or article is None or not (citation.start <= span.start < span.end <= citation.end)
            or article.text[span.start:span.end] != span.text):
        raise CitationError(f"answer span {span.start}:{span.end} does not match citation [{span.n}]")


def claim_spans(answer: Answer) -> dict[int, tuple[int, int]]:
    """Citation number -> (start, end) of the first claim citing it in `answer.answer`.

    Claims are found in order; a citation no claim names gets the text before its first `[n]`
    marker (back to the previous marker or the start)."""
    text, spans, cursor = answer.answer, {}, 0
    for claim in answer.claims:
        at = text.find(claim.text, cursor) if claim.text else -1
        if at < 0:
            continue
        cursor = at + len(claim.text)
        for n in claim.citations:
            spans.setdefault(n, (at, cursor))
    previous = 0
    for marker in _MARKER.finditer(text):
        n = int(marker.group(1))
        if n not in spans:
            start = previous
            while start < marker.start() and text[start].isspace():
                start += 1
            if start < marker.start():
                spans[n] = (start, marker.start())
        previous = marker.end()
    return spans


def answer_citations(answer: Answer, articles: dict[str, Article], link: SpanLink | None = None, offset: int = 0,
                     pages: dict[int, int] | None = None) -> list[AnswerCitation]:
    """The citation objects of `answer`, in its order: each located in the answer (its offsets
    shifted by `offset`, the text a reply puts before the answer) and checked again against
    `articles` (a citation whose article is missing or changed is `verified: false`).

    `link(article_id, start, end)` gives `url`; without one, `url` is the article's own URL.
    `pages`: citation number -> the PDF page its quote starts on."""
    spans, pages = claim_spans(answer), pages or {}
    out = []
    for c in answer.citations:
        where = spans.get(c.n)
        out.append(AnswerCitation(
            id=f"{c.article_id}:{c.start}-{c.end}", n=c.n, article_id=c.article_id, start=c.start, end=c.end,
            quote=c.quote, verified=is_verbatim(c, articles.get(c.article_id)), title=c.title, source=c.source,
            url=link(c.article_id, c.start, c.end) if link else c.url, published=c.published,
            answer_start=where[0] + offset if where else None, answer_end=where[1] + offset if where else None,
            support=c.support, article_url=c.url, page=pages.get(c.n),
        ))
    return out
