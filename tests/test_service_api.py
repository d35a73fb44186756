"""`rag serve`'s /v1 API against a live server: the real `openai` client, the REST endpoints, bad
input, and streams that end early. Every citation is checked against the article text the API
itself serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import openai
import pytest

from tests.support.service import OFFLINE, server_threads, wait_until
from tests.support.ui_server import CITED_QUESTION, FIRST_QUESTION, FOLLOW_UP, ROOT

pytestmark = pytest.mark.server
SUMMARY_QUESTION = "What happened in the peace talks?"


@pytest.fixture(scope="module")
def client(api_base):
    return openai.OpenAI(base_url=f"{api_base}/v1", api_key="unused", max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def http(api_base):
    with httpx.Client(base_url=api_base, timeout=120) as session:
        yield session


def article_text(http, article_id: str) -> str:
    response = http.get(f"/v1/articles/{article_id}")
    assert response.status_code == 200
    return response.json()["text"]


def check_citations(http, content: str, citations: list[dict]) -> None:
    """Every citation's quote is the article's text at its offsets, and its claim is in the content."""
    assert citations
    for c in citations:
        text = article_text(http, c["article_id"])
        assert text[c["start"]:c["end"]] == c["quote"] and c["verified"]
        claim = content[c["answer_start"]:c["answer_end"]]
        assert claim.strip() and f"[{c['n']}]" in content[c["answer_end"]:c["answer_end"] + 8]


def test_chat_completion_keeps_every_citation(client, http):
    completion = client.chat.completions.create(model="newsground", messages=[{"role": "user", "content": SUMMARY_QUESTION}],
                                                extra_body={"newsground": {"top_k": 5}})
    message = completion.choices[0].message
    native = completion.model_extra["newsground"]
    assert native["mode"] == "extractive" and not native["abstained"]
    assert message.content.startswith(native["answer"]) and "\n\nSources:\n[1] " in message.content
    check_citations(http, message.content, native["citations"])
    annotations = [a.model_dump() for a in message.annotations]
    assert len(annotations) == len(native["citations"])
    for annotation, citation in zip(annotations, native["citations"]):
        cited = annotation["url_citation"]
        assert (cited["start_index"], cited["end_index"]) == (citation["answer_start"], citation["answer_end"])
        assert article_text(http, cited["article_id"])[cited["start"]:cited["end"]] == cited["quote"]
        assert http.get(cited["url"]).status_code == 200  # the span page
    assert completion.model_extra["citations"] == [c["url"] for c in native["citations"]]
    assert [r["snippet"] for r in completion.model_extra["search_results"]] == [c["quote"] for c in native["citations"]]
    # The native object is the one /v1/ask returns for the same question.
    asked = http.post("/v1/ask", json={"question": SUMMARY_QUESTION, "top_k": 5}).json()
    assert asked["answer"] == native["answer"]
    assert [c["quote"] for c in asked["citations"]] == [c["quote"] for c in native["citations"]]


def test_chat_stream_sends_citations_once_at_the_end(client, http):
    stream = client.chat.completions.create(model="newsground", stream=True,
                                            messages=[{"role": "user", "content": SUMMARY_QUESTION}])
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    carrying = [c for c in chunks if (c.model_extra or {}).get("newsground") is not None]
    assert len(carrying) == 1 and carrying[0] is chunks[-1]
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    annotations = final.choices[0].delta.model_extra["annotations"]
    native = final.model_extra["newsground"]
    assert len(annotations) == len(native["citations"]) == len(final.model_extra["citations"])
    check_citations(http, content, native["citations"])
    assert all(not (c.choices[0].delta.model_extra or {}).get("annotations") for c in chunks[:-1])
    # Same answer as without streaming, offsets and all.
    whole = client.chat.completions.create(model="newsground", messages=[{"role": "user", "content": SUMMARY_QUESTION}])
    assert content == whole.choices[0].message.content


def chat_stream(http, body: dict) -> list:
    """The data lines of a chat stream: dicts, then the string "[DONE]"."""
    with http.stream("POST", "/v1/chat/completions", json={"stream": True, **body}) as response:
        assert response.status_code == 200
        return [line[6:] if line[6:] == "[DONE]" else json.loads(line[6:])
                for line in response.iter_lines() if line.startswith("data: ")]


def openwebui_sources(chunks: list) -> list[dict]:
    """What Open WebUI keeps of a stream's events, as its code reads them: the middleware passes a
    chunk's `event` to the event emitter (backend/open_webui/utils/middleware.py); the emitter
    stores `data` of a `source`/`citation` event with no `type` as a message source
    (socket/main.py); Citations.svelte groups documents by `metadata.source` and numbers the groups."""
    stored = [c["event"]["data"] for c in chunks if isinstance(c, dict) and "event" in c
              and c["event"].get("type") in ("source", "citation") and c["event"]["data"].get("type") is None]
    groups: dict[str, dict] = {}
    for source in stored:
        for i, document in enumerate(source["document"]):
            metadata = source["metadata"][i]
            key = metadata.get("source") or source["source"].get("id")
            group = groups.setdefault(key, {"name": metadata.get("name") or source["source"]["name"],
                                            "url": metadata.get("source_url"), "documents": [], "metadata": []})
            group["documents"].append(document)
            group["metadata"].append(metadata)
    return list(groups.values())


def test_openwebui_events_carry_each_quote_as_open_webui_reads_them(http):
    body = {"messages": [{"role": "user", "content": SUMMARY_QUESTION}]}
    plain = chat_stream(http, body)
    assert not any("event" in c for c in plain[:-1])
    chunks = chat_stream(http, {**body, "newsground": {"openwebui_events": True}})
    assert chunks[-1] == "[DONE]" and "newsground" in chunks[-2]
    native = chunks[-2]["newsground"]["citations"]
    events = [i for i, c in enumerate(chunks[:-1]) if "event" in c]
    assert len(events) == len(native) and events == list(range(events[0], len(chunks) - 2))  # just before the end
    for i in events:  # a valid chunk otherwise: an empty delta, nothing else riding along
        assert chunks[i]["object"] == "chat.completion.chunk" and chunks[i]["choices"][0]["delta"] == {}
        assert set(chunks[i]["event"]) == {"type", "data"} and chunks[i]["event"]["type"] == "source"
        assert set(chunks[i]["event"]["data"]) == {"source", "document", "metadata"}
    # Content without events is the same: the events add, they do not change the answer.
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1])
    assert content == "".join(c["choices"][0]["delta"].get("content") or "" for c in plain[:-1])
    shown = openwebui_sources(chunks)
    assert len(shown) == len(native)  # one source per citation: [n] in the content opens the n-th
    for n, (source, citation) in enumerate(zip(shown, native), 1):
        assert citation["n"] == n and f"[{n}]" in content
        assert source["name"] == f"[{n}] {citation['title']}"
        assert source["documents"] == [citation["quote"]] and source["url"] == citation["url"]
        (metadata,) = source["metadata"]
        assert (metadata["article_id"], metadata["start"], metadata["end"]) == \
            (citation["article_id"], citation["start"], citation["end"])
        assert article_text(http, metadata["article_id"])[metadata["start"]:metadata["end"]] == source["documents"][0]
        assert "html" not in metadata and http.get(source["url"]).status_code == 200


def test_chat_history_condenses_a_follow_up_and_sources_can_be_left_out(client):
    first = client.chat.completions.create(model="newsground", messages=[{"role": "user", "content": FIRST_QUESTION}])
    follow = client.chat.completions.create(
        model="newsground", extra_body={"newsground": {"append_sources": False}},
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": FIRST_QUESTION},
                  {"role": "assistant", "content": first.choices[0].message.content},
                  {"role": "user", "content": FOLLOW_UP}])
    native = follow.model_extra["newsground"]
    assert "Sources:" not in follow.choices[0].message.content
    assert follow.choices[0].message.content == native["answer"]
    assert native["query"] is not None and native["citations"]


def test_chat_filters_keep_the_answer_to_the_chosen_articles(client):
    seed = "01-washtimes-2025-11-21-kremlin-peace-plan"
    for filters in ({"article_ids": [seed]}, {"sources": ["the washington times"]}):
        reply = client.chat.completions.create(
            model="newsground", messages=[{"role": "user", "content": "What did the Kremlin say about the peace plan?"}],
            extra_body={"newsground": {"filters": filters}})
        native = reply.model_extra["newsground"]
        assert not native["abstained"] and {c["article_id"] for c in native["citations"]} == {seed}, filters
    with pytest.raises(openai.NotFoundError, match="no-such-article"):
        client.chat.completions.create(model="newsground", messages=[{"role": "user", "content": SUMMARY_QUESTION}],
                                       extra_body={"newsground": {"filters": {"article_ids": ["no-such-article"]}}})


def test_ask_json_and_its_event_stream(http):
    answer = http.post("/v1/ask", json={"question": CITED_QUESTION}).json()
    assert set(answer) >= {"question", "standalone_question", "mode", "answer", "abstained", "citations", "retrieved",
                           "timings_ms", "query"}
    check_citations(http, answer["answer"], answer["citations"])
    assert {"id", "n", "article_id", "start", "end", "quote", "verified", "title", "source", "url", "published",
            "answer_start", "answer_end", "support"} <= set(answer["citations"][0])
    events = []
    with http.stream("POST", "/v1/ask", params={"stream": "true"}, json={"question": CITED_QUESTION}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
    names = [n for n, _ in events]
    assert names[0] == "searching" and names[-1] == "done" and "delta" in names
    assert names.count("citation") == len(answer["citations"])
    done = events[-1][1]
    assert "".join(d["text"] for n, d in events if n == "delta") == done["answer"] == answer["answer"]
    assert [d for n, d in events if n == "citation"] == done["citations"]


def test_ask_is_exactly_the_rag_ask_json_object(http, service_data):
    """`rag ask --json` and `POST /v1/ask` print one object; only a citation's `url` differs (the
    CLI has no server: it gives the article's own URL, the API the span page) and the timings."""
    run = subprocess.run([sys.executable, "-m", "rag", "--data-dir", str(service_data), "ask", CITED_QUESTION, "--json",
                          "--mode", "extractive"], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, **OFFLINE})
    assert run.returncode == 0, run.stderr[-3000:]
    cli = json.loads(run.stdout)
    api = http.post("/v1/ask", json={"question": CITED_QUESTION, "mode": "extractive"}).json()
    fields = ["id", "n", "article_id", "start", "end", "quote", "verified", "title", "source", "url", "published",
              "answer_start", "answer_end", "support", "article_url", "page"]
    for data in (cli, api):
        assert data["mode"] == "extractive" and not data["abstained"] and data["citations"]
        assert [list(c) for c in data["citations"]] == [fields] * len(data["citations"])
        check_citations(http, data["answer"], data["citations"])
    for c, a in zip(cli["citations"], api["citations"]):
        assert c["url"] == c["article_url"] == a["article_url"]
        assert a["url"].endswith(f"/v1/articles/{a['article_id']}/span?start={a['start']}&end={a['end']}")
        assert http.get(a["url"]).status_code == 200
    unlinked = [{k: v for k, v in c.items() if k != "url"} for c in cli["citations"]]
    assert unlinked == [{k: v for k, v in c.items() if k != "url"} for c in api["citations"]]
    assert {k: v for k, v in cli.items() if k not in ("timings_ms", "citations")} == \
        {k: v for k, v in api.items() if k not in ("timings_ms", "citations")}
    assert set(cli["timings_ms"]) == set(api["timings_ms"])


def test_search_returns_chunks_with_offsets(http):
    results = http.post("/v1/search", json={"query": "Kremlin spokesperson", "top_k": 3}).json()["results"]
    assert 0 < len(results) <= 3
    for r in results:
        assert article_text(http, r["article_id"])[r["start"]:r["end"]] == r["text"]
    state = http.post("/v1/search", json={"query": "peace plan", "top_k": 3, "source": "U.S. Department of State"})
    assert state.json()["results"] and {r["source"] for r in state.json()["results"]} == {"U.S. Department of State"}


def test_articles_add_show_span_list_and_remove(http):
    title = "Service test: harbour bridge reopens"
    text = "The harbour bridge reopened on Monday after repairs.\nTraffic returned to normal by noon."
    added = http.post("/v1/articles", json={"title": title, "text": text, "source": "Test Wire", "published": "2025-11-30"})
    assert added.status_code == 201 and added.json()["status"] == "added"
    article_id = added.json()["article_id"]
    try:
        again = http.post("/v1/articles", json={"title": title, "text": text, "source": "Test Wire"})
        assert again.status_code == 200 and again.json()["status"] == "unchanged"
        shown = http.get(f"/v1/articles/{article_id}").json()
        assert shown["title"] == title and shown["text"] == text and shown["sha256"]
        start = text.index("Traffic")
        page = http.get(f"/v1/articles/{article_id}/span", params={"start": start, "end": len(text)})
        assert page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
        assert '<mark id="span">Traffic returned to normal by noon.</mark>' in page.text
        listed = http.get("/v1/articles", params={"source": "test wire"}).json()
        assert [a["id"] for a in listed["articles"]] == [article_id] and listed["next_cursor"] is None
    finally:
        removed = http.delete(f"/v1/articles/{article_id}")
    assert removed.status_code == 200 and removed.json()["removed"] == article_id
    assert http.get(f"/v1/articles/{article_id}").status_code == 404


def test_article_listing_pages_with_a_cursor(http):
    everything = http.get("/v1/articles", params={"limit": 200}).json()["articles"]
    seen, cursor = [], None
    while True:
        page = http.get("/v1/articles", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [a["id"] for a in page["articles"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(a["id"] for a in everything) and len(seen) >= 10


@pytest.mark.parametrize("method, path, body, status, code", [
    ("POST", "/v1/ask", b'{"question": "who?"', 400, "malformed_json"),
    ("POST", "/v1/ask", {"question": ""}, 422, "invalid_value"),
    ("POST", "/v1/ask", {"question": "   "}, 400, "invalid_input"),
    ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": " "}]}, 400, "invalid_input"),
    ("POST", "/v1/ask", {"question": "Who?", "top_k": 51}, 422, "invalid_value"),
    ("POST", "/v1/search", {"query": "peace", "top_k": 0}, 422, "invalid_value"),
    ("POST", "/v1/ask?stream=true", {"question": "Who?", "since": "2025-12-01", "until": "2025-11-01"}, 422,
     "invalid_value"),
    ("GET", "/v1/articles/no-such-article", None, 404, "article_not_found"),
    ("GET", "/v1/articles/01-washtimes-2025-11-21-kremlin-peace-plan/span?start=5&end=999999", None, 400, "invalid_input"),
    ("POST", "/v1/ask", {"question": "x" * 2_000_000}, 413, "body_too_large"),
    ("POST", "/v1/articles", {"url": "http://127.0.0.1:9/"}, 422, "add_failed"),
    ("POST", "/v1/articles", {"title": "no text"}, 422, "invalid_value"),
    ("GET", "/v1/nothing-here", None, 404, "unknown_endpoint"),
])
def test_bad_input_gets_a_clear_error_in_the_openai_envelope(http, method, path, body, status, code):
    content = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    response = http.request(method, path, content=content, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and set(error) == {"message", "type", "param", "code"}
    assert "Traceback" not in response.text


def test_ssrf_refusal_names_the_reason(http):
    error = http.post("/v1/articles", json={"url": "http://169.254.169.254/latest/meta-data/"}).json()["error"]
    assert "private, loopback or link-local" in error["message"]


def test_openai_client_raises_its_own_error_classes(client):
    with pytest.raises(openai.BadRequestError, match="question is empty"):
        client.chat.completions.create(model="newsground", messages=[{"role": "user", "content": ""}])
    with pytest.raises(openai.UnprocessableEntityError, match="top_k"):
        client.chat.completions.create(model="newsground", messages=[{"role": "user", "content": "peace?"}],
                                       extra_body={"newsground": {"top_k": 500}})


def test_streams_closed_mid_answer_leave_no_thread_behind(http, serve_server):
    http.post("/v1/ask", json={"question": FIRST_QUESTION})  # warm the worker threads
    before = server_threads(serve_server)
    streams = [("/v1/ask?stream=true", {"question": SUMMARY_QUESTION}),
               ("/v1/chat/completions", {"stream": True, "messages": [{"role": "user", "content": SUMMARY_QUESTION}]})]
    for path, body in streams * 6:
        with http.stream("POST", path, json=body) as response:
            assert response.status_code == 200
            next(response.iter_lines())  # the first event, then the client goes away
    # Idle worker threads are retired when a later call finds them idle for 10 s (anyio's
    # MAX_IDLE_TIME): keep making calls until the count settles. A thread left per closed stream
    # would leave 12 more; the margin of 2 is for threads a server starts once, lazily.
    def settled():
        assert http.get("/healthz").json() == {"status": "ok"}
        return server_threads(serve_server) <= before + 2

    assert wait_until(settled, timeout=90, every=0.5), \
        f"{server_threads(serve_server)} threads after 12 closed streams, {before} before"


def test_models_health_and_openapi(client, http):
    assert [m.id for m in client.models.list()] == ["newsground"]
    assert http.get("/healthz").json() == {"status": "ok"}
    spec = http.get("/openapi.json").json()
    paths = spec["paths"]
    assert {"/v1/ask", "/v1/chat/completions", "/v1/search", "/v1/articles", "/v1/articles/{article_id}/span",
            "/v1/feeds", "/v1/stories"} <= set(paths)
    asked = paths["/v1/ask"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert asked["$ref"].endswith("/AskResponse")
    cited = spec["components"]["schemas"]["AnswerCitation"]["properties"]
    assert {"id", "n", "article_id", "start", "end", "quote", "verified", "title", "source", "url", "published",
            "answer_start", "answer_end"} <= set(cited)
    assert "Unicode code points" in cited["start"]["description"] and "exclusive" in cited["end"]["description"]
