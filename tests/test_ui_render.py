"""The UI's HTML rendering: escaping, highlighting in context, markers, unsupported claims."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import date

import pytest
from click.testing import CliRunner

from rag.cli import main
from rag.models import AddResult, Answer, Article, ArticleSummary, Citation, Claim
from ui import render
from ui.handlers import parse_day
from rag.errors import InputError

TEXT = "Headline paragraph here.\nFirst sentence <b>bold</b>. The cited one & more. Last one.\nNext paragraph."
ARTICLE = Article(id="a1", title="<script>t()</script>Title", text=TEXT, source="Src", url="javascript:alert(1)",
                  published=date(2025, 11, 21))


def citation(n: int, quote: str, support: float = 1.0, url: str = "") -> Citation:
    start = TEXT.index(quote)
    return Citation(n=n, article_id="a1", title=ARTICLE.title, source="Src", url=url, published=ARTICLE.published,
                    start=start, end=start + len(quote), quote=quote, support=support)


def test_highlight_is_exactly_the_span_inside_its_paragraph():
    c = citation(1, "The cited one & more.")
    out = render.highlighted_paragraph(c, ARTICLE)
    assert "<mark>The cited one &amp; more.</mark>" in out
    assert out.startswith('<blockquote class="context">First sentence &lt;b&gt;bold&lt;/b&gt;. <mark>')
    assert out.endswith("</mark> Last one.</blockquote>")
    assert "Headline" not in out and "Next paragraph" not in out


def test_long_paragraphs_are_trimmed_around_the_span():
    long_text = ("word " * 400) + "Target sentence here." + (" tail" * 400)
    article = Article(id="a1", title="T", text=long_text)
    start = long_text.index("Target")
    c = Citation(n=1, article_id="a1", title="T", start=start, end=start + 21, quote="Target sentence here.",
                 support=1.0)
    out = render.highlighted_paragraph(c, article)
    assert "<mark>Target sentence here.</mark>" in out
    assert out.count("…") == 2 and len(out) < 2 * render.CONTEXT_CHARS + 200


def test_changed_or_removed_article_shows_the_quote_with_a_note():
    c = citation(1, "Last one.")
    changed = ARTICLE.model_copy(update={"text": TEXT.replace("Last one.", "Final one.")})
    for article in (None, changed):
        out = render.highlighted_paragraph(c, article)
        assert "<mark>Last one.</mark>" in out and "removed or changed" in out


def test_source_card_escapes_metadata_and_drops_unsafe_links():
    card = render.source_card(citation(2, "Last one.", url="javascript:alert(1)"), ARTICLE, turn=3)
    assert 'id="src-3-2"' in card and "&lt;script&gt;t()&lt;/script&gt;Title" in card
    assert "<a " not in card and "<script>" not in card
    safe = render.source_card(citation(2, "Last one.", url="https://example.org/x?a=1&b=\"2\""), ARTICLE, turn=3)
    assert 'href="https://example.org/x?a=1&amp;b=&quot;2&quot;"' in safe
    assert 'rel="noopener noreferrer nofollow"' in safe


def test_answer_markers_link_to_their_turns_sources_and_unsupported_claims_are_flagged():
    answer = Answer(
        question="Q <i>?</i>", standalone_question="Q <i>?</i> (Peskov)", mode="llm", answer="ignored",
        citations=[citation(1, "Last one.", support=0.81)],
        claims=[Claim(text="Supported <claim>.", citations=[1], support=0.8),
                Claim(text="Made-up claim.", citations=[], supported=False)],
        timings_ms={"total": 1234.0},
    )
    out = render.answer_message(answer, turn=4)
    assert 'Supported &lt;claim&gt;. <a class="cite" href="#src-4-1"' in out
    assert '<span class="unsupported"' in out and "Made-up claim." in out and ">unsupported<" in out
    assert "Searched for: <q>Q &lt;i&gt;?&lt;/i&gt; (Peskov)</q>" in out
    assert "LLM answer · 1 source · 1.2 s" in out
    assert "1 of 2 sentences are not supported" not in out, "counts come from answer.unsupported"
    flagged = answer.model_copy(update={"unsupported": ["Made-up claim."]})
    assert "1 of 2 sentences are not supported by any article" in render.answer_message(flagged, turn=4)


def test_abstention_has_no_markers():
    answer = Answer(question="Q", standalone_question="Q", mode="extractive", abstained=True,
                    answer="The corpus does not say [1].")
    out = render.answer_message(answer, turn=1)
    assert 'class="abstain"' in out and 'class="cite"' not in out
    assert "no sources" in out and "Searched for" not in out
    assert "No article in the library supports" in render.sources_section(answer, 1, {})


def test_sources_panel_marks_only_the_newest_turn_current():
    panel = render.sources_panel(["<h3>one</h3>", "<h3>two</h3>"])
    assert '<section class="turn" id="turn-1"' in panel
    assert '<section class="turn current" id="turn-2"' in panel
    assert "sources-empty" in render.sources_panel([])


def test_add_results_show_file_names_not_temporary_paths():
    out = render.add_results([
        AddResult(path="/tmp/gradio/ab12/report.jsonl:3", status="failed", reason="malformed JSON line <x>"),
        AddResult(path="pasted: <b>T</b>", status="added", article_id="t", title="<b>T</b>"),
    ])
    assert "<td>report.jsonl:3</td>" in out and "/tmp/gradio" not in out
    assert "malformed JSON line &lt;x&gt;" in out and "&lt;b&gt;T&lt;/b&gt;" in out
    assert "1 added, 1 failed" in out


def test_library_rows_filter_by_title_case_insensitively():
    summaries = [ArticleSummary(id="a", title="Kremlin says", chunks=2, added_at="2025-11-21T10:00:00"),
                 ArticleSummary(id="b", title="Comet briefing", published=date(2025, 11, 3))]
    assert render.library_rows(summaries, "  kREMLIN ") == [["Kremlin says", "", "", 2, "2025-11-21 10:00", "", "a"]]
    assert render.library_rows(summaries, "kremlin", {"a": "Valley news"})[0][-2:] == ["Valley news", "a"]
    assert [row[-1] for row in render.library_rows(summaries, "")] == ["a", "b"]


def test_article_view_escapes_every_paragraph():
    out = render.article_view(ARTICLE)
    assert "<p>First sentence &lt;b&gt;bold&lt;/b&gt;. The cited one &amp; more. Last one.</p>" in out
    assert "javascript" not in out


def test_parse_day():
    assert parse_day(" 2025-11-21 ", "Since") == date(2025, 11, 21)
    assert parse_day("", "Since") is None
    with pytest.raises(InputError, match="Until date '21/11/2025' is not a date like 2025-11-21"):
        parse_day("21/11/2025", "Until")


def test_ui_command_rejects_malformed_auth_in_one_line(tmp_path):
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "ui", "--auth", "no-colon"])
    assert result.exit_code == 1
    assert result.output.strip() == "error: --auth / RAG_UI_AUTH must look like USER:PASSWORD"
    assert not (tmp_path / "registry.sqlite3").exists(), "nothing is opened before the flags are valid"


def test_ui_command_reports_a_busy_port_in_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "rag", "--data-dir", str(tmp_path), "ui", "--port", str(port)],
                             capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"error: cannot listen on 127.0.0.1:{port}: the port is in use or not allowed (choose another with --port)")


def test_short_answer_is_bold_in_the_answer_and_highlighted_inside_its_citation():
    from rag.models import AnswerSpan
    from rag.query import understand

    c = citation(1, "The cited one & more.")
    start = TEXT.index("one & more")
    span = AnswerSpan(n=1, start=start, end=start + len("one & more"), text="one & more")
    answer = Answer(question="Which one?", standalone_question="Which one?", mode="extractive",
                    answer=f"one & more — {c.quote} [1]", citations=[c],
                    claims=[Claim(text=c.quote, citations=[1])], answer_span=span,
                    query=understand("Which one?", date(2025, 11, 21)))
    out = render.answer_message(answer, turn=2)
    assert out.startswith('<div class="answer final" data-turn="2"><strong class="short-answer">one &amp; more</strong>')
    assert out.count('class="cite"') == 1 and "Searched for" not in out, "a plain undated fact needs no query line"
    card = render.sources_section(answer, 2, {"a1": ARTICLE})
    assert '<mark>The cited <strong class="answer-span">one &amp; more</strong>.</mark>' in card


def test_the_searched_for_line_says_what_the_question_was_understood_to_ask():
    from rag.query import understand

    query = understand("What is the latest news in January 2026?", date(2026, 1, 12))
    answer = Answer(question=query.text, standalone_question=query.text, mode="extractive", answer="x [1]",
                    citations=[citation(1, "Last one.")], query=query)
    out = render.answer_message(answer, turn=1)
    assert ('<div class="searched">Searched for: <span class="query-info">the latest news, published 2026-01-01 to '
            '2026-01-31, as of 2026-01-12</span></div>') in out
    assert "the latest news" in render.pending_message(query)
    assert "<q>" not in render.pending_message(query) and "<q>" in render.pending_message(query, rewritten=True)


def test_the_chat_handler_shows_pending_then_streaming_then_the_final_answer(corpus_library):
    """What the chat streams to the page, in order: the search in progress, the answer's text as
    it comes, then the final answer with its citations."""
    import re

    from tests.support.ui_server import CITED_QUESTION
    from ui.handlers import ChatSession, Handlers

    states = []
    for messages, *_ in Handlers(corpus_library).respond(CITED_QUESTION, ChatSession(), "extractive", 5, "", ""):
        state = re.match(r'<div class="answer (\w+)', messages[-1]["content"]).group(1)
        if not states or states[-1] != state:
            states.append(state)
    assert states == ["pending", "streaming", "final"]
