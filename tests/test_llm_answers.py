"""LLM mode against a real OpenAI-compatible server (llama.cpp serving SmolLM2-135M-Instruct).

The model is tiny and often wrong: these tests check what the product promises regardless of
the model's quality. Every citation shown is verbatim in its article and supports its sentence;
every sentence that is not supported is flagged, listed under `unsupported` and never cited.
"""

from __future__ import annotations

import json
import re

import pytest

from conftest_llm import corpus_dir, corpus_library, corpus_texts, library_for, llm_env, llm_server, run_rag  # noqa: F401
from rag.answer.llm import UNSUPPORTED_MARK, claim_core
from rag.models import Answer, Turn

pytestmark = pytest.mark.server

QUESTIONS = [
    "Who is the Kremlin spokesperson?",
    "How many square miles have Russian forces captured?",
    "What is comet 3I/ATLAS?",
]
MARKER = re.compile(r"\[(\d+)\]")


@pytest.fixture(scope="module")
def llm_library(llm_server, corpus_dir):
    return library_for(llm_env(llm_server.env(), corpus_dir))


@pytest.fixture(scope="module")
def streamed_answers(llm_library):
    """(deltas, final Answer) for each question, asked in LLM mode."""
    runs = []
    for question in QUESTIONS:
        events = list(llm_library.ask_stream(question, mode="llm"))
        runs.append(([e for e in events if isinstance(e, str)], events[-1]))
    return runs


def check_citations(answer: dict, texts: dict[str, str]) -> None:
    """Every citation is verbatim, every marker has a citation, and every citation is used."""
    numbers = {c["n"] for c in answer["citations"]}
    for c in answer["citations"]:
        assert texts[c["article_id"]][c["start"]:c["end"]] == c["quote"]
    assert {int(n) for n in MARKER.findall(answer["answer"])} == numbers


def check_unsupported(answer: dict) -> None:
    """Unsupported sentences are shown flagged, never followed by a citation marker."""
    for claim in answer.get("unsupported", []):
        assert claim + UNSUPPORTED_MARK in answer["answer"]
        assert not re.match(r"\s*\[\d+\]", answer["answer"].split(claim, 1)[1])
    flagged = answer["answer"].count(UNSUPPORTED_MARK)
    assert flagged == len(answer.get("unsupported", []))


def test_rag_ask_json_in_llm_mode(llm_server, corpus_dir, corpus_texts):
    result = run_rag(["ask", "--json", "--mode", "llm", QUESTIONS[0]], llm_env(llm_server.env(), corpus_dir))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    answer = json.loads(result.stdout)
    assert answer["mode"] == "llm" and "notice" not in answer, answer
    check_citations(answer, corpus_texts)
    check_unsupported(answer)


def test_every_llm_answer_is_verified(streamed_answers, llm_library, corpus_texts):
    judge = llm_library.judge
    for _, answer in streamed_answers:
        assert answer.mode == "llm" and answer.notice is None, answer.notice
        data = answer.to_json_dict()
        check_citations(data, corpus_texts)
        check_unsupported(data)
        assert answer.unsupported == [c.text for c in answer.claims if not c.supported]
        quotes = {c.n: c.quote for c in answer.citations}
        for claim in answer.claims:
            assert claim.supported == bool(claim.citations)
            if claim.supported:
                # Independently re-judged: the cited words really support the sentence shown.
                assert judge.support(claim_core(claim.text), " ".join(quotes[n] for n in claim.citations)).supported
                assert f"{claim.text} [{claim.citations[0]}]" in answer.answer


def test_streamed_text_is_the_final_answer(streamed_answers):
    answered = [(deltas, a) for deltas, a in streamed_answers if not a.abstained]
    assert answered, "the model should attempt at least one of the questions"
    for deltas, answer in streamed_answers:
        assert "".join(deltas) == answer.answer
    assert max(len(deltas) for deltas, _ in answered) > 1, "tokens should stream, not arrive as one block"


def test_chat_llm_streams_tokens(llm_library):
    deltas = list(llm_library._llm().llm.stream("You are terse.", "Name three colours."))
    assert len(deltas) > 1 and "".join(deltas).strip()


def test_follow_up_is_condensed_by_the_llm(llm_library, streamed_answers):
    _, first = streamed_answers[0]
    follow_up = "What did he say about the peace deal?"
    answer = llm_library.ask(follow_up, history=[Turn(question=QUESTIONS[0], answer=first.answer)], mode="llm")
    assert isinstance(answer, Answer) and answer.mode == "llm" and answer.notice is None
    assert answer.standalone_question != follow_up
    assert answer.timings_ms["condense"] > 0


def test_rag_chat_shows_the_condensed_question(llm_server, corpus_dir):
    stdin = f"{QUESTIONS[0]}\nWhat did he say about the peace deal?\n\n"
    result = run_rag(["chat", "--mode", "llm"], llm_env(llm_server.env(), corpus_dir), stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "note:" not in result.stderr, result.stderr
    assert "(searched for: " in result.stdout
