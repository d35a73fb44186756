"""How a streamed model reply becomes shown text and verified citations (no server needed).

Replies are fed in small pieces, as a server streams them, into the answerer's parser with the
real offline judge and real evidence from the shipped corpus. Needs no LLM and no local-llm extra.
"""

from __future__ import annotations

import pytest

from rag.answer.claims import UNSUPPORTED_MARK, ClaimResolver
from rag.answer.prompt import EVIDENCE_TOKENS, NOT_IN_SOURCES, build_prompt, evidence_budget, label_order, pack_evidence
from rag.answer.stream import StreamedAnswer

QUESTION = "Who is the Kremlin spokesperson?"
PESKOV = "Kremlin spokesperson Dmitry Peskov"


def packed_for(library, question: str):
    """(packed, articles): the evidence for `question` as an LLM answer's prompt numbers it."""
    found = library.evidence(question, k=5)
    return label_order(pack_evidence(found.evidence, budget_tokens=evidence_budget(4096, 120))), found.articles


def resolved(library, packed, articles, reply: str) -> StreamedAnswer:
    """`reply` streamed in one piece through a ClaimResolver over `packed`, finished."""
    answer = StreamedAnswer(ClaimResolver(packed, articles, library.support_judge()))
    list(answer.feed(reply))
    list(answer.finish())
    return answer


@pytest.fixture(scope="module")
def evidence(corpus_library):
    library = corpus_library
    packed, articles = packed_for(library, QUESTION)
    texts = [articles[e.article_id].text[e.start:e.end] for e in packed]
    label = next(i for i, t in enumerate(texts, 1) if t.startswith(PESKOV))
    return library, packed, articles, label


def stream(evidence, reply: str, piece: int = 3):
    """Feed `reply` in `piece`-character deltas; returns (shown deltas, draft)."""
    library, packed, articles, _ = evidence
    answer = StreamedAnswer(ClaimResolver(packed, articles, library.support_judge()))
    shown = []
    for i in range(0, len(reply), piece):
        shown += list(answer.feed(reply[i:i + piece]))
    shown += list(answer.finish())
    return shown, answer.resolver.draft(answer.text)


def test_supported_sentence_is_cited_and_invented_one_flagged(evidence):
    label = evidence[3]
    other = 1 if label != 1 else 2
    reply = f"Dmitry Peskov is the Kremlin spokesperson [{label}]. The moon is made of green cheese [{other}]."
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
    _, draft = stream(evidence, f"Dmitry Peskov is the Kremlin spokesperson. [{wrong}]")
    assert draft.citations and draft.citations[0].quote.startswith(PESKOV)
    assert draft.claims[0].supported


@pytest.mark.parametrize("reply", [NOT_IN_SOURCES, "Not in the sources", "NOT IN SOURCES.", "NOT_IN_CORPUS"])
def test_not_in_the_sources_is_an_abstention_and_never_shown(evidence, reply):
    shown, draft = stream(evidence, reply, piece=2)
    assert shown == [] and draft.abstained and not draft.citations


def test_abbreviations_do_not_end_a_sentence(evidence):
    label = evidence[3]
    reply = (f"Peskov said Russian diplomats have been in contact with U.S. officials [{label}]. "
             "Mr. Peskov met the (U.S. Mission) staff. He said no. It ended.")
    _, draft = stream(evidence, reply, piece=4)
    assert [c.text[:12] for c in draft.claims] == ["Peskov said ", "Mr. Peskov m", "He said no.", "It ended."]


def test_uncited_sentence_without_support_is_flagged(evidence):
    shown, draft = stream(evidence, "Vladimir Putin is the Kremlin spokesperson.")
    assert "".join(shown) == "Vladimir Putin is the Kremlin spokesperson." + UNSUPPORTED_MARK
    assert draft.unsupported and not draft.citations


def test_echoed_tags_and_list_numbers_are_not_claims(evidence):
    label = evidence[3]
    shown, draft = stream(evidence, f"</sources> Dmitry Peskov is the Kremlin spokesperson [{label}]. 2.", piece=2)
    assert "sources>" not in "".join(shown)
    assert [c.text for c in draft.claims] == ["Dmitry Peskov is the Kremlin spokesperson."]
    assert draft.claims[0].supported and not draft.unsupported


def test_saying_the_evidence_is_silent_is_not_a_claim_but_facts_are(evidence):
    shown, draft = stream(evidence, "The evidence does not say who won the match.")
    assert draft.abstained and not draft.claims and "".join(shown) == draft.answer
    _, draft = stream(evidence, "The evidence does not say. Peskov said the U.S. did not provide details.")
    assert [c.text for c in draft.claims] == ["Peskov said the U.S. did not provide details."]


def test_older_s_labels_still_resolve(evidence):
    _, draft = stream(evidence, f"Dmitry Peskov is the Kremlin spokesperson [S{evidence[3]}].")
    assert draft.claims[0].supported and draft.citations[0].quote.startswith(PESKOV)


def test_prompt_numbers_sentences_within_the_default_budget(evidence):
    library, packed, articles, label = evidence
    prompt = build_prompt(QUESTION, packed, articles)
    numbered = [line for line in prompt.splitlines() if line.startswith("[")]
    assert [line.split("]")[0] for line in numbered] == [f"[{i}" for i in range(1, len(packed) + 1)]
    assert numbered[label - 1].startswith(f"[{label}] {PESKOV}")
    evidence_chars = sum(len(line) for line in numbered)
    assert 1 < len(packed) and evidence_chars / 3.5 <= EVIDENCE_TOKENS + 10 * len(packed)
    assert prompt.startswith("<sources>") and prompt.endswith(f"Question: {QUESTION}")
    assert evidence_budget(600, 120) < EVIDENCE_TOKENS  # a small context window gets less


def test_an_answer_without_a_supported_sentence_counts_none(evidence):
    _, draft = stream(evidence, "Vladimir Putin is the Kremlin spokesperson. The moon is made of cheese.")
    assert len(draft.claims) == 2 and not any(c.supported for c in draft.claims)


def test_a_sentence_needing_its_neighbour_is_supported_by_the_pair(corpus_library):
    """Qwen's real reply to this question restates "They" of the evidence sentence as the names
    the sentence before it gives: judged against both, it is supported, not flagged."""
    library = corpus_library
    question = "Who will the U.S. and Ukraine keep in close contact with as the process advances?"
    packed, articles = packed_for(library, question)
    answer = resolved(library, packed, articles,
                      "Ukraine and the United States will remain in close contact with their European partners as the "
                      "process advances.")
    draft = answer.resolver.draft(answer.text)
    assert draft.claims[0].supported, draft.answer
    assert any("European partners" in c.quote for c in draft.citations)


def test_a_short_answer_with_a_number_is_a_claim(evidence):
    _, draft = stream(evidence, "Resolution 2774.")
    assert [c.text for c in draft.claims] == ["Resolution 2774."] and not draft.claims[0].supported


def test_a_cited_sentence_the_claim_does_not_need_is_dropped(evidence):
    """ALCE precision: of "[a][b]", where a alone supports the claim, only a is cited."""
    label = evidence[3]
    other = 1 if label != 1 else 2
    _, draft = stream(evidence, f"Dmitry Peskov is the Kremlin spokesperson [{label}][{other}].")
    assert draft.claims[0].supported
    assert [c.quote[:len(PESKOV)] for c in draft.citations] == [PESKOV], draft.citations


def test_a_claim_the_confirming_judge_rejects_is_not_cited(evidence):
    """With a confirming judge, the offline judge's approval of a paraphrase is not enough; a
    verbatim quote needs no confirmation. (The confirming judge here is the offline model with a
    threshold no paraphrase reaches; in LLM mode it is the LLM-assisted judge.)"""
    from rag.verify.judge import OfflineJudge

    library, packed, articles, label = evidence
    strict = OfflineJudge(library.embedder, threshold=0.99)
    quote = articles[packed[label - 1].article_id].text[packed[label - 1].start:packed[label - 1].end]
    for reply, supported in ((f"Dmitry Peskov is the Kremlin spokesperson [{label}].", False), (f"{quote} [{label}]", True)):
        plain = ClaimResolver(packed, articles, library.support_judge())
        confirmed = ClaimResolver(packed, articles, library.support_judge(), confirm=strict)
        for resolver in (plain, confirmed):
            answer = StreamedAnswer(resolver)
            list(answer.feed(reply))
            list(answer.finish())
        assert plain.claims[0].supported
        assert confirmed.claims[0].supported is supported, confirmed.claims
        assert bool(confirmed.citations) is supported


def test_the_extractive_answers_sentences_lead_the_prompt(corpus_library):
    """A "latest" question: the sentences of the newest articles the extractive answer cites
    are packed into the model's evidence even when other sentences score higher."""
    from rag.answer.llm import lead_with

    library = corpus_library
    found = library.evidence("What is the latest news about the Ukraine peace plan?", k=5)
    draft = next(e for e in library.extractive.stream(found.query.text, found)
                 if not isinstance(e, str))
    assert not draft.abstained and draft.citations
    led = lead_with(found.evidence, draft.citations)
    assert [(e.article_id, e.start, e.end) for e in led[:len(draft.citations)]] == \
        [(c.article_id, c.start, c.end) for c in draft.citations]
    assert len(led) >= len(found.evidence) and len({id(e) for e in led}) == len(led)
    packed = pack_evidence(led, budget_tokens=evidence_budget(4096, 120))
    spans = {(e.article_id, e.start, e.end) for e in packed}
    assert all((c.article_id, c.start, c.end) in spans for c in draft.citations)


def verdicts_on(library, question: str, sentence: str, replies: list[str], then: str | None = None
                ) -> list[tuple[bool, str]]:
    """(supported, shown text) of the first claim of each reply, whose "{n}" is replaced by the
    label of the packed evidence sentence starting with `sentence` (and "{m}" by that of `then`)."""
    packed, articles = packed_for(library, question)

    def label(start: str) -> str:
        return str(next(i for i, e in enumerate(packed, 1) if articles[e.article_id].text[e.start:e.end].startswith(start)))

    out = []
    for reply in replies:
        reply = reply.replace("{n}", label(sentence))
        answer = resolved(library, packed, articles, reply.replace("{m}", label(then)) if then else reply)
        out.append((answer.resolver.claims[0].supported, answer.text))
    return out


def test_a_claim_that_drops_who_said_it_is_not_cited(corpus_library):
    """Every word of "The U.S. has not disclosed the details ..." is in the source sentence, but
    the source says the Kremlin insisted it: stated as fact it is flagged; with the speaker kept
    it is cited."""
    claim = "the U.S. has not disclosed the details of President Trump’s 28-point peace plan"
    (fact, fact_text), (kept, _) = verdicts_on(
        corpus_library, "Has the U.S. disclosed the details of the peace plan to Russia?", "The Kremlin insisted",
        [f"{claim[0].upper()}{claim[1:]} [{{n}}].", f"The Kremlin said {claim} [{{n}}]."])
    assert not fact and fact_text.endswith(UNSUPPORTED_MARK), fact_text
    assert kept


def test_a_claim_about_both_sources_cited_to_one_is_not_cited(corpus_library):
    """"Both sources agree ..." cited to one article's sentence is flagged; the same content
    without the claim about two sources is cited."""
    (plain, _), (both, both_text) = verdicts_on(
        corpus_library, "Compare the Rubio-Cooper meeting readout with the U.S.-Ukraine joint statement.",
        "Both sides agreed the consultations",
        ["The consultations were highly productive [{n}].", "Both sources agree that the consultations were highly productive [{n}]."])
    assert plain
    assert not both, both_text


def test_a_claim_that_takes_its_subject_from_the_next_sentence_is_not_cited(corpus_library):
    """"The parties drafted ..." with the next sentence, "The Ukrainian delegation reaffirmed ...",
    does not support "The Ukrainian delegation drafted ..." (every word is in the pair, and both
    judges accepted it in the bundled eval); the parties' own claim is cited."""
    (borrowed, borrowed_text), (own, _) = verdicts_on(
        corpus_library, "What did the U.S. and Ukrainian delegations draft as a result of the Geneva discussions?",
        "As a result of the discussions",
        ["The Ukrainian delegation drafted an updated and refined peace framework [{n}][{m}].",
         "The parties drafted an updated and refined peace framework [{n}]."],
        then="The Ukrainian delegation reaffirmed")
    assert not borrowed, borrowed_text
    assert own


def test_a_claim_that_states_an_announced_event_as_done_is_not_cited(corpus_library):
    """"The event will take place at ... Goddard" does not say it was held there (both judges
    accepted "was held" in every bundled eval run); kept in the future, the claim is cited."""
    (held, held_text), (will, _) = verdicts_on(
        corpus_library, "Where was NASA's comet 3I/ATLAS imagery event held?", "The event will take place",
        ["The event was held at NASA's Goddard Space Flight Center in Greenbelt, Maryland [{n}].",
         "The event will take place at NASA's Goddard Space Flight Center in Greenbelt, Maryland [{n}]."])
    assert not held, held_text
    assert will


def test_a_claim_that_reports_a_deed_as_an_intention_is_not_cited(corpus_library):
    """"The United States put forward a proposal" does not say it "would put forward" one; the
    deed as done is cited."""
    (intended, intended_text), (done, _) = verdicts_on(
        corpus_library, "What did the United States say at the Security Council in May 2025?",
        "As the first step on the path to peace",
        ["The United States said it would put forward a proposal for an immediate, unconditional, and comprehensive ceasefire [{n}].",
         "The United States put forward a proposal for an immediate, unconditional, and comprehensive ceasefire [{n}]."])
    assert not intended, intended_text
    assert done


def test_a_claim_refused_only_by_a_rule_keeps_the_sentences_it_drew_on(corpus_library):
    """The sentence the judge found supporting "The event was held at ... Goddard" (refused for
    its tense) is kept to quote as it stands; a claim no sentence supports keeps none."""
    packed, articles = packed_for(corpus_library, "Where was NASA's comet 3I/ATLAS imagery event held?")
    drawn = {}
    for name, reply in (("tense", "The event was held at NASA's Goddard Space Flight Center in Greenbelt, Maryland [1]."),
                        ("invented", "The event was held at the Johnson Space Center in Houston, Texas [1].")):
        answer = resolved(corpus_library, packed, articles, reply)
        assert not answer.resolver.supported, answer.text
        drawn[name] = [articles[e.article_id].text[e.start:e.end] for e in answer.resolver.drawn]
    assert [s for s in drawn["tense"] if s.startswith("The event will take place at the NASA's Goddard")], drawn["tense"]
    assert drawn["invented"] == []


def test_the_models_short_answer_is_located_verbatim_in_a_cited_sentence(corpus_library):
    """The model's first line ("Dmitry Peskov", any case or spacing) becomes `answer_span` inside
    the citation holding it; words no cited sentence holds, or a full sentence, give no span."""
    from rag.answer.llm import short_answer_span
    from rag.verify.citations import make_citation, verify_span

    library = corpus_library
    found = library.evidence("Who is the Kremlin spokesperson?", k=5)
    holding = next(e for e in found.evidence if "Dmitry Peskov" in found.articles[e.article_id].text[e.start:e.end])
    other = next(e for e in found.evidence if "Peskov" not in found.articles[e.article_id].text[e.start:e.end])
    citations = [make_citation(n, found.articles[e.article_id], e.start, e.end, 1.0) for n, e in enumerate([other, holding], 1)]
    span = short_answer_span("dmitry  Peskov.", citations, found.articles)
    assert span is not None and span.n == 2 and span.text == "Dmitry Peskov"
    verify_span(span, citations, found.articles)
    assert short_answer_span("Sergei Lavrov", citations, found.articles) is None
    assert short_answer_span("The Kremlin spokesperson is Dmitry Peskov, who said talks began.", citations,
                             found.articles) is None


def test_the_prompt_asks_for_the_answer_first_by_intent(evidence):
    from rag.answer.prompt import LEADS

    _, packed, articles, _ = evidence
    assert build_prompt(QUESTION, packed, articles, "factoid").endswith(LEADS["factoid"])
    assert build_prompt(QUESTION, packed, articles, "compare").endswith(LEADS["compare"])
    assert build_prompt(QUESTION, packed, articles, None).endswith(QUESTION)


def test_a_label_after_the_full_stop_belongs_to_the_sentence_before_it(evidence):
    """"... spokesperson. [3]" streamed token by token: the label is not lost to the next sentence."""
    label = evidence[3]
    shown, draft = stream(evidence, f"Dmitry Peskov is the Kremlin spokesperson. [{label}]\nHe spoke on Friday. [{label}]",
                          piece=1)
    assert "".join(shown).startswith("Dmitry Peskov is the Kremlin spokesperson. [1]")
    assert draft.claims[0].supported and draft.citations[0].quote.startswith(PESKOV)


@pytest.mark.parametrize("reply, shown", [
    ("Dmitry Peskov is the Kremlin spokesperson, as stated in [{label}].", "Dmitry Peskov is the Kremlin spokesperson."),
    ("Dmitry Peskov is the Kremlin spokesperson (see [{label}]).", "Dmitry Peskov is the Kremlin spokesperson."),
    ("According to [{label}], Dmitry Peskov is the Kremlin spokesperson.", "Dmitry Peskov is the Kremlin spokesperson."),
])
def test_words_pointing_at_a_label_are_not_part_of_the_claim(evidence, reply, shown):
    _, draft = stream(evidence, reply.format(label=evidence[3]))
    assert draft.claims[0].text == shown


def test_a_short_answer_is_cited_to_the_sentence_holding_its_words(corpus_library):
    """"28 points" is the source's "28-point" (case, hyphens and a plural "s" aside), so it is cited
    to that sentence whatever label the model gave; words of no source sentence, or function
    words alone, are not."""
    packed, articles = packed_for(corpus_library, "How many points does Trump's Ukraine peace plan have?")
    for reply, supported in (("28 points [1]", True), ("31 points [1]", False), ("No. [1]", False)):
        answer = resolved(corpus_library, packed, articles, reply)
        claims = answer.resolver.claims
        assert bool(claims and claims[0].supported) is supported, (reply, claims)
        if supported:
            assert "28-point" in answer.resolver.citations[0].quote


def test_the_confirming_judge_decides_a_claim_the_offline_judge_refuses(evidence):
    """The offline judge alone refuses a paraphrase it scores low; with a confirming judge, that
    judge decides on the sentences cited (here the offline model with threshold 0, which accepts
    anything, and with threshold 1, which accepts only verbatim quotes)."""
    from rag.verify.judge import OfflineJudge

    library, packed, articles, label = evidence
    reply = f"The Kremlin's press secretary goes by the name Peskov. [{label}]"
    outcomes = {}
    for name, confirm in (("none", None), ("lenient", OfflineJudge(library.embedder, threshold=0.0)),
                          ("strict", OfflineJudge(library.embedder, threshold=1.0))):
        resolver = ClaimResolver(packed, articles, library.support_judge(), confirm=confirm)
        answer = StreamedAnswer(resolver)
        list(answer.feed(reply))
        list(answer.finish())
        outcomes[name] = resolver.claims[0].supported
        if name == "lenient":
            assert resolver.citations[0].quote.startswith(PESKOV)
        if not resolver.claims[0].supported:
            assert [articles[e.article_id].text[e.start:e.end][:len(PESKOV)] for e in resolver.cited_unsupported] == [PESKOV]
    assert outcomes == {"none": False, "lenient": True, "strict": False}
