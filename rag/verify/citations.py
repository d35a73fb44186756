"""Citations and their one invariant: quote == article.text[start:end].

Every citation the product shows is built here and verified here; nothing else constructs them.
"""

from __future__ import annotations

from rag.errors import RagError
from rag.models import AnswerSpan, Article, Citation


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
