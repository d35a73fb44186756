"""LLM mode against a real OpenAI-compatible server (llama.cpp serving Qwen2.5 1.5B Instruct).

Generations are few and short (the model runs on the CPU): these tests check what the product
promises regardless of the model's quality. Every citation shown is verbatim in its article and
supports its sentence; every sentence that is not supported is flagged, listed under
`unsupported` and never cited; an answer with no supported sentence is replaced by the
extractive one with a notice.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.support.llm_servers import StatusProxy, library_for, llm_env, run_rag, streamed_content
from rag.answer.claims import UNSUPPORTED_MARK, claim_core, support_text
from rag.answer.short import locate_phrase
from rag.conversation import CONDENSE_SYSTEM, rewrite_followup, usable_rewrite
from rag.llm.client import ChatLLM
from rag.answer.prompt import SYSTEM_PROMPT
from rag.models import Quotes, Turn
from rag.verify.judge import LLMJudge

pytestmark = pytest.mark.server

QUESTIONS = [
    "Who is the Kremlin spokesperson?",
    "What is the boiling point of liquid nitrogen?",  # not in the corpus
    # Its best evidence sentence scores 0.85, yet the model once replied "Not in the sources." to
    # it: the answer check keeps the extractive quotes then.
    "When was comet 3I/ATLAS discovered?",
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
        events = list(llm_library.ask_stream(question, mode="llm", quotes_first=True))
        runs.append(([e for e in events if isinstance(e, str)], events[-1], events))
    return runs


def quoted_instead(notice: str) -> bool:
    """The notice of an LLM answer replaced by quotes (the extractive ones, or those the model drew on or cited)."""
    return any(phrase in notice for phrase in ("quoted sentences are shown instead", "sentences it drew on are quoted instead",
                                               "sentences it cited are quoted instead"))


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
    if answer["mode"] == "llm":
        assert "notice" not in answer and answer["model"] == llm_server.alias, answer
    else:  # the LLM-assisted judge (SummEdits threshold) did not confirm the model's sentence: quotes instead
        assert answer["mode"] == "extractive" and quoted_instead(answer["notice"]), answer
    assert "Peskov" in answer["answer"] and not answer["abstained"]
    check_citations(answer, corpus_texts)
    check_unsupported(answer)


def test_every_llm_answer_is_verified(streamed_answers, llm_library, corpus_texts):
    judge = llm_library.support_judge(llm=True)
    for _, answer, _ in streamed_answers:
        data = answer.to_json_dict()
        check_citations(data, corpus_texts)
        check_unsupported(data)
        assert answer.unsupported == [c.text for c in answer.claims if not c.supported]
        if answer.mode == "extractive":  # replaced: no supported sentence, or "not in the sources"
            assert answer.notice and quoted_instead(answer.notice)
            continue
        if answer.abstained:  # withdrawn (nothing supported, weak evidence) or "not in the sources"
            assert not answer.citations and not answer.claims
            continue
        assert answer.notice is None and answer.model == llm_library.settings.llm_model
        cited = {c.n: c for c in answer.citations}
        for claim in answer.claims:
            assert claim.supported == bool(claim.citations)
            if claim.supported:
                # Independently re-checked: a short answer's words are in the cited sentence; else the
                # LLM-assisted judge (which decides every claim that is not a verbatim quote) finds the
                # cited words, after their article's title and date, support the sentence.
                quotes = [cited[n].quote for n in claim.citations]
                if any(locate_phrase(claim.text, q) for q in quotes):
                    continue
                text = support_text([(llm_library.article(cited[n].article_id), cited[n].quote) for n in claim.citations])
                assert judge.support(claim_core(claim.text), text).supported
                assert f"{claim.text} [{claim.citations[0]}]" in answer.answer


def test_answerable_question_is_answered_and_cited(streamed_answers):
    _, answer, _ = streamed_answers[0]
    assert answer.mode == "llm" and not answer.abstained and "Peskov" in answer.answer
    assert answer.claims and all(c.supported for c in answer.claims), answer.answer


def test_question_outside_the_corpus_shows_no_supported_claim(streamed_answers):
    _, answer, _ = streamed_answers[1]
    # An abstention, or an answer whose sentences are all flagged (or replaced by extractive quotes):
    # never an invented boiling point presented as cited.
    if answer.mode == "llm" and not answer.abstained:
        assert not any(c.supported for c in answer.claims), answer.answer
    assert "196" not in re.sub(r"\[unsupported\]", "", answer.answer) or answer.unsupported


def test_streamed_text_is_the_final_answer(streamed_answers):
    for deltas, answer, _ in streamed_answers:
        if answer.notice is None:
            assert "".join(deltas) == answer.answer
    deltas, answer, _ = streamed_answers[0]
    assert len(deltas) > 1, "tokens should stream, not arrive as one block"


def test_verified_quotes_come_before_the_models_text(streamed_answers, corpus_texts):
    """With quotes_first, the extractive quotes (verbatim) are yielded before any text the model writes."""
    _, _, events = streamed_answers[0]
    kinds = [type(e).__name__ for e in events]
    assert "Quotes" in kinds and kinds.index("Quotes") < kinds.index("str"), kinds
    quotes = next(e for e in events if isinstance(e, Quotes))
    assert quotes.citations and "Peskov" in quotes.answer
    for c in quotes.citations:
        assert corpus_texts[c.article_id][c.start:c.end] == c.quote


def test_the_model_is_asked_when_the_extractive_rule_would_refuse(llm_server, corpus_dir, corpus_texts):
    """No extractive answerability rule vetoes the model: with the extractive threshold at 1.0 every
    factoid question is refused extractively, and in LLM mode the model still gets the evidence."""
    with StatusProxy(llm_server.base_url.removesuffix("/v1"), count=0) as proxy:
        library = library_for(llm_env(llm_server.env(), corpus_dir, OPENAI_BASE_URL=proxy.base_url))
        library.extractive.abstain_threshold = 1.0
        assert library.ask(QUESTIONS[0], mode="extractive").abstained
        answer = library.ask(QUESTIONS[0], mode="llm")
    asked = [json.loads(request) for path, request, _ in proxy.exchanges if path.endswith("/chat/completions")]
    answering = [r for r in asked if r["messages"][0]["content"] == SYSTEM_PROMPT]
    assert len(answering) == 1 and QUESTIONS[0] in answering[0]["messages"][-1]["content"]
    for c in answer.citations:
        assert corpus_texts[c.article_id][c.start:c.end] == c.quote


def test_chat_llm_streams_tokens(llm_server):
    from rag.settings import Settings

    llm = ChatLLM(Settings(**{k: v for k, v in llm_server.env().items() if k != "RAG_LLM_CONTEXT_WINDOW"}), max_tokens=8)
    deltas = list(llm.stream("You are terse.", "Name three colours."))
    assert len(deltas) > 1 and "".join(deltas).strip()


def test_follow_up_is_condensed_by_the_llm(llm_server, corpus_dir):
    """The follow-up is sent to the LLM with the conversation, and the library searches for exactly
    the LLM's rewrite (both seen by a recording proxy), which the offline rewrite would not produce."""
    question = "What did he say about the plan?"  # offline: "he" resolved, the names of the last turn appended
    history = [Turn(question=QUESTIONS[0], answer="Kremlin spokesperson Dmitry Peskov said talks had begun. [1]")]
    with StatusProxy(llm_server.base_url.removesuffix("/v1"), count=0) as proxy:
        library = library_for(llm_env(llm_server.env(), corpus_dir, OPENAI_BASE_URL=proxy.base_url))
        events = library.ask_stream(question, history=history, mode="llm")
        searched = next(events).query.text  # the first event: the query about to be searched
        events.close()  # the answer itself is not needed here
    condensing = [(json.loads(request), reply) for path, request, reply in proxy.exchanges
                  if path.endswith("/chat/completions") and json.loads(request)["messages"][0]["content"] == CONDENSE_SYSTEM]
    assert len(condensing) == 1, [path for path, *_ in proxy.exchanges]
    request, reply = condensing[0]
    sent = request["messages"][-1]["content"]
    assert history[0].question in sent and history[0].answer in sent and question in sent, sent
    rewrite = streamed_content(reply)
    # The reply as the library reads it (surrounding quotes or a "Question:" label dropped).
    assert searched == usable_rewrite(rewrite, history) and searched in rewrite, (searched, rewrite)
    assert searched != rewrite_followup(question, history), searched
    assert "Peskov" in searched, searched


def test_llm_judge_reads_p_yes_from_logprobs(llm_library):
    evidence = "Kremlin spokesperson Dmitry Peskov said Russian diplomats have been in contact with U.S. officials."
    judge = LLMJudge(ChatLLM(llm_library.settings, max_tokens=1), llm_library.support_judge())
    supported = judge.p_yes("Dmitry Peskov is the Kremlin spokesperson.", evidence)
    contradicted = judge.p_yes("Sergei Lavrov is the Kremlin spokesperson.", evidence)
    assert 0.0 <= contradicted < supported <= 1.0, (supported, contradicted)
    verdict = judge.support("Peskov said Russian diplomats were in contact with U.S. officials.", evidence)
    assert verdict.reasons[0].startswith("LLM p(yes)")


def test_rag_chat_shows_the_condensed_question(llm_server, corpus_dir):
    stdin = f"{QUESTIONS[0]}\nWhat did he say about the peace deal?\n\n"
    result = run_rag(["chat", "--mode", "llm"], llm_env(llm_server.env(), corpus_dir), stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "(searched for: " in result.stdout


def test_a_strongly_answered_question_is_not_refused(streamed_answers):
    """Answered by the model with a supported sentence, or, when the model says the sources do not
    answer or nothing it wrote holds, by the extractive answer with a notice: not an abstention."""
    _, answer, _ = streamed_answers[2]
    assert not answer.abstained, answer
    assert "July 1" in answer.answer or any("July 1" in c.quote for c in answer.citations), answer.answer
    if answer.mode == "llm":
        assert answer.claims and any(c.supported for c in answer.claims), answer.answer


def test_the_answer_check_tells_an_answer_from_a_near_miss(llm_library):
    """Asked only whether the extractive answer's sentences answer the question, the model says
    yes to the plan's "28-point" sentence for "How many points ...?" (which the model itself
    once refused) and no to the Eurovision withdrawals for an Olympics question."""
    from rag.answer.llm import ANSWER_CHECK_THRESHOLD
    from rag.answer.prompt import ANSWER_CHECK_SYSTEM, answer_check_prompt

    llm = ChatLLM(llm_library.settings, max_tokens=1)
    p = {}
    for question in ("How many points does President Trump's Ukraine peace plan have?",
                     "How many countries withdrew from the 2024 Olympics?"):
        found = llm_library.evidence(question, k=5)
        draft = next(e for e in llm_library.extractive.stream(question, found)
                     if not isinstance(e, str))
        assert draft.citations, draft.answer  # both have an extractive answer to check
        p[question] = llm.yes_probability(ANSWER_CHECK_SYSTEM, answer_check_prompt(question, draft.citations, found.articles))
    answer, near_miss = p.values()
    assert answer >= ANSWER_CHECK_THRESHOLD > near_miss, p
