"""The REST API under /v1: ask, search, articles, spans and feeds, each one call into `Library`.

Handlers are plain `def`s: FastAPI runs them in worker threads, where the library's blocking
calls belong. Errors are raised as `RagError`s and shaped by service/errors.py.
"""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from rag.errors import InputError, RagError
from rag.models import Answer, Searching, Turn
from rag.safe_output import redact
from service.answers import AskArgs
from service.errors import envelope, error_response, rag_error_status
from service.pages import CSP, span_page
from service.schemas import ArticleIn, AskRequest, AskResponse, FeedIn, SearchRequest, SearchResponse, SearchResult
from service.streaming import ClosingStreamingResponse, in_thread

MAX_PAGE = 200


def span_link(request: Request):
    """(article_id, start, end) -> the absolute URL of the span page on this server."""
    base = str(request.base_url).rstrip("/")

    def link(article_id: str, start: int, end: int) -> str:
        return f"{base}/v1/articles/{quote(article_id, safe='')}/span?start={start}&end={end}"

    return link


def library_of(request: Request):
    return request.app.state.library


def sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


router = APIRouter(prefix="/v1")


@router.post("/ask", response_model=AskResponse, response_model_exclude_unset=True,
             summary="Answer a question with verified citations (the `rag ask --json` object)")
def ask(body: AskRequest, request: Request, stream: bool = False):
    """With `?stream=true`: server-sent events `searching` (the query as understood), `delta`
    (answer text), one `citation` per citation, then `done` (the whole answer object)."""
    library, link = library_of(request), span_link(request)
    if not body.question.strip():  # checked before a stream starts: its status is sent first
        raise InputError("the question is empty")
    args = AskArgs(question=body.question, history=[Turn(t.question, t.answer) for t in body.history], mode=body.mode,
                   k=body.top_k, since=body.since, until=body.until, as_of=body.as_of)
    if not stream:
        answer = library.ask(args.question, history=args.history, k=args.k, since=args.since, until=args.until,
                             as_of=args.as_of, mode=args.mode)
        return library.answer_json(answer, link)

    async def events():
        try:
            async for event in in_thread(args.stream(library)):
                if isinstance(event, Searching):
                    yield sse("searching", {"query": event.query.to_json_dict(), "text": event.query.text})
                elif isinstance(event, Answer):
                    done = await anyio.to_thread.run_sync(library.answer_json, event, link)
                    for citation in done["citations"]:
                        yield sse("citation", citation)
                    yield sse("done", done)
                else:
                    yield sse("delta", {"text": event})
        except RagError as exc:  # the 200 is already sent: the error is the stream's last event
            status, code = rag_error_status(exc)
            yield sse("error", envelope(status, redact(exc, library.settings.openai_api_key), code=code))

    return ClosingStreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.post("/search", response_model=SearchResponse, summary="Hybrid-retrieved chunks with their offsets")
def search(body: SearchRequest, request: Request):
    link = span_link(request)
    hits = library_of(request).search(body.query, k=body.top_k, since=body.since, until=body.until, source=body.source)
    return SearchResponse(query=body.query, results=[
        SearchResult(**h.model_dump(exclude={"url"}), url=link(h.article_id, h.start, h.end)) for h in hits])


@router.get("/articles", summary="The library, filtered, one page at a time")
def list_articles(request: Request, q: str = "", source: str = "", since: date | None = None,
                  until: date | None = None, limit: int = Query(50, ge=1, le=MAX_PAGE), cursor: str | None = None):
    page = library_of(request).list_page(q=q, source=source, since=since, until=until, limit=limit, cursor=cursor)
    return page.model_dump(mode="json")


@router.get("/articles/{article_id}", summary="An article's metadata and canonical text (as `rag show --json`)")
def show_article(article_id: str, request: Request):
    return library_of(request).article(article_id).model_dump(mode="json")


@router.get("/articles/{article_id}/span", response_class=HTMLResponse,
            summary="The article as a page with text[start:end] highlighted (the link citations carry)")
def show_span(article_id: str, request: Request, start: int = Query(ge=0), end: int = Query(ge=1)):
    article, _ = library_of(request).span(article_id, start, end)
    return HTMLResponse(span_page(article, start, end), headers={"Content-Security-Policy": CSP})


@router.post("/articles", summary="Add a web page ({url}) or an article given as text; the outcomes of `rag add`")
def add_article(body: ArticleIn, request: Request):
    library = library_of(request)
    if body.text is None and body.title is None:
        result = library.add([body.url])[0]
    else:
        result = library.add_text(title=body.title, text=body.text, source=body.source, url=body.url or "",
                                  published=body.published)
    if result.status == "failed":
        return error_response(422, f"{result.path}: {result.reason}", code="add_failed")
    return JSONResponse(result.model_dump(mode="json"), status_code=201 if result.status == "added" else 200)


@router.delete("/articles/{article_id}", summary="Remove an article everywhere")
def remove_article(article_id: str, request: Request):
    summary = library_of(request).remove(article_id)
    return {"removed": summary.id, "title": summary.title}


@router.get("/feeds", summary="The followed feeds")
def list_feeds(request: Request):
    return {"feeds": [f.model_dump(mode="json", exclude={"etag", "last_modified"})
                      for f in library_of(request).feeds.list()]}


@router.post("/feeds", summary="Follow a feed (read once now; a feed that cannot be read is not added)")
def add_feed(body: FeedIn, request: Request):
    refresh = library_of(request).feeds.add(body.url, body.every)
    return JSONResponse(refresh.model_dump(mode="json"), status_code=201)


@router.delete("/feeds", summary="Stop following a feed (its articles stay)")
def remove_feed(request: Request, url: str = Query(min_length=1)):
    feed = library_of(request).feeds.remove(url)
    return {"removed": feed.url}


@router.get("/models", summary="The one model: newsground")
def models():
    return {"object": "list", "data": [{"id": "newsground", "object": "model", "created": 0, "owned_by": "newsground"}]}
