"""The offline answerer: source sentences quoted verbatim and cited, shaped by the question's intent.

- factoid: a short answer phrase first (`answer_span`, inside citation 1), then the best
  sentence and any scoring nearly as well.
- when: the best sentence that holds a date, its date phrase first; else the best sentence with
  its article's publication date, labelled as such.
- summary: the lead and most central sentences of the best-matching article.
- latest: the best sentences of the newest relevant articles, each with its published date, the
  best-matching one that says when first (what happened and when).
- compare: for each side the question names ("the Kremlin and Zelenskyy"), the best sentence
  naming it; else the best sentence of each of the two best distinct articles (or sources).

Abstention depends on the intent: a factoid needs one sentence that answers it (score at least
RAG_ABSTAIN_THRESHOLD); the broad intents need an article that matches the question as a whole
(`article_coverage` at least COVERAGE_THRESHOLD: most of the question's topic words occur in it;
for compare, in the two articles together), since no single sentence of a summary need match it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from rag.answer.base import Draft, abstention
from rag.answer.short import best_phrase
from rag.evidence import Evidence, Found, article_coverage, key_sentences
from rag.models import AnswerSpan, Article, Citation, Claim
from rag.query import Query
from rag.verify.citations import make_answer_span, make_citation

# Broad questions ("what is the latest on X", "summarize X") are answered by whole articles.
# Calibrated by hand on the bundled news questions (evals/corpus_questions.jsonl): answerable
# broad questions' best article covers >= 0.52 of their topic terms, unanswerable ones <= 0.48
# (both sides are reported in docs/answers.md). The evidence floor drops questions nothing retrieved matches.
COVERAGE_THRESHOLD = 0.5
LATEST_RELEVANT = 0.3
EVIDENCE_FLOOR = 0.01
BROAD_INTENTS = ("summary", "latest", "compare", "timeline", "changes")
# "What did X say / announce ...": answered with the sentences about X, not the article's lead.
_SAID = re.compile(r"^\s*what (did|does|do|has|have) .+? (say|said|announce|tell|state|report|reveal|warn|propose|claim|argue|conclude|stress)\b", re.I)
# A sentence is kept next to the best one when it scores at least this share of it (factoid).
KEEP_RATIO = 0.55
MIN_WORDS = 8
_DATE_PHRASE = re.compile(
    r"\b(?:(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.|January|February|March|April|May|June|July|"
    r"August|September|October|November|December)\s+\d{1,2}(?:st|nd|rd|th)?(?:,\s*\d{4})?|"
    r"\b\d{1,2}\s+(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"(?:\s+\d{4})?|\b(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+\d{4}|\b(?:on |last |this |next )?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|"
    r"\b(?:1\d|20)\d\d\b|\b\d{4}-\d{2}-\d{2}\b|"
    r"\b(?:(?:almost|about|nearly|some|more than|just|only) )?(?:(?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"several|a few|few) )?(?:days?|weeks?|months?|years?) ago\b|\b(?:yesterday|today|tomorrow|last week|last month)\b",
    re.I,
)


class ExtractiveAnswerer:
    """Answers with cited evidence sentences chosen for the question's intent."""

    mode = "extractive"

    def __init__(self, abstain_threshold: float, max_sentences: int = 3, keep_ratio: float = KEEP_RATIO,
                 store=None, coverage_threshold: float = COVERAGE_THRESHOLD):
        self.abstain_threshold = abstain_threshold
        self.coverage_threshold = coverage_threshold
        self.max_sentences = max_sentences
        self.keep_ratio = keep_ratio
        self.store = store

    def coverage(self, query: Query, articles: dict[str, Article]) -> dict[str, float]:
        """How well each candidate article matches the question as a whole (article id -> share)."""
        if self.store is None:
            return {aid: 1.0 for aid in articles}
        return {aid: article_coverage(query, a, self.store) for aid, a in articles.items()}

    def answerable(self, query: Query, evidence: list[Evidence], coverage: dict[str, float]) -> bool:
        if not evidence:
            return False
        if query.intent not in BROAD_INTENTS:
            return evidence[0].score >= self.abstain_threshold
        if evidence[0].score < EVIDENCE_FLOOR:
            return False
        best = sorted(coverage.values(), reverse=True)
        if query.intent == "compare" and len(best) >= 2:
            return max(best[0], self.pair_coverage(query, coverage)) >= self.coverage_threshold
        return bool(best) and best[0] >= self.coverage_threshold

    def pair_coverage(self, query: Query, coverage: dict[str, float]) -> float:
        """Coverage of the question by its two best-covering articles together."""
        top = sorted(coverage, key=coverage.get, reverse=True)[:2]
        if self.store is None or len(top) < 2:
            return max(coverage.values(), default=0.0)
        arts = self.store.articles(top)
        both = Article(id="pair", title=" ".join(a.title for a in arts.values()),
                       text="\n".join(a.text for a in arts.values()))
        return article_coverage(query, both, self.store)

    def pick(self, evidence: list[Evidence]) -> list[Evidence]:
        """The factoid selection: the best sentence and others scoring nearly as well."""
        if not evidence or evidence[0].score < self.abstain_threshold:
            return []
        best = evidence[0].score
        return [e for e in evidence[: self.max_sentences] if e.score >= best * self.keep_ratio]

    def stream(self, question: str, found: Found) -> Iterator[str | Draft]:
        """Yields the answer text as it is ready, then the Draft."""
        query, evidence, articles = found.query, found.evidence, found.articles
        coverage = self.coverage(query, articles) if query.intent in BROAD_INTENTS + ("when",) else {}
        if not self.answerable(query, evidence, coverage):
            draft = abstention()
            yield draft.answer
            yield draft
            return
        draft = self._shape(query, evidence, articles, coverage)
        yield draft.answer
        yield draft

    def shaped(self, query: Query, evidence: list[Evidence], articles: dict[str, Article]) -> Draft | None:
        """The intent-shaped quotes whether or not the answerability rule would answer (the LLM
        answerer's quotes, shown before the model's answer); None without evidence."""
        if not evidence:
            return None
        coverage = self.coverage(query, articles) if query.intent in BROAD_INTENTS + ("when",) else {}
        return self._shape(query, evidence, articles, coverage)

    def _shape(self, query: Query, evidence: list[Evidence], articles: dict[str, Article],
               coverage: dict[str, float]) -> Draft:
        shape = {"summary": self._summary, "latest": self._latest, "compare": self._compare, "when": self._when,
                 "timeline": self._summary, "changes": self._latest}.get(query.intent, self._factoid)
        return shape(query, evidence, articles, coverage)

    # -- shapes ---------------------------------------------------------------------------------

    def _factoid(self, query: Query, evidence: list[Evidence], articles: dict[str, Article],
                 coverage: dict[str, float]) -> Draft:
        return self.quote(query, self.pick(evidence) or evidence[:1], articles)

    def quote(self, query: Query, picked: list[Evidence], articles: dict[str, Article]) -> Draft:
        """The given sentences quoted and cited, led by the phrase of the first that answers."""
        answer = _Builder(articles)
        for e in picked:
            answer.cite(e)
        first = answer.citations[0]
        phrase = best_phrase(query.text, first.quote)
        if phrase is not None and phrase.text.strip() != first.quote.strip():
            answer.lead_with(make_answer_span(first, articles[first.article_id], first.start + phrase.start,
                                              first.start + phrase.end))
        return answer.draft()

    def _when(self, query: Query, evidence: list[Evidence], articles: dict[str, Article],
              coverage: dict[str, float]) -> Draft:
        best = evidence[0].score
        # The article that matches the question best (news sentences leave the event named in the
        # headline), then a date in its sentences, else in sentences that answer nearly as well.
        top = max(dict.fromkeys(e.article_id for e in evidence[:10]),
                  key=lambda a: coverage.get(a, 0.0) + self._title_coverage(query, articles[a]))
        dated = [e for e in evidence[:12] if _DATE_PHRASE.search(_text(articles, e)) and
                 e.score >= best * (0.3 if e.article_id == top else 0.6)]
        dated.sort(key=lambda e: (e.article_id != top, -e.score))
        answer = _Builder(articles)
        if dated:
            e = dated[0]
            citation = answer.cite(e)
            match = _DATE_PHRASE.search(citation.quote)
            answer.lead_with(make_answer_span(citation, articles[e.article_id], e.start + match.start(),
                                              e.start + match.end()))
            article = articles[e.article_id]
            if article.published and not re.search(r"\d{4}", match.group()):
                # Cited, so the date it states points at the article it comes from.
                answer.note(f"(Article published {article.published.isoformat()} [{citation.n}].)")
            # Then the sentences a factoid answer would quote, in case the date found is not the one asked for.
            for other in self.pick(evidence):
                if len(answer.citations) < self.max_sentences:
                    answer.cite(other)
            return answer.draft()
        e = next((e for e in evidence if e.article_id == top), evidence[0])
        answer.cite(e)
        article = articles[e.article_id]
        if article.published:
            answer.prefix(f"The text gives no date; publication date of the article: {article.published.isoformat()}.")
        return answer.draft()

    def _title_coverage(self, query: Query, article: Article) -> float:
        if self.store is None:
            return 0.0
        return article_coverage(query, Article(id=article.id, title=article.title, text=""), self.store)

    def _best_article(self, evidence: list[Evidence], coverage: dict[str, float]) -> str:
        """The article that covers the question best; the best evidence breaks ties."""
        order = list(dict.fromkeys(e.article_id for e in evidence))
        return max(order, key=lambda a: (round(coverage.get(a, 0.0), 2), -order.index(a)))

    def _summary(self, query: Query, evidence: list[Evidence], articles: dict[str, Article],
                 coverage: dict[str, float]) -> Draft:
        article = articles[self._best_article(evidence, coverage)]
        own = [e for e in _statements(evidence, articles) if e.article_id == article.id]
        if _SAID.search(query.text) and own:
            # What X said: the article's sentences that best match the question, in text order.
            spans = sorted((e.sentence_index, e.start, e.end) for e in own[:3] if e.score >= own[0].score * 0.3)
        else:
            spans = key_sentences(self.store, article, query.text) if self.store is not None else []
            spans = spans or sorted((e.sentence_index, e.start, e.end) for e in own[:3])
        answer = _Builder(articles)
        answer.prefix(f"{_label(article)}:")
        for _, start, end in spans:
            answer.cite_span(article, start, end)
        return answer.draft()

    def _latest(self, query: Query, evidence: list[Evidence], articles: dict[str, Article],
                coverage: dict[str, float]) -> Draft:
        evidence = _statements(evidence, articles)
        # Once the question is known to be covered, an article sharing a third of its topic
        # words is about the same story ("the Ukraine peace plan" in a Security Council briefing).
        relevant = {a for a, c in coverage.items() if c >= LATEST_RELEVANT} or {evidence[0].article_id}
        if query.as_of:  # as of a date: what was published after it did not exist yet
            relevant = {a for a in relevant if not (articles[a].published and articles[a].published > query.as_of)} or relevant
        newest = sorted(relevant, key=lambda a: (articles[a].published or _NO_DATE, coverage.get(a, 0.0)), reverse=True)
        answer = _Builder(articles)
        for rank, aid in enumerate(newest[:2]):
            own = [e for e in evidence if e.article_id == aid]
            own = [e for e in own if e.score >= own[0].score * 0.5][: 3 if rank == 0 else 1] if own else []
            if not own:
                continue
            answer.prefix(f"{_label(articles[aid])}:")
            # First what happened and when: the best-matching statement that says when (else the
            # best-matching one), then the rest in reading order.
            lead = next((e for e in own if _DATE_PHRASE.search(_text(articles, e))), own[0])
            for e in [lead] + sorted((e for e in own if e is not lead), key=lambda e: e.start):
                answer.cite(e)
        return answer.draft()

    def _compare(self, query: Query, evidence: list[Evidence], articles: dict[str, Article],
                 coverage: dict[str, float]) -> Draft:
        evidence = _statements(evidence, articles)
        per_side = _one_per_side(query.text, evidence, articles)
        if per_side:
            answer = _Builder(articles)
            for e in per_side:
                answer.prefix(f"{_label(articles[e.article_id])}:")
                answer.cite(e)
            return answer.draft()
        order = list(dict.fromkeys(e.article_id for e in evidence))
        two = sorted(order, key=lambda a: (-round(coverage.get(a, 0.0), 1), order.index(a)))[:2]
        answer = _Builder(articles)
        for aid in two:
            e = next(e for e in evidence if e.article_id == aid)
            answer.prefix(f"{_label(articles[aid])}:")
            answer.cite(e)
        return answer.draft()


_NO_DATE = date.min
# "the Kremlin and Zelenskyy", "Rubio vs. Peskov": the names on either side of the conjunction.
_SIDES = re.compile(r"\b(and|vs\.?|versus)\s+", re.I)
_NAME_TOKEN = re.compile(r"^(?:[A-Z][\w.'’-]*|[A-Z]\.(?:[A-Z]\.)+)$")


def sides(question: str) -> list[str]:
    """The two sides a compare question names: the runs of capitalised words right before and
    after "and" / "vs" ("How did the Kremlin and Zelenskyy describe the plan?" -> Kremlin,
    Zelenskyy); [] when either side is not a name."""
    for match in _SIDES.finditer(question):
        before = question[:match.start()].split()
        after = question[match.end():].split()
        if after[:1] and after[0].lower() == "the":
            after = after[1:]
        left, right = [], []
        while len(before) > 1 and _NAME_TOKEN.match(before[-1].strip(",:?")) and len(left) < 4:
            left.insert(0, before.pop().strip(",:?"))  # never the question's first word ("Did")
        for word in after[:4]:
            name = word.strip(",:?")
            possessive = name.endswith(("'s", "’s"))
            name = name.removesuffix("'s").removesuffix("’s")
            if not _NAME_TOKEN.match(name):
                break
            right.append(name)
            if possessive or word != word.rstrip(",:?"):
                break
        if left and right:
            return [" ".join(left), " ".join(right)]
    return []


def _one_per_side(question: str, evidence: list[Evidence], articles: dict[str, Article]) -> list[Evidence]:
    """For each side the question names, its best evidence sentence that names it (two distinct
    sentences), else []."""
    named = sides(question)
    if len(named) != 2:
        return []
    chosen: list[Evidence] = []
    for side in named:
        words = [w.lower() for w in re.findall(r"[\w.]+", side) if len(w) > 1]
        match = next((e for e in evidence if all(e is not c for c in chosen)
                      and any(re.search(rf"\b{re.escape(w)}", _text(articles, e), re.I) for w in words)), None)
        if match is None:
            return []
        chosen.append(match)
    return chosen


def _statements(evidence: list[Evidence], articles: dict[str, Article]) -> list[Evidence]:
    """Evidence without bylines and headings ("Marco Rubio, Secretary of State"): sentences of at
    least MIN_WORDS words, unless nothing else is left."""
    full = [e for e in evidence if len(_text(articles, e).split()) >= MIN_WORDS]
    return full or evidence


def _text(articles: dict[str, Article], e: Evidence) -> str:
    return articles[e.article_id].text[e.start:e.end]


def _label(article: Article) -> str:
    """"The Washington Times, 2025-11-21" (whatever of source and date the article has)."""
    parts = [article.source or article.title]
    if article.published:
        parts.append(article.published.isoformat())
    return ", ".join(parts)


class _Builder:
    """Accumulates quoted, cited sentences (and plain labels between them) into a Draft."""

    def __init__(self, articles: dict[str, Article]):
        self.articles = articles
        self.parts: list[str] = []
        self.citations: list[Citation] = []
        self.claims: list[Claim] = []
        self.span: AnswerSpan | None = None
        self.lead: str = ""
        self.notes: list[str] = []

    def cite(self, e: Evidence) -> Citation:
        return self.cite_span(self.articles[e.article_id], e.start, e.end)

    def cite_span(self, article: Article, start: int, end: int) -> Citation:
        for c in self.citations:
            if (c.article_id, c.start, c.end) == (article.id, start, end):
                return c
        citation = make_citation(len(self.citations) + 1, article, start, end, support=1.0)
        self.citations.append(citation)
        self.claims.append(Claim(text=citation.quote, citations=[citation.n], support=1.0, supported=True))
        self.parts.append(f"{citation.quote} [{citation.n}]")
        return citation

    def prefix(self, text: str) -> None:
        self.parts.append(text)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def lead_with(self, span: AnswerSpan) -> None:
        self.span = span
        self.lead = f"{span.text.strip()} —"

    def draft(self) -> Draft:
        text = " ".join(([self.lead] if self.lead else []) + self.parts + self.notes)
        return Draft(answer=text, citations=self.citations, claims=self.claims, answer_span=self.span)
