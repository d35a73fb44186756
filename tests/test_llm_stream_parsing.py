"""How a streamed model reply becomes shown text and verified citations (no server needed).

Replies are fed in small pieces, as a server streams them, into the answerer's parser with the
real grounding judge and real evidence from the shipped corpus.
"""

from __future__ import annotations

import pytest

from conftest_llm import corpus_dir, corpus_library  # noqa: F401  (fixtures)
from rag.answer.llm import UNSUPPORTED_MARK, _ClaimResolver, _StreamedAnswer, label_order, pack_evidence

QUESTION = "Who is the Kremlin spokesperson?"
PESKOV = "Kremlin spokesperson Dmitry Peskov"


@pytest.fixture(scope="module")
def evidence(corpus_library):
    library = corpus_library
    found = library.evidence(QUESTION, k=5)
    articles = found.articles
    packed = label_order(pack_evidence(found.evidence, budget_tokens=1500))
    texts = [articles[e.article_id].text[e.start:e.end] for e in packed]
    label = next(i for i, t in enumerate(texts, 1) if t.startswith(PESKOV))
    return library, packed, articles, label


def stream(evidence, reply: str, piece: int = 3):
    """Feed `reply` in `piece`-character deltas; returns (shown deltas, draft)."""
    library, packed, articles, _ = evidence
    answer = _StreamedAnswer(_ClaimResolver(packed, articles, library.judge))
    shown = []
    for i in range(0, len(reply), piece):
        shown += list(answer.feed(reply[i:i + piece]))
    shown += list(answer.finish())
    return shown, answer.resolver.draft("".join(answer.shown))


def test_supported_sentence_is_cited_and_invented_one_flagged(evidence):
    label = evidence[3]
    other = 1 if label != 1 else 2
    reply = f"Dmitry Peskov is the Kremlin spokesperson [S{label}]. The moon is made of green cheese [S{other}]."
    shown, draft = stream(evidence, reply)
    text = "".join(shown)
    assert text == draft.answer
    assert "[S" not in text and len(shown) > 5
    assert text.startswith("Dmitry Peskov is the Kremlin spokesperson. [1]")
    assert text.endswith("The moon is made of green cheese." + UNSUPPORTED_MARK)
    assert draft.citations[0].quote.startswith(PESKOV)
    assert draft.unsupported == ["The moon is made of green cheese."]
    assert [c.supported for c in draft.claims] == [True, False]


def test_wrong_label_is_reattributed(evidence):
    label = evidence[3]
    wrong = 1 if label != 1 else 2
    _, draft = stream(evidence, f"Dmitry Peskov is the Kremlin spokesperson. [S{wrong}]")
    assert draft.citations and draft.citations[0].quote.startswith(PESKOV)
    assert draft.claims[0].supported


def test_not_in_corpus_is_an_abstention_and_never_shown(evidence):
    shown, draft = stream(evidence, "NOT_IN_CORPUS", piece=2)
    assert shown == [] and draft.abstained and not draft.citations


def test_abbreviations_do_not_end_a_sentence(evidence):
    label = evidence[3]
    reply = (f"Peskov said Russian diplomats have been in contact with U.S. officials [S{label}]. "
             "Mr. Peskov met the (U.S. Mission) staff. He said no. It ended.")
    _, draft = stream(evidence, reply, piece=4)
    assert [c.text[:12] for c in draft.claims] == ["Peskov said ", "Mr. Peskov m", "He said no.", "It ended."]


def test_uncited_sentence_without_support_is_flagged(evidence):
    shown, draft = stream(evidence, "Vladimir Putin is the Kremlin spokesperson.")
    assert "".join(shown) == "Vladimir Putin is the Kremlin spokesperson." + UNSUPPORTED_MARK
    assert draft.unsupported and not draft.citations


def test_echoed_tags_and_list_numbers_are_not_claims(evidence):
    label = evidence[3]
    shown, draft = stream(evidence, f"</evidence> Dmitry Peskov is the Kremlin spokesperson [S{label}]. 2.", piece=2)
    assert "evidence>" not in "".join(shown)
    assert [c.text for c in draft.claims] == ["Dmitry Peskov is the Kremlin spokesperson."]
    assert draft.claims[0].supported and not draft.unsupported


def test_saying_the_evidence_is_silent_is_not_a_claim_but_facts_are(evidence):
    shown, draft = stream(evidence, "The evidence does not say who won the match.")
    assert draft.abstained and not draft.claims and "".join(shown) == draft.answer
    _, draft = stream(evidence, "The evidence does not say. Peskov said the U.S. did not provide details.")
    assert [c.text for c in draft.claims] == ["Peskov said the U.S. did not provide details."]
