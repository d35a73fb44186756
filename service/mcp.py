"""MCP tools and resources over one `Library` (the `mcp` SDK 2.x `MCPServer`): /mcp over streamable
HTTP in `rag serve`, stdio in `rag mcp`.

Hosts read different parts of a tool result (some only `content`, some only
`structuredContent`), so every tool fills both: `structuredContent` validated against the tool's
declared output schema (the Pydantic models below), and a self-contained text block holding the
answer and every numbered verbatim quote with its article id and offsets, plus one
`resource_link` per citation (`newsground://articles/{id}/span/{start}-{end}`). Resources
`newsground://articles/{id}` serve an article's canonical text. The read tools carry
`readOnlyHint`; `add_url` exists only with `--allow-writes`.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Annotated, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp_types import CallToolResult, ResourceLink, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from rag.errors import ArticleNotFound, InputError, RagError
from rag.models import AddResult, AnswerCitation, ArticlePage
from rag.safe_output import redact
from service.answers import AskArgs
from service.schemas import MAX_TOP_K, ChangesOut, SearchResult, StoriesOut, StoryCitation, TimelineOut
from service.stories import story_by_id

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
INSTRUCTIONS = ("newsground answers questions from a library of news articles. Every citation is a verbatim quote "
                "with its article id and character offsets; quote them as given and name the article.")


def article_uri(article_id: str) -> str:
    return f"newsground://articles/{article_id}"


def span_uri(article_id: str, start: int, end: int) -> str:
    return f"newsground://articles/{article_id}/span/{start}-{end}"


class AskNewsOutput(BaseModel):
    """A grounded answer: text with [n] markers, and the citations those markers name."""

    answer: str
    abstained: bool = Field(description="True when the library holds nothing that answers the question.")
    mode: Literal["extractive", "llm"]
    citations: list[AnswerCitation]
    query: dict | None = Field(default=None, description="The question as understood: intent, since, until, as_of.")
    notice: str | None = None


class SearchNewsOutput(BaseModel):
    query: str
    results: list[SearchResult]


class ArticleOutput(BaseModel):
    """An article, or one span of it: `text` is article.text[start:end]."""

    id: str
    title: str
    source: str = ""
    url: str = ""
    published: date | None = None
    start: int
    end: int
    length: int = Field(description="The whole article's length in code points.")
    text: str


class VerifyOutput(BaseModel):
    """Whether `quote` is verbatim in the article (at start:end when given, else anywhere)."""

    article_id: str
    quote: str
    verified: bool
    start: int | None = Field(default=None, description="Where the quote is (its first occurrence when not given).")
    end: int | None = None
    reason: str | None = None


def _quotes_text(citations: list[AnswerCitation]) -> str:
    return "\n".join(f"[{c.n}] \u201c{c.quote}\u201d ({c.title}; article {c.article_id}, characters {c.start}-{c.end})"
                     for c in citations)


def _links(citations: list[AnswerCitation]) -> list[ResourceLink]:
    return [ResourceLink(type="resource_link", uri=span_uri(c.article_id, c.start, c.end), name=f"[{c.n}] {c.title}",
                         description=c.quote[:200], mime_type="text/plain") for c in citations]


def _result(structured: BaseModel, text: str, links: list[ResourceLink] = (), *, as_given: bool = False) -> CallToolResult:
    """`as_given`: leave out the fields the object did not set (the stories' JSON, as the CLI prints it)."""
    return CallToolResult(content=[TextContent(type="text", text=text), *links],
                          structured_content=structured.model_dump(mode="json", exclude_unset=as_given))


def _story_sources(citations: list[StoryCitation]) -> tuple[str, list[ResourceLink]]:
    """The numbered verbatim quotes of a story reading, and a span link per distinct span."""
    seen: dict[tuple[str, int, int], StoryCitation] = {}
    for c in citations:
        seen.setdefault((c.article_id, c.start, c.end), c)
    lines = [f"[{c.n}] \u201c{c.quote}\u201d ({c.title}, {c.source or 'unknown source'}, {c.published or 'undated'}; "
             f"article {c.article_id}, characters {c.start}-{c.end})" for c in seen.values()]
    links = [ResourceLink(type="resource_link", uri=span_uri(c.article_id, c.start, c.end), name=f"[{c.n}] {c.title}",
                          description=c.quote[:200], mime_type="text/plain") for c in seen.values()]
    return ("\n\nSources:\n" + "\n".join(lines) if lines else ""), links


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} must be a date like 2025-11-21, not {value!r}") from None


def _errors_as(tool: bool, secret: str | None):
    """Our errors as the SDK's anticipated ones, so their one-line message reaches the client
    (anything else is a crash: the SDK withholds its text and logs the traceback)."""

    def wrap(fn):
        @functools.wraps(fn)
        def mapped(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except RagError as exc:
                message = redact(exc, secret)
                if tool:
                    raise ToolError(message) from None
                raise (ResourceNotFoundError if isinstance(exc, ArticleNotFound) else ResourceError)(message) from None

        return mapped

    return wrap


def build_server(library, *, allow_writes: bool = False) -> MCPServer:
    """The MCP server over `library` (tools run in worker threads: the library blocks)."""
    server = MCPServer("newsground", instructions=INSTRUCTIONS)
    secret = library.settings.openai_api_key
    tool = functools.partial(server.tool, annotations=READ_ONLY)

    @tool()
    @_errors_as(True, secret)
    def ask_news(question: str, since: str | None = None, until: str | None = None,
                 mode: Literal["extractive", "llm"] | None = None) -> Annotated[CallToolResult, AskNewsOutput]:
        """Answer a question from the news library; every claim cites a verbatim quote.

        Args:
            question: the question, in plain language.
            since: only articles published on or after this date (YYYY-MM-DD).
            until: only articles published on or before this date (YYYY-MM-DD).
            mode: "extractive" (quotes, offline) or "llm" (a model writes, then every claim is verified).
        """
        args = AskArgs(question=question, mode=mode, since=_day(since, "since"), until=_day(until, "until"))
        answer = library.ask(args.question, since=args.since, until=args.until, mode=args.mode)
        citations = library.cite(answer, span_uri)
        out = AskNewsOutput(answer=answer.answer, abstained=answer.abstained, mode=answer.mode, citations=citations,
                            query=answer.query.to_json_dict() if answer.query else None, notice=answer.notice)
        text = answer.answer + ("\n\nSources:\n" + _quotes_text(citations) if citations else "")
        return _result(out, text, _links(citations))

    @tool()
    @_errors_as(True, secret)
    def search_news(query: str, top_k: Annotated[int, Field(ge=1, le=MAX_TOP_K)] = 5, since: str | None = None,
                    until: str | None = None, source: str | None = None) -> Annotated[CallToolResult, SearchNewsOutput]:
        """Search the news library (dense + BM25): passages with their article ids and offsets.

        Args:
            query: what to look for.
            top_k: how many passages (1-50).
            since: only articles published on or after this date (YYYY-MM-DD).
            until: only articles published on or before this date (YYYY-MM-DD).
            source: only articles from this source (exact name, any case).
        """
        hits = library.search(query, k=top_k, since=_day(since, "since"), until=_day(until, "until"),
                              source=source or "")
        results = [SearchResult(**h.model_dump(exclude={"url"}), url=span_uri(h.article_id, h.start, h.end)) for h in hits]
        text = "\n\n".join(f"[{i}] {r.title} ({r.source or 'unknown source'}, {r.published or 'undated'}; article "
                           f"{r.article_id}, characters {r.start}-{r.end}):\n{r.text}" for i, r in enumerate(results, 1))
        links = [ResourceLink(type="resource_link", uri=r.url, name=r.title, mime_type="text/plain") for r in results]
        return _result(SearchNewsOutput(query=query, results=results), text or "No passages found.", links)

    @tool()
    @_errors_as(True, secret)
    def get_article(article_id: str, start: int | None = None,
                    end: int | None = None) -> Annotated[CallToolResult, ArticleOutput]:
        """An article's canonical text (or text[start:end]), with its title, source and date.

        Args:
            article_id: the article's id (as citations and list_articles give it).
            start: start of a span, in code points (with end).
            end: end of the span, exclusive.
        """
        article = library.article(article_id)
        lo, hi = (0, len(article.text)) if start is None and end is None else (start or 0, end if end is not None else len(article.text))
        _, text = library.span(article_id, lo, hi)
        out = ArticleOutput(id=article.id, title=article.title, source=article.source, url=article.url,
                            published=article.published, start=lo, end=hi, length=len(article.text), text=text)
        head = f"{article.title} ({article.source or 'unknown source'}, {article.published or 'undated'}; article {article.id}"
        return _result(out, f"{head}, characters {lo}-{hi}):\n\n{text}",
                       [ResourceLink(type="resource_link", uri=article_uri(article.id), name=article.title,
                                     mime_type="text/plain")])

    @tool()
    @_errors_as(True, secret)
    def list_articles(q: str | None = None, since: str | None = None, until: str | None = None,
                      limit: Annotated[int, Field(ge=1, le=200)] = 50,
                      cursor: str | None = None) -> Annotated[CallToolResult, ArticlePage]:
        """The library's articles ordered by id, filtered, one page at a time.

        Args:
            q: only titles containing this text.
            since: only articles published on or after this date (YYYY-MM-DD).
            until: only articles published on or before this date (YYYY-MM-DD).
            limit: page size (1-200).
            cursor: next_cursor from the previous page.
        """
        page = library.list_page(q=q or "", since=_day(since, "since"), until=_day(until, "until"), limit=limit,
                                 cursor=cursor)
        lines = [f"{a.id}\t{a.published or '-'}\t{a.source or '-'}\t{a.title}" for a in page.articles]
        if page.next_cursor:
            lines.append(f"(more: cursor={page.next_cursor})")
        return _result(page, "\n".join(lines) or "No articles match.")

    @tool()
    @_errors_as(True, secret)
    def verify_quote(article_id: str, quote: str, start: int | None = None,
                     end: int | None = None) -> Annotated[CallToolResult, VerifyOutput]:
        """Check that a quote is verbatim in an article (at start:end when given, else anywhere).

        Args:
            article_id: the article's id.
            quote: the exact text to find.
            start: where the quote should start, in code points (with end).
            end: where it should end, exclusive.
        """
        text = library.article(article_id).text
        if start is not None or end is not None:
            ok = start is not None and end is not None and 0 <= start < end <= len(text) and text[start:end] == quote
            out = VerifyOutput(article_id=article_id, quote=quote, verified=ok, start=start, end=end,
                               reason=None if ok else f"text[{start}:{end}] is not the quote")
        else:
            at = text.find(quote) if quote else -1
            out = VerifyOutput(article_id=article_id, quote=quote, verified=at >= 0, start=at if at >= 0 else None,
                               end=at + len(quote) if at >= 0 else None,
                               reason=None if at >= 0 else "the quote is not in the article")
        verdict = "verified" if out.verified else f"NOT verified: {out.reason}"
        return _result(out, f"\u201c{quote}\u201d in article {article_id}: {verdict}"
                       + (f" (characters {out.start}-{out.end})" if out.verified else ""))

    @tool()
    @_errors_as(True, secret)
    def list_stories(since: str | None = None) -> Annotated[CallToolResult, StoriesOut]:
        """Stories: the library's articles grouped by the event they report, newest first.

        Args:
            since: only stories with an article published on or after this date (YYYY-MM-DD).
        """
        out = StoriesOut.model_validate({"stories": [s.to_json_dict() for s in library.stories(_day(since, "since"))]})
        lines = [f"{s.id}\t{s.first or '-'}..{s.last or '-'}\t{len(s.articles)} articles, {len(s.sources)} sources"
                 f"\t{s.title}" for s in out.stories]
        return _result(out, "\n".join(lines) or "No stories yet.", as_given=True)

    @tool()
    @_errors_as(True, secret)
    def story_timeline(story_id: str, since: str | None = None,
                       until: str | None = None) -> Annotated[CallToolResult, TimelineOut]:
        """A story's dated timeline, each entry quoted verbatim, and where its sources disagree.

        Args:
            story_id: the story's id (as list_stories gives it).
            since: only entries dated on or after this date (YYYY-MM-DD).
            until: only entries dated on or before this date (YYYY-MM-DD).
        """
        found = library.timeline(story_by_id(library, story_id), _day(since, "since"), _day(until, "until"))
        out = TimelineOut.model_validate(found.to_json_dict())
        lines = [f"{out.story.title} (story {out.story.id}, {len(out.story.articles)} articles)"]
        lines += [f"{e.date}{'' if e.date_source == 'text' else ' (published)'}  {e.text} "
                  + " ".join(f"[{c.n}]" for c in e.citations) for e in out.entries]
        lines += [f"Sources disagree: {d.note} [{d.a.n}] [{d.b.n}]" for d in out.disagreements]
        sources, links = _story_sources([c for e in out.entries for c in e.citations]
                                        + [c for d in out.disagreements for c in (d.a, d.b)])
        return _result(out, "\n".join(lines) + sources, links, as_given=True)

    @tool()
    @_errors_as(True, secret)
    def story_changes(story: str, since: str) -> Annotated[CallToolResult, ChangesOut]:
        """What a story's articles published on or after a date add: new facts, updated numbers, revised pages.

        Args:
            story: a story id (as list_stories gives it), or words that name the story.
            since: the date (YYYY-MM-DD); only articles published on or after it are cited, except
                the earlier value of an updated number (marked before).
        """
        day = _day(since, "since")
        if day is None:
            raise InputError("since is required (a date like 2025-11-21)")
        out = ChangesOut.model_validate(library.changes(story, day).to_json_dict())
        lines = [f"{out.story.title} (story {out.story.id}): since {out.since}"]
        lines += [f"- {b.kind}: {b.text} " + " ".join(f"[{c.n}]" for c in b.citations) for b in out.bullets]
        if not out.bullets:
            lines.append("Nothing new since then.")
        sources, links = _story_sources([c for b in out.bullets for c in b.citations])
        return _result(out, "\n".join(lines) + sources, links, as_given=True)

    if allow_writes:
        @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                                                 open_world_hint=True))
        @_errors_as(True, secret)
        def add_url(url: str) -> Annotated[CallToolResult, AddResult]:
            """Fetch a web page (http or https, public addresses only) and add it to the library.

            Args:
                url: the page's address.
            """
            result = library.add([url])[0]
            if result.status == "failed":
                raise InputError(f"{url}: {result.reason}")
            return _result(result, f"{result.status}: {result.title} (article {result.article_id})")

    @server.resource("newsground://articles/{article_id}", mime_type="text/plain")
    @_errors_as(False, secret)
    def article_text(article_id: str) -> str:
        """An article's canonical text (citation offsets index it)."""
        return library.article(article_id).text

    @server.resource("newsground://articles/{article_id}/span/{start}-{end}", mime_type="text/plain")
    @_errors_as(False, secret)
    def article_span(article_id: str, start: str, end: str) -> str:
        """One cited span: the article's text[start:end]."""
        try:
            lo, hi = int(start), int(end)
        except ValueError:
            raise InputError(f"span {start}-{end} is not two numbers") from None
        return library.span(article_id, lo, hi)[1]

    return server
