"""The one citation object (rag/verify/citations.py) and the chat replies made of it, without a
server: every citation's answer offsets locate its claim in the text a client receives, whatever
came before it in a stream."""

from __future__ import annotations

from datetime import date

from rag.models import Answer, Article, Claim
from rag.verify.citations import answer_citations, claim_spans, make_citation
from service.cite import annotations_of, reply_of

ARTICLE = Article(id="a1", title="Bridge reopens", source="Local Wire",
                  text="The bridge reopened on Monday. Traffic returned by noon. Tolls stay suspended until May.")


def link(article_id: str, start: int, end: int) -> str:
    return f"span://{article_id}/{start}-{end}"


def answer(text: str, claims: list[Claim], spans: list[tuple[int, int]]) -> Answer:
    citations = [make_citation(n, ARTICLE, s, e, 1.0) for n, (s, e) in enumerate(spans, 1)]
    return Answer(question="q", standalone_question="q", mode="extractive", answer=text, citations=citations,
                  claims=claims)


def sentence(i: int) -> tuple[int, int]:
    starts = [0, 31, 57]
    ends = [30, 56, len(ARTICLE.text)]
    return starts[i], ends[i]


def test_claims_are_found_in_order_and_uncited_markers_fall_back_to_the_text_before_them():
    text = "Monday — The bridge reopened on Monday. [1] Traffic returned by noon. [2] Tolls stay suspended. [3]"
    a = answer(text, [Claim(text="The bridge reopened on Monday.", citations=[1]),
                      Claim(text="Traffic returned by noon.", citations=[2])], [sentence(0), sentence(1), sentence(2)])
    spans = claim_spans(a)
    assert text[slice(*spans[1])] == "The bridge reopened on Monday."
    assert text[slice(*spans[2])] == "Traffic returned by noon."
    assert text[slice(*spans[3])] == "Tolls stay suspended."


def test_reply_offsets_index_the_whole_content_after_text_already_streamed():
    text = "Traffic returned by noon. [1]"
    a = answer(text, [Claim(text="Traffic returned by noon.", citations=[1])], [sentence(1)])
    streamed = "A first draft that was withdrawn.\n\nnotice\n\n"
    reply = reply_of(a, answer_citations(a, {"a1": ARTICLE}, link, offset=len(streamed)))
    content = streamed + reply.content
    (c,) = reply.citations
    assert content[c.answer_start:c.answer_end] == "Traffic returned by noon."
    assert c.verified and ARTICLE.text[c.start:c.end] == c.quote and c.url == "span://a1/31-56"
    assert reply.content.endswith('[1] Bridge reopens — Local Wire — \u201cTraffic returned by noon.\u201d')
    (annotation,) = annotations_of(reply.citations)
    assert annotation["url_citation"]["start_index"] == c.answer_start


def test_a_citation_whose_article_is_gone_or_changed_is_not_verified():
    a = answer("Traffic returned by noon. [1]", [], [sentence(1)])
    changed = ARTICLE.model_copy(update={"text": ARTICLE.text.replace("noon", "dusk")})
    assert not answer_citations(a, {}, link)[0].verified
    assert not answer_citations(a, {"a1": changed}, link)[0].verified
    assert answer_citations(a, {"a1": ARTICLE}, link)[0].verified
    assert not reply_of(a, answer_citations(a, {"a1": ARTICLE}, link), append_sources=False).content.count("Sources:")


def test_without_a_link_the_url_is_the_articles_own_and_every_field_is_set():
    article = ARTICLE.model_copy(update={"url": "https://example.com/bridge", "published": date(2025, 12, 1)})
    a = Answer(question="q", standalone_question="q", mode="extractive", answer="Traffic returned by noon. [1]",
               citations=[make_citation(1, article, *sentence(1), 0.8)],
               claims=[Claim(text="Traffic returned by noon.", citations=[1])])
    (c,) = answer_citations(a, {"a1": article}, pages={1: 3})
    assert c.model_dump(mode="json") == {
        "id": "a1:31-56", "n": 1, "article_id": "a1", "start": 31, "end": 56, "quote": "Traffic returned by noon.",
        "verified": True, "title": "Bridge reopens", "source": "Local Wire", "url": "https://example.com/bridge",
        "published": "2025-12-01", "answer_start": 0, "answer_end": 25, "support": 0.8,
        "article_url": "https://example.com/bridge", "page": 3}
