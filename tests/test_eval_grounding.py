"""The judge (rag/verify/judge.py): offline evidence kinds, spread scores, and the LLM judge's fallback."""

from __future__ import annotations

import socket

import pytest

from rag.embeddings import LocalMiniLMEmbedding
from rag.llm.client import ChatLLM
from rag.settings import Settings
from rag.verify.judge import LLMJudge, OfflineJudge, make_judge

EVIDENCE = ("Kremlin spokesperson Dmitry Peskov said Russian diplomats have been in contact with U.S. officials. "
            "The plan has 28 points and was drafted in November.")


@pytest.fixture(scope="module")
def judge():
    return OfflineJudge(LocalMiniLMEmbedding())


def test_verbatim_claim_is_supported(judge):
    verdict = judge.support("The plan has 28 points and was drafted in November.", EVIDENCE)
    assert verdict.supported and verdict.score == 1.0


def test_paraphrase_is_supported(judge):
    verdict = judge.support("Peskov said Russian diplomats were in contact with U.S. officials.", EVIDENCE)
    assert verdict.supported, verdict


def test_changed_number_name_or_negation_lowers_support(judge):
    good = judge.support("The plan has 28 points.", EVIDENCE)
    number = judge.support("The plan has 20 points.", EVIDENCE)
    name = judge.support("Spokesperson Sergei Lavrov said Russian diplomats have been in contact with U.S. officials.", EVIDENCE)
    assert number.score < good.score and not number.supported
    assert any("numbers not in evidence: 20" in r for r in number.reasons)
    assert not name.supported and any("lavrov" in r.lower() for r in name.reasons)
    negated = judge.support("Russian diplomats have not been in contact with U.S. officials.", EVIDENCE)
    assert "negation differs" in negated.reasons


def test_a_name_with_digits_is_found_in_its_own_source(judge):
    """"3I/ATLAS" splits into "3", "I", "ATLAS" for the claim; the evidence's own copy must count."""
    comet = "NASA will host a live event on Nov. 19 to share imagery of the interstellar comet 3I/ATLAS."
    verdict = judge.support("NASA will hold a live event about comet 3I/ATLAS on Nov. 19.", comet)
    assert verdict.supported and not any("names not in evidence" in r for r in verdict.reasons), verdict
    other = judge.support("NASA will hold a live event about comet 2I/Borisov on Nov. 19.", comet)
    assert not other.supported and any("Borisov" in r for r in other.reasons)


def test_unrelated_evidence_is_not_support(judge):
    assert not judge.support("The comet passed closest to the Sun in October.", EVIDENCE).supported
    off_topic = judge.support("The comet is bright and moving quickly.", EVIDENCE)  # no name or number to miss
    assert not off_topic.supported and off_topic.reasons[0].startswith("term coverage")


def test_every_sentence_of_a_claim_must_be_supported(judge):
    one = "Peskov said Russian diplomats have been in contact with U.S. officials."
    assert judge.support(one, EVIDENCE).supported
    assert not judge.support(one + " The plan has 35 points.", EVIDENCE).supported


def test_support_many_matches_support(judge):
    pairs = [("The plan has 28 points.", EVIDENCE), ("The comet is bright.", EVIDENCE)]
    assert [v.supported for v in judge.support_many(pairs)] == [judge.support(c, e).supported for c, e in pairs]
    assert judge.support_many([]) == []


def test_llm_judge_falls_back_to_offline_when_the_llm_is_unreachable(judge):
    with socket.socket() as s:  # a port nobody listens on: the real client fails to connect
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1", OPENAI_API_KEY="x", RAG_LLM_TIMEOUT=2)
    llm_judge = LLMJudge(ChatLLM(settings, max_tokens=1), judge)
    verdict = llm_judge.support("The plan has 28 points.", EVIDENCE)
    assert verdict.supported and any("offline verdict" in r for r in verdict.reasons)


def test_make_judge_is_offline_without_an_llm_and_llm_assisted_with_one(judge):
    settings = Settings(OPENAI_BASE_URL="http://127.0.0.1:9/v1", OPENAI_API_KEY="x")
    assert isinstance(make_judge(settings, judge.embedder), OfflineJudge)
    assert isinstance(make_judge(settings, judge.embedder, ChatLLM(settings, max_tokens=1)), LLMJudge)


def test_offline_scores_spread(judge):
    """Different claims get different scores, not one constant (the fault the old model had)."""
    claims = ["Peskov said Russian diplomats were in contact with U.S. officials.",
              "Peskov said diplomats talked to officials.",
              "Russian diplomats have been in contact with officials about a framework.",
              "The plan was drafted in November by diplomats.",
              "Officials discussed a general framework for a peace deal."]
    scores = {v.score for v in judge.support_many([(c, EVIDENCE) for c in claims])}
    assert len(scores) >= 4, scores
