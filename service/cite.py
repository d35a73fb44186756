"""An answer as a chat reply shows it: the answer, its "Sources" footer, OpenAI `url_citation`
annotations and Perplexity-style `search_results`, all made from the library's one citation
object (`Library.cite`, built in rag/verify/citations.py).

The invariant every face relies on: `reply[c.answer_start:c.answer_end]` is the claim citation
`c` supports, and `c.quote == article.text[c.start:c.end]`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.models import Answer, AnswerCitation


def sources_footer(citations: list[AnswerCitation]) -> str:
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
    citations: list[AnswerCitation]


def reply_of(answer: Answer, citations: list[AnswerCitation], *, append_sources: bool = True) -> Reply:
    """The chat text: the answer, then the Sources footer. When text was sent before the answer,
    `citations` come from `Library.cite(answer, link, offset=len(text sent))`."""
    content = answer.answer
    if append_sources and citations:
        content += "\n\n" + sources_footer(citations)
    return Reply(content, citations)


def annotations_of(citations: list[AnswerCitation]) -> list[dict]:
    """OpenAI `url_citation` annotations, one per citation located in the reply; the span and
    quote ride along so a client can check them against the article."""
    return [
        {"type": "url_citation",
         "url_citation": {"start_index": c.answer_start, "end_index": c.answer_end, "url": c.url, "title": c.title,
                          "article_id": c.article_id, "start": c.start, "end": c.end, "quote": c.quote, "n": c.n}}
        for c in citations if c.answer_start is not None
    ]


def search_results_of(citations: list[AnswerCitation]) -> list[dict]:
    """Perplexity-style `search_results`: one per cited article span."""
    return [{"title": c.title, "url": c.url, "date": c.published.isoformat() if c.published else None,
             "snippet": c.quote, "source": c.source, "article_id": c.article_id} for c in citations]


def openwebui_source(c: AnswerCitation) -> dict:
    """An Open WebUI `source` event for one citation (the `event` of a stream chunk).

    As Open WebUI reads it (backend/open_webui/socket/main.py, src/lib/components/chat/Messages/
    Citations.svelte): `data` without a `type` key is stored as one of the message's sources;
    sources are grouped by `metadata.source`, so each citation's own span link keeps it apart and
    `[n]` in the content opens the n-th; `metadata.name` is the name shown, `metadata.source_url`
    the link (set, so the name is not replaced by the URL); `document` is the quote shown;
    `metadata.page` counts from 0 there. `html` is never set: the quote is shown as text."""
    name = f"[{c.n}] {c.title}"
    metadata = {"source": c.url, "source_url": c.url, "name": name, "article_id": c.article_id, "start": c.start,
                "end": c.end, "verified": c.verified, "published": c.published.isoformat() if c.published else None}
    if c.page is not None:
        metadata["page"] = c.page - 1
    return {"type": "source", "data": {"source": {"id": c.id, "name": name, "url": c.url},
                                       "document": [c.quote], "metadata": [metadata]}}
