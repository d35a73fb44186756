"""The grounding judge (rag/grounding.py): offline evidence kinds and the LLM judge's fallback."""

from __future__ import annotations

import socket

import pytest

from rag.embeddings import LocalMiniLMEmbedding
from rag.grounding import GroundingJudge, LLMGroundingJudge, make_judge
from rag.llm import ChatLLM
from rag.settings import Settings

EVIDENCE = ("Kremlin spokesperson Dmitry Peskov said Russian diplomats have been in contact with U.S. officials. "
            "The plan has 28 points and was drafted in November.")


@pytest.fixture(scope="module")
def judge():
    return GroundingJudge(LocalMiniLMEmbedding())


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
    llm_judge = LLMGroundingJudge(ChatLLM(settings), judge)
    verdict = llm_judge.support("The plan has 28 points.", EVIDENCE)
    assert verdict.supported and any("offline verdict" in r for r in verdict.reasons)


def test_make_judge_is_offline_without_an_llm(judge):
    class NoLLM:
        llm_configured = False

    NoLLM.judge = judge
    assert make_judge(NoLLM()) is judge


def test_llm_verdict_parsing_is_strict_about_missing_verdicts():
    from rag.grounding import _parse_verdict

    assert _parse_verdict("YES") == "YES" and _parse_verdict("The answer is: no.") == "NO"
    assert _parse_verdict("The claim is not supported.") == "NO" and _parse_verdict("Supported.") == "YES"
    assert _parse_verdict("The James Webb telescope saw a galaxy.") is None
