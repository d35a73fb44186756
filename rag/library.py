"""`Library`: the public entry point. Owns a store and answers questions over it.

CLI, UI and evals call only this: add (files, folders, URLs) / add_sitemap / feeds / add_text / remove /
articles / article / page_of / ask / ask_stream / evidence.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from rag.answer import Draft, ExtractiveAnswerer, abstention
from rag.conversation import condense, needs_context, rewrite_followup
from rag.embeddings import make_embedder
from rag.errors import ArticleNotFound, InputError, LLMError
from rag.evidence import Found, select_evidence
from rag.ingest.canonical import make_article
from rag.ingest.files import iter_inputs, load_file
from rag.ingest.web import Fetcher, fetch_article, is_url
from rag.models import (AddResult, Answer, AnswerCitation, Article, ArticlePage, ArticleSummary, Chunk, Loaded,
                        Origin, Quotes, RetrievedChunk, SearchHit, Searching, Sentence, Turn)
from rag.intent import intent_detector
from rag.query import Query, understand
from rag.retrieval import DatePreference, HybridRetriever, RetrievalMode
from rag.safe_output import redact
from rag.stories.models import Changes, Story, Timeline
from rag.settings import Settings
from rag.store import Progress, Store
from rag.verify.citations import SpanLink, answer_citations, verify_all, verify_span
from rag.verify.judge import Judge, make_judge
from rag.stories.book import SCHEMA as STORIES_SCHEMA, StoryBook
from rag.stories.reader import StoryReader

# "What changed?" without a date: the last week before the library's newest article.
CHANGES_DEFAULT_DAYS = 7


class Library:
    """A corpus of articles in one data directory, and question answering over it."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self.embedder = make_embedder(self.settings)
        self.store = Store(self.settings, self.embedder, schemas=(STORIES_SCHEMA,))
        self.retriever = HybridRetriever(self.store, self.embedder, self.settings.rrf_k)
        self.judge = make_judge(self.settings, self.embedder)  # offline: answers are verified fast
        self.intents = intent_detector(self.embedder)
        self.extractive = ExtractiveAnswerer(self.settings.abstain_threshold, store=self.store)
        self._llm_answerers: dict[tuple, object] = {}  # per LLM endpoint (the configured one, the UI's local one)
        self._llm_lock = threading.Lock()
        self.origins = self.store.origins  # where each article came from, and the followed feeds
        self._fetcher: Fetcher | None = None
        self._feeds = None
        self._ingest_lock = threading.Lock()
        self._stories = StoryReader(StoryBook(self.store.registry), self.store.registry, self.embedder.embed_array,
                                    self.store.writing, lambda q, k: self.retriever.retrieve(q, k))

    # -- articles -----------------------------------------------------------------------------

    def add(self, paths: list[str | Path], progress: Progress | None = None, follow_symlinks: bool = False) -> list[AddResult]:
        """Add files, folders or web pages. Every input gets a result; failures never stop the others.

        Args:
            paths: files (.txt .md .html .htm .json .jsonl .pdf), folders of them, or http(s) URLs.
            progress: called as (done, total) while articles are indexed.
            follow_symlinks: read symlinks in folders that point outside the folder.
        """
        max_bytes = int(self.settings.max_file_mb * 1_000_000)
        loaded: list[Loaded] = []
        for path in paths:
            if is_url(str(path)):
                loaded.append(fetch_article(self.fetcher, str(path)))
                continue
            for found in iter_inputs([path], follow_symlinks):
                loaded.extend([found] if isinstance(found, Loaded) else load_file(found, max_bytes))
        return self._add_loaded(loaded, progress)

    @property
    def fetcher(self) -> Fetcher:
        with self._ingest_lock:
            if self._fetcher is None:
                self._fetcher = Fetcher(self.settings)
            return self._fetcher

    @property
    def feeds(self):
        """The followed feeds (`rag.ingest.feeds.Feeds`): add, list, remove, refresh."""
        from rag.ingest.feeds import Feeds

        fetcher = self.fetcher  # before the lock, which making the fetcher takes too
        with self._ingest_lock:
            if self._feeds is None:
                self._feeds = Feeds(self.origins, fetcher, add=self.add_loaded)
            return self._feeds

    def add_sitemap(self, url: str, since: date | None = None, progress: Progress | None = None) -> list[AddResult]:
        """Add the pages a sitemap (or sitemap index, or news sitemap) lists, optionally only those
        published or modified on or after `since`."""
        from rag.ingest.sitemaps import sitemap_pages

        pages, failures = sitemap_pages(self.fetcher, url, since)
        loaded = failures + [fetch_article(self.fetcher, page, kind="sitemap") for page in pages]
        return self._add_loaded(loaded, progress)

    def origin(self, article_id: str) -> Origin | None:
        """Where the article came from (file or URL, feed, fetch time), when that was recorded."""
        return self.origins.origin(article_id)

    def feed_of_articles(self) -> dict[str, str]:
        """Article id -> the URL of the feed it came from, for articles that came from one."""
        return self.origins.feed_of_articles()

    def articles_from_files(self) -> list[tuple[str, str]]:
        """(article id, file path) of every article loaded from a file (watched folders)."""
        return self.origins.ids_from_files()

    def page_of(self, article_id: str, offset: int) -> int | None:
        """The PDF page (1-based) holding this offset of the article, when it came from a PDF."""
        return self.origins.page_of(article_id, offset)

    def add_loaded(self, loaded: list[Loaded], progress: Progress | None = None) -> list[AddResult]:
        """Add articles already loaded by an ingester (feeds, watched folders)."""
        return self._add_loaded(loaded, progress)

    def add_text(self, *, title: str, text: str, source: str = "", url: str = "", published: str | date | None = None,
                 article_id: str | None = None) -> AddResult:
        """Add one article given as text (the UI's paste form)."""
        try:
            if not title.strip():
                raise ValueError("a title is required")
            article = make_article(id=article_id or title, title=title, text=text, source=source, url=url, published=published)
            loaded = Loaded(f"pasted: {title[:60]}", article)
        except ValueError as exc:
            loaded = Loaded(f"pasted: {title[:60] or '(untitled)'}", error=str(exc))
        return self._add_loaded([loaded], None)[0]

    def add_articles(self, articles: list[Article], progress: Progress | None = None) -> list[AddResult]:
        """Add already-built articles (evals and importers)."""
        return self._add_loaded([Loaded(a.id, a) for a in articles], progress)

    def _add_loaded(self, loaded: list[Loaded], progress: Progress | None) -> list[AddResult]:
        with self.store.writing():
            # Stories: the versions this add replaces are kept for `revised` changes, and each
            # indexed article joins a story (rag/stories/book.py).
            previous = {a.id: a for a in (self.store.registry.find(i.article.id) or self.store.registry.find_by_url(i.article.url)
                                          for i in loaded if i.article is not None) if a is not None}
            results = self.store.add(loaded, progress)
            self._stories.assign({r.article_id: previous[r.article_id] for r in results
                                  if r.status == "updated" and r.article_id in previous})
        return results

    def remove(self, article_id: str) -> ArticleSummary:
        """Remove an article from the registry, Chroma and BM25."""
        summary = self.article_summary(article_id)
        with self.store.writing():
            self.store.remove([article_id])
            self._stories.assign()  # stories: the article leaves its story
        return summary

    def ready_count(self) -> int:
        """How many articles can be answered from (indexed and ready)."""
        return self.store.ready_count()

    def embedding_engine(self) -> str:
        """The embedding model and engine in use, for people (the UI, eval reports)."""
        return self.embedder.describe()

    def segments(self, article_id: str) -> tuple[list[Sentence], list[Chunk]]:
        """The article's sentences and chunks, as offsets into its canonical text."""
        self.article(article_id)  # one clear error for an unknown id
        return self.store.sentences_of(article_id), self.store.chunks_of(article_id)

    def embed(self, texts: list[str]) -> np.ndarray:
        """The library's embedding model over `texts` (one normalised row each); benchmarks compare with it."""
        return self.embedder.embed_array(texts)

    def clear_query_cache(self) -> None:
        """Forget cached question vectors (benchmarks time uncached questions)."""
        self.embedder.clear_cache()

    def retrieve(self, question: str, k: int | None = None, mode: RetrievalMode = "hybrid") -> list[RetrievedChunk]:
        """The chunks retrieval ranks first for `question` (no evidence selection, no answer)."""
        self.store.refresh()
        return self.retriever.retrieve(question, k or self.settings.top_k, mode=mode)

    def articles(self) -> list[ArticleSummary]:
        self.store.refresh()  # articles another process added or removed since
        return self.store.summaries()

    def article(self, article_id: str) -> Article:
        article = self.store.find(article_id)
        if article is None:
            raise ArticleNotFound(f"no article with id {article_id!r} (see `rag list`)")
        return article

    def article_summary(self, article_id: str) -> ArticleSummary:
        for summary in self.articles():
            if summary.id == article_id:
                return summary
        raise ArticleNotFound(f"no article with id {article_id!r} (see `rag list`)")

    # -- stories (rag/stories) ------------------------------------------------------------------

    def stories(self, since: date | None = None) -> list[Story]:
        """Stories, newest first; only those with an article published on or after `since`."""
        return self._stories.stories(since)

    def story(self, query_or_id: str) -> Story:
        """The story with this id, or the one a query's best-matching articles belong to."""
        return self._stories.find(query_or_id)

    def story_from(self, article_ids: list[str]) -> Story:
        """A story made of these articles (evaluating timelines and changes on a given story)."""
        return self._stories.story_from(article_ids)

    def story_material(self, story: Story):
        """A story's articles and their sentences with vectors (`rag.stories.material.Material`), as
        timelines and changes read them: for evaluating their parts on a given story."""
        return self._stories.material(story)

    def timeline(self, query_or_id: str | Story, since: date | None = None, until: date | None = None) -> Timeline:
        """A story's dated entries (each cited verbatim) and its disagreements, between since and until.
        `query_or_id`: a story id, words naming the story, or a Story."""
        return self._stories.timeline(query_or_id, since, until)

    def changes(self, query_or_id: str | Story, since: date) -> Changes:
        """What a story's articles published on or after `since` add: new, updated and revised."""
        return self._stories.changes(query_or_id, since)

    def _story_answer(self, query: Query):
        """A timeline or changes answer for the story the question names; None when none matches."""
        from rag.stories.answers import changes_answer, timeline_answer
        from rag.stories.reader import StoryNotFound

        try:
            if query.intent == "timeline":
                return timeline_answer(self.timeline(query.text, query.since, query.until))
            since = query.since or (query.as_of or date.today()) - timedelta(days=CHANGES_DEFAULT_DAYS)
            return changes_answer(self.changes(query.text, since))
        except StoryNotFound:
            return None

    def _shaped_answer(self, question: str, standalone: str, query: Query, shaped, t0: float, t1: float) -> Answer:
        verify_all(shaped.citations, self.store.registry.articles(sorted({c.article_id for c in shaped.citations})))
        t2 = time.perf_counter()
        return Answer(question=question, standalone_question=standalone, mode="extractive", answer=shaped.answer,
                      citations=shaped.citations, claims=shaped.claims, query=query,
                      timings_ms={"condense": (t1 - t0) * 1000, "answer": (t2 - t1) * 1000, "total": (t2 - t0) * 1000})

    def visit_story(self, story_id: str) -> datetime | None:
        """Record a visit (the UI's "new since your last visit"); returns the previous one."""
        return self._stories.visit(story_id)

    # -- maintenance --------------------------------------------------------------------------

    def repair(self) -> dict[str, int]:
        """Finish what an interrupted write (a crash) left: removals, pending articles, BM25.
        Returns {"finished_removals": n, "reindexed": n}. Opening a library never writes; its first
        write runs this itself, and so does `doctor`."""
        return self.store.repair()

    def doctor(self, repair: bool = True, sample: int = 20):
        """Check (and repair) registry vs Chroma vs BM25 and verify a sample of citations."""
        from rag.maintenance import doctor

        return doctor(self.store, lambda question: self.ask(question, mode="extractive"), repair=repair, sample=sample)

    def export(self, path: str | Path) -> int:
        """Write the corpus to a file `import_corpus` reads; returns the number of articles."""
        from rag.maintenance import export_corpus

        return export_corpus(self.store, Path(path))

    def import_corpus(self, path: str | Path, reembed: bool = False):
        """Add the articles of an export file under their own ids (vectors reused when the model matches)."""
        from rag.maintenance import import_corpus

        return import_corpus(self.store, Path(path), reembed=reembed)

    # -- questions ----------------------------------------------------------------------------

    @property
    def llm_configured(self) -> bool:
        return self.settings.llm == "openai"

    def _llm_answerer(self, llm: Settings | None = None):
        """The LLM answerer for `llm`'s endpoint (default: this library's settings), made once."""
        llm = llm or self.settings
        key = (llm.openai_base_url, llm.openai_api_key, llm.llm_model, llm.llm_context_window, llm.llm_timeout_s)
        with self._llm_lock:
            if key not in self._llm_answerers:
                from rag.answer.llm import LLMAnswerer
                from rag.llm.client import ChatLLM

                self._llm_answerers[key] = LLMAnswerer(ChatLLM(llm), self.judge, llm.llm_context_window,
                                                       fallback=self.extractive)
            return self._llm_answerers[key]

    def support_judge(self, llm: bool = False) -> Judge:
        """The judge of how well a cited span supports a claim: the offline one answers are verified
        with, or (`llm`) one that also asks the configured LLM."""
        if not llm:
            return self.judge
        from rag.llm.client import ChatLLM

        return make_judge(self.settings, self.embedder, ChatLLM(self.settings, max_tokens=1))

    def standalone_question(self, question: str, history: list[Turn], mode: str,
                            llm: Settings | None = None) -> tuple[str, str | None]:
        """The query to search for; LLM condensing when in LLM mode, else the heuristic rewrite."""
        if not history or not needs_context(question):
            return question, None
        if mode == "llm":
            try:
                condensed = condense(self._llm_answerer(llm).llm, question, history)
            except LLMError as exc:
                return rewrite_followup(question, history), redact(f"LLM unavailable ({exc}); used the offline answerer.",
                                                                   self.settings.openai_api_key)
            if condensed:
                return condensed, None
        return rewrite_followup(question, history), None

    def published_dates(self) -> dict[str, date | None]:
        """Article id -> published date, for every article in the library."""
        return self.store.published_dates()

    def reference_date(self) -> date | None:
        """The library's "today" for relative dates: its newest published date."""
        return self.store.newest_published()

    def understand(self, question: str, as_of: date | None = None) -> Query:
        """The question's intent and dates, relative ones resolved against `as_of` (default: the
        newest published date in the library)."""
        return understand(question, as_of or self.reference_date(), classify=self.intents)

    def evidence(
        self,
        question: str | Query,
        *,
        k: int | None = None,
        since: date | None = None,
        until: date | None = None,
        as_of: date | None = None,
        retrieval: RetrievalMode = "hybrid",
        only: frozenset[str] | None = None,
    ) -> Found:
        """The one retrieve -> articles -> evidence pipeline (every answerer, eval and fit uses it).

        Args:
            question: a standalone question, or one already understood (`understand`).
            k: number of chunks to retrieve (default RAG_TOP_K).
            since, until: hard published-date filters (the user's); dates the question names
                and "latest" only re-rank (see rag/retrieval.py).
            as_of: reference date for relative dates and recency (default: newest in the library).
            only: search only these articles (`articles_matching`).
        """
        self.store.refresh()  # articles another process added or removed since
        query = question if isinstance(question, Query) else self.understand(question, as_of)
        recency = query.as_of if query.intent in ("latest", "changes") and not (query.since or query.until) else None
        prefer = DatePreference(query.since, query.until, recency, self.settings.recency_half_life_days)
        retrieved = self.retriever.retrieve(query.text, k or self.settings.top_k, since=since, until=until,
                                            mode=retrieval, prefer=prefer, published=self.published_dates, only=only)
        question_vector = self.embedder.get_query_embedding(query.text)
        articles = self.store.articles(sorted({r.article_id for r in retrieved}))
        evidence = select_evidence(query.text, retrieved, self.store, question_vector, articles)
        return Found(query=query, retrieved=retrieved, articles=articles, evidence=evidence)

    def ask(self, question: str, **kwargs) -> Answer:
        """Answer a question; see `ask_stream` for the arguments."""
        answer = None
        for event in self.ask_stream(question, **kwargs):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def ask_stream(
        self,
        question: str,
        *,
        history: list[Turn] | None = None,
        k: int | None = None,
        since: date | None = None,
        until: date | None = None,
        as_of: date | None = None,
        mode: str | None = None,
        retrieval: RetrievalMode = "hybrid",
        llm: Settings | None = None,
        only: frozenset[str] | None = None,
        quotes_first: bool = False,
    ) -> Iterator[Searching | Quotes | str | Answer]:
        """Yield `Searching(query)` before retrieval starts, then answer text deltas (str) as they
        are produced, then the final `Answer` (citations verified).

        Args:
            question: the user's question.
            history: earlier turns of this conversation, for follow-ups.
            k: number of chunks to retrieve (default RAG_TOP_K).
            since, until: only articles published in this date range.
            as_of: the reference date for "last month", "latest" (default: newest in the library).
            mode: "extractive" or "llm" (default: llm when configured).
            retrieval: "hybrid", "dense" or "bm25".
            llm: settings of another LLM endpoint for mode "llm" (the UI's local model).
            only: answer only from these articles (`articles_matching`).
            quotes_first: in mode "llm", also yield the extractive answer's verified `Quotes`
                before the model's text (the UI shows them while the model writes).
        """
        question = question.strip()
        if not question:
            raise InputError("the question is empty")
        if since and until and since > until:
            raise InputError(f"--since {since} is after --until {until}")
        mode = mode or ("llm" if self.llm_configured else "extractive")
        if mode == "llm" and not self.llm_configured and llm is None:
            raise InputError("LLM mode needs an LLM: set RAG_LLM=openai with OPENAI_API_KEY or OPENAI_BASE_URL")
        t0 = time.perf_counter()
        standalone, notice = self.standalone_question(question, history or [], mode, llm)
        if notice:
            mode = "extractive"
        query = self.understand(standalone, as_of)
        yield Searching(query)
        t1 = time.perf_counter()
        if query.intent in ("timeline", "changes"):  # stories: a timeline or changes answer (rag/stories/answers.py)
            shaped = self._story_answer(query)
            if shaped is not None:
                yield self._shaped_answer(question, standalone, query, shaped, t0, t1)
                return
        found = self.evidence(query, k=k, since=since, until=until, retrieval=retrieval, only=only)
        articles = found.articles
        t2 = time.perf_counter()
        draft, streamed = None, []
        try:
            if mode == "llm":
                events = self._llm_answerer(llm).stream(standalone, found)
            else:
                events = self.extractive.stream(standalone, found)
            for event in events:
                if isinstance(event, Draft):
                    draft = event
                elif isinstance(event, Quotes):
                    if quotes_first:
                        verify_all(event.citations, articles)
                        verify_span(event.answer_span, event.citations, articles)
                        yield event
                else:
                    streamed.append(event)
                    yield event
        except LLMError as exc:
            notice = redact(f"LLM unavailable: {exc}. Answered in extractive mode instead.", self.settings.openai_api_key)
            mode = "extractive"
            for event in self.extractive.stream(standalone, found):
                if isinstance(event, Draft):
                    draft = event
                elif not streamed:
                    yield event
        draft = draft or abstention()
        if draft.notice:  # the LLM answer was replaced by the extractive one (or withdrawn: an abstention)
            notice, mode = draft.notice, mode if draft.abstained else "extractive"
        verify_all(draft.citations, articles)
        verify_span(draft.answer_span, draft.citations, articles)
        t3 = time.perf_counter()
        yield Answer(
            question=question,
            standalone_question=standalone,
            mode=mode,
            answer=draft.answer,
            abstained=draft.abstained,
            citations=draft.citations,
            claims=draft.claims,
            unsupported=draft.unsupported,
            retrieved=found.retrieved,
            notice=notice,
            model=(llm or self.settings).llm_model if mode == "llm" else None,
            timings_ms={"condense": (t1 - t0) * 1000, "retrieve": (t2 - t1) * 1000,
                        "answer": (t3 - t2) * 1000, "total": (t3 - t0) * 1000},
            query=query,
            answer_span=draft.answer_span,
        )

    # -- reads for the service faces (rag serve, rag mcp) ------------------------------------------

    def search(self, query: str, *, k: int | None = None, since: date | None = None,
               until: date | None = None, source: str = "") -> list[SearchHit]:
        """The hybrid-retrieved chunks for `query`, best first, each with its text and offsets.

        Args:
            query: what to search for (understood like a question: dates it names re-rank).
            k: number of chunks (default RAG_TOP_K).
            since, until: only articles published in this date range.
            source: only articles from this source (exact, any case).
        """
        if not query.strip():
            raise InputError("the query is empty")
        if since and until and since > until:
            raise InputError(f"since {since} is after until {until}")
        only = self.articles_matching(sources=[source]) if source.strip() else None
        found = self.evidence(query.strip(), k=k, since=since, until=until, only=only)
        hits = []
        for chunk in found.retrieved:
            article = found.articles.get(chunk.article_id)
            if article is not None:
                hits.append(SearchHit(article_id=article.id, title=article.title, source=article.source, url=article.url,
                                      published=article.published, start=chunk.start, end=chunk.end,
                                      text=article.text[chunk.start:chunk.end], score=chunk.score))
        return hits

    def list_page(self, *, q: str = "", source: str = "", since: date | None = None, until: date | None = None,
                  limit: int = 50, cursor: str | None = None) -> ArticlePage:
        """Articles ordered by id, filtered, one page at a time (a cursor is the last id of a page,
        so adding or removing articles never shifts later pages).

        Args:
            q: only titles containing this text (case-insensitive).
            source: only this source (case-insensitive, exact).
            since, until: only articles published in this date range (undated ones are left out).
            limit: page size.
            cursor: `next_cursor` of the previous page.
        """
        needle, wanted = q.strip().casefold(), source.strip().casefold()
        chosen = sorted(
            (s for s in self.articles()
             if (not needle or needle in s.title.casefold()) and (not wanted or s.source.casefold() == wanted)
             and (not (since or until) or (s.published is not None and (not since or s.published >= since)
                                           and (not until or s.published <= until)))
             and (cursor is None or s.id > cursor)),
            key=lambda s: s.id)
        page = chosen[:limit]
        return ArticlePage(articles=page, next_cursor=page[-1].id if len(chosen) > limit else None)

    def articles_matching(self, *, sources: list[str] | None = None, ids: list[str] | None = None) -> frozenset[str]:
        """Ids of the articles from any of `sources` (exact names, any case) and, when `ids` is
        given, among them: the `only` of `evidence` and `ask_stream`.

        Raises ArticleNotFound for an unknown id, InputError when no article matches."""
        summaries = self.articles()
        chosen = {s.id for s in summaries}
        if ids is not None:
            unknown = sorted(set(ids) - chosen)
            if unknown:
                raise ArticleNotFound(f"no article with id {unknown[0]!r} (see `rag list`)")
            chosen &= set(ids)
        if sources is not None:
            wanted = {s.strip().casefold() for s in sources}
            chosen &= {s.id for s in summaries if s.source.casefold() in wanted}
        if not chosen:
            raise InputError(f"no article matches the filters (sources {sources}, article ids {ids})")
        return frozenset(chosen)

    def cite(self, answer: Answer, link: SpanLink | None = None, offset: int = 0) -> list[AnswerCitation]:
        """The citation objects of `answer` (DESIGN.md's one citation object), each checked again
        against the stored article (one removed meanwhile leaves its citation `verified: false`).

        Args:
            answer: an answer from `ask` or `ask_stream`.
            link: (article_id, start, end) -> the URL a face gives the span; default the article's URL.
            offset: length of the text a reply puts before the answer (answer offsets are shifted by it).
        """
        ids = sorted({c.article_id for c in answer.citations})
        articles = {a.id: a for a in (self.store.find(i) for i in ids) if a is not None}
        pages = {c.n: p for c in answer.citations if (p := self.page_of(c.article_id, c.start))}
        return answer_citations(answer, articles, link, offset, pages)

    def answer_json(self, answer: Answer, link: SpanLink | None = None) -> dict:
        """`rag ask --json`, which `POST /v1/ask` returns too: the answer's JSON shape with every
        citation as the one citation object (`cite`)."""
        data = answer.to_json_dict()
        data["citations"] = [c.model_dump(mode="json") for c in self.cite(answer, link)]
        return data

    def span(self, article_id: str, start: int, end: int) -> tuple[Article, str]:
        """The article and its text[start:end] (code points, end-exclusive); InputError when out of range."""
        article = self.article(article_id)
        if not (0 <= start < end <= len(article.text)):
            raise InputError(f"span {start}-{end} is outside article {article_id!r} (0-{len(article.text)})")
        return article, article.text[start:end]
