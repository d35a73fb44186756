"""An `Answer` as the service shows it: the one citation object per citation, each locating its
claim in the answer text, and the chat reply (answer, "Sources" footer, annotations).

The invariant every face relies on: `reply[c.answer_start:c.answer_end]` is the claim citation
`c` supports, and `c.quote == article.text[c.start:c.end]`, re-checked here against the stored
article (the library already verified it; `verified` says this copy was checked too).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rag.verify.citations import is_verbatim
from rag.models import Answer, Article
from service.schemas import Citation

SpanLink = Callable[[str, int, int], str]  # (article_id, start, end) -> URL of the highlighted span
_MARKER = re.compile(r"\s*\[(\d+)\]")


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


def citations_of(answer: Answer, articles: dict[str, Article], link: SpanLink, offset: int = 0) -> list[Citation]:
    """The citation objects of `answer`; answer offsets are shifted by `offset` (the text before it)."""
    spans = claim_spans(answer)
    out = []
    for c in answer.citations:
        where = spans.get(c.n)
        out.append(Citation(
            id=f"{c.article_id}:{c.start}-{c.end}", n=c.n, article_id=c.article_id, start=c.start, end=c.end,
            quote=c.quote, verified=is_verbatim(c, articles.get(c.article_id)), title=c.title, source=c.source,
            url=link(c.article_id, c.start, c.end), article_url=c.url, published=c.published,
            answer_start=where[0] + offset if where else None, answer_end=where[1] + offset if where else None,
        ))
    return out


def sources_footer(citations: list[Citation]) -> str:
    """`Sources:` then `[n] title — source, date — "quote"`, one line per citation."""
    lines = ["Sources:"]
    for c in citations:
        meta = ", ".join(x for x in (c.source, c.published.isoformat() if c.published else "") if x)
        lines.append(f"[{c.n}] {c.title}" + (f" — {meta}" if meta else "") + f" — \u201c{c.quote}\u201d")
    return "\n".join(lines)


@dataclass
class Reply:
    """A chat reply: its full text and the citations located in it."""

    content: str
    citations: list[Citation]


def reply_of(answer: Answer, articles: dict[str, Article], link: SpanLink, *, prefix: str = "",
             append_sources: bool = True) -> Reply:
    """The chat text after `prefix` (text already sent): the answer, then the Sources footer.

    `Reply.content` excludes the prefix; citation answer offsets index `prefix + content`."""
    citations = citations_of(answer, articles, link, offset=len(prefix))
    content = answer.answer
    if append_sources and citations:
        content += "\n\n" + sources_footer(citations)
    return Reply(content, citations)


def annotations_of(citations: list[Citation]) -> list[dict]:
    """OpenAI `url_citation` annotations, one per citation located in the reply; the span and
    quote ride along so a client can check them against the article."""
    return [
        {"type": "url_citation",
         "url_citation": {"start_index": c.answer_start, "end_index": c.answer_end, "url": c.url, "title": c.title,
                          "article_id": c.article_id, "start": c.start, "end": c.end, "quote": c.quote, "n": c.n}}
        for c in citations if c.answer_start is not None
    ]


def search_results_of(citations: list[Citation]) -> list[dict]:
    """Perplexity-style `search_results`: one per cited article span."""
    return [{"title": c.title, "url": c.url, "date": c.published.isoformat() if c.published else None,
             "snippet": c.quote, "source": c.source, "article_id": c.article_id} for c in citations]
