"""`POST /v1/chat/completions`: OpenAI-compatible chat over the library, citations kept.

The last user message is the question; earlier user/assistant pairs are the history (condensed
as in `rag chat`). Extras come in a top-level `newsground` object (the openai client's
`extra_body`). The reply carries the citations in every place some client reads them:
`message.content` ([n] markers and a Sources footer), `message.annotations` (`url_citation`,
offsets into the content), top-level `citations` and `search_results` (as Perplexity does) and
`newsground` (the native object). A stream sends content deltas, then exactly one final chunk
with all of these, then `[DONE]`.
"""

from __future__ import annotations

import json
import time
import uuid

import anyio
from fastapi import APIRouter, Request

from rag.errors import InputError, RagError
from rag.models import Answer, Searching, Turn
from rag.safe_output import redact
from service.answers import AskArgs
from service.api import span_link
from service.cite import Reply, annotations_of, openwebui_source, reply_of, search_results_of
from service.errors import envelope, rag_error_status
from service.schemas import ChatRequest
from service.streaming import ClosingStreamingResponse, in_thread

MODEL = "newsground"
_FOOTER = "\n\nSources:\n"

router = APIRouter(prefix="/v1")


def conversation(request: ChatRequest) -> tuple[str, list[Turn]]:
    """The question (the last user message) and the turns before it."""
    messages = [m for m in request.messages if m.role in ("user", "assistant")]
    if not messages or messages[-1].role != "user":
        raise InputError("the last message must be the user's question (role 'user')")
    question = messages[-1].text().strip()
    if not question:
        raise InputError("the question is empty")
    turns, pending = [], None
    for message in messages[:-1]:
        if message.role == "user":
            pending = message.text()
        elif pending is not None:
            # Our own replies come back with their Sources footer: the answer is what precedes it.
            turns.append(Turn(question=pending, answer=message.text().split(_FOOTER, 1)[0]))
            pending = None
    return question, turns


def ask_args(library, request: ChatRequest) -> AskArgs:
    question, history = conversation(request)
    extras, filters = request.newsground, request.newsground.filters
    only = (library.articles_matching(sources=filters.sources, ids=filters.article_ids)
            if filters.sources is not None or filters.article_ids is not None else None)
    return AskArgs(question=question, history=history, mode=extras.mode, k=extras.top_k, since=filters.since,
                   until=filters.until, as_of=extras.as_of, only=only)


def native(answer: Answer, reply: Reply) -> dict:
    """The `newsground` object: {answer, abstained, mode, citations, query, answer_span}."""
    return {
        "answer": answer.answer,
        "abstained": answer.abstained,
        "mode": answer.mode,
        "citations": [c.model_dump(mode="json") for c in reply.citations],
        "query": answer.query.to_json_dict() if answer.query else None,
        "answer_span": answer.answer_span.model_dump() if answer.answer_span else None,
        "notice": answer.notice,
    }


def _extras(answer: Answer, reply: Reply) -> dict:
    return {"citations": [c.url for c in reply.citations], "search_results": search_results_of(reply.citations),
            "newsground": native(answer, reply)}


def _usage() -> dict:
    return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


@router.post("/chat/completions", summary="OpenAI-compatible chat completions, citations kept")
async def chat_completions(body: ChatRequest, request: Request):
    library, link = request.app.state.library, span_link(request)
    args = await anyio.to_thread.run_sync(ask_args, library, body)
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    append = body.newsground.append_sources
    if not body.stream:
        answer = None
        async for event in in_thread(args.stream(library)):
            if isinstance(event, Answer):
                answer = event
        citations = await anyio.to_thread.run_sync(library.cite, answer, link)
        reply = reply_of(answer, citations, append_sources=append)
        message = {"role": "assistant", "content": reply.content, "refusal": None,
                   "annotations": annotations_of(reply.citations)}
        return {"id": completion_id, "object": "chat.completion", "created": created, "model": MODEL,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
                "usage": _usage(), **_extras(answer, reply)}

    def chunk(delta: dict, finish: str | None = None, **top) -> str:
        data = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **top}
        return f"data: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"

    async def events():
        try:
            async for piece in answer_chunks():
                yield piece
        except RagError as exc:  # the 200 is already sent: the error is the stream's last message
            status, code = rag_error_status(exc)
            yield f"data: {json.dumps(envelope(status, redact(exc, library.settings.openai_api_key), code=code))}\n\n"
        yield "data: [DONE]\n\n"

    async def answer_chunks():
        yield chunk({"role": "assistant", "content": ""})
        sent = ""
        async for event in in_thread(args.stream(library)):
            if isinstance(event, Searching):
                continue
            if isinstance(event, str):
                sent += event
                yield chunk({"content": event})
                continue
            answer = event
            # The verified answer normally is what was streamed; if the library replaced it (an LLM
            # answer withdrawn), it follows what was sent, and the offsets index the whole content.
            lead = "" if answer.answer.startswith(sent) else \
                sent + "\n\n" + (answer.notice or "Replaced by the verified answer:") + "\n\n"
            citations = await anyio.to_thread.run_sync(library.cite, answer, link, len(lead))
            reply = reply_of(answer, citations, append_sources=append)
            tail = (lead + reply.content)[len(sent):]
            if tail:
                yield chunk({"content": tail})
            if body.newsground.openwebui_events:
                for c in reply.citations:  # before the final chunk: Open WebUI shows them as the answer ends
                    yield chunk({}, event=openwebui_source(c))
            yield chunk({"annotations": annotations_of(reply.citations)}, "stop", usage=_usage(), **_extras(answer, reply))

    return ClosingStreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})
