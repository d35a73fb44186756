"""Keeping a data directory healthy and portable: `doctor` (check and repair), `export`, `import`.

The registry is the source of truth: Chroma and BM25 are checked against it and rebuilt from it.
What cannot be rebuilt from the registry (an article text that no longer matches its sha256) is
reported, never "fixed" by guessing.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from rag.errors import InputError, RagError
from rag.ingest.canonical import content_hash
from rag.models import Answer, Article, ArticleSummary, Chunk, Sentence
from rag.store import Embedded, Store
from rag.verify.citations import CitationError, make_citation, verify_all

Ask = Callable[[str], Answer]  # a question in, a verified extractive answer out

EXPORT_FORMAT = "newsground-export"
EXPORT_VERSION = 1


class Problem(BaseModel):
    """One inconsistency found by the doctor, and whether it repaired it."""

    kind: str
    detail: str
    repaired: bool = False


class DoctorReport(BaseModel):
    articles: int = 0
    ready: int = 0
    chunks: int = 0
    citations_checked: int = 0
    problems: list[Problem] = Field(default_factory=list)

    @property
    def remaining(self) -> list[Problem]:
        return [p for p in self.problems if not p.repaired]

    @property
    def ok(self) -> bool:
        return not self.remaining


def find_problems(store: Store) -> tuple[list[Problem], set[str], list[str]]:
    """Problems of the registry, Chroma and BM25 against each other.

    Returns (problems, ids of articles to re-index, orphan chunk ids to delete from Chroma).
    """
    problems: list[Problem] = []
    reindex: set[str] = set()
    registry = store.registry
    for state in ("pending", "deleting"):
        for article_id in registry.ids_in_state(state):
            problems.append(Problem(kind=state, detail=f"article {article_id} was left {state} by an interrupted write"))
    summaries = {s.id: s for s in registry.summaries()}
    ready = {i for i, s in summaries.items() if s.state == "ready"}
    chroma = store.vectors.chunk_ids_by_article()
    for article_id in sorted(ready):
        article = registry.find(article_id)
        if article is None:
            continue
        if content_hash(article.text) != article.sha256:
            problems.append(Problem(kind="text", detail=f"article {article_id}: text does not match its sha256 (the registry was altered; re-add it from its source)"))
            continue
        sentences, chunks = registry.sentences_of(article_id), registry.chunks_of(article_id)
        reason = _offset_problem(article, sentences, chunks)
        if reason:
            problems.append(Problem(kind="offsets", detail=f"article {article_id}: {reason}"))
            reindex.add(article_id)
            continue
        want = {c.id for c in chunks}
        have = chroma.get(article_id, set())
        if want - have:
            problems.append(Problem(kind="chroma-missing", detail=f"article {article_id}: {len(want - have)} of {len(want)} chunks missing from Chroma"))
            reindex.add(article_id)
    orphans: list[str] = []
    for article_id, ids in chroma.items():
        wanted = {c.id for c in registry.chunks_of(article_id)} if article_id in summaries else set()
        extra = sorted(ids - wanted)
        if extra:
            problems.append(Problem(kind="chroma-orphan", detail=f"{len(extra)} chunks in Chroma for {'article ' + article_id if article_id else 'no article'} that the registry does not have"))
            orphans.extend(extra)
    ready_chunks = {row[0] for row in registry.ready_chunks()}
    bm25 = set(store.bm25.chunk_ids)
    if bm25 != ready_chunks:
        problems.append(Problem(kind="bm25", detail=f"BM25 holds {len(bm25)} chunks, {len(bm25 - ready_chunks)} not ready; {len(ready_chunks - bm25)} ready chunks missing"))
    return problems, reindex, orphans


def _offset_problem(article: Article, sentences: list[Sentence], chunks: list[Chunk]) -> str | None:
    n = len(article.text)
    if not sentences or not chunks:
        return "no sentences or chunks"
    for s in sentences:
        if not (0 <= s.start < s.end <= n):
            return f"sentence {s.index} span {s.start}:{s.end} outside the text ({n} chars)"
    for c in chunks:
        if not (0 <= c.start < c.end <= n) or not (0 <= c.first_sentence <= c.last_sentence < len(sentences)):
            return f"chunk {c.id} span {c.start}:{c.end} or sentences {c.first_sentence}-{c.last_sentence} out of range"
    covered = {i for c in chunks for i in range(c.first_sentence, c.last_sentence + 1)}
    if len(covered) != len(sentences):
        return f"{len(sentences) - len(covered)} sentences are in no chunk"
    return None


def _summaries(store: Store) -> list[ArticleSummary]:
    store.refresh()  # articles another process added or removed since
    return store.registry.summaries()


def check_citations(store: Store, ask: Ask, sample: int, seed: int = 0) -> tuple[int, list[Problem]]:
    """Ask each sampled ready article's first sentence back and verify every citation returned."""
    ready = sorted(s.id for s in _summaries(store) if s.state == "ready")
    checked, problems = 0, []
    for article_id in random.Random(seed).sample(ready, min(sample, len(ready))):
        article = store.registry.find(article_id)
        sentences = store.registry.sentences_of(article_id)
        try:
            citation = make_citation(1, article, sentences[0].start, sentences[0].end, 1.0)
            answer = ask(citation.quote[:300])
            verify_all([citation, *answer.citations], store.registry.articles([c.article_id for c in answer.citations] + [article_id]))
            checked += 1 + len(answer.citations)
        except (CitationError, IndexError) as exc:
            problems.append(Problem(kind="citation", detail=f"article {article_id}: {exc or 'no sentences'}"))
    return checked, problems


def doctor(store: Store, ask: Ask, repair: bool = True, sample: int = 20, seed: int = 0) -> DoctorReport:
    """Check registry vs Chroma vs BM25, repair what the registry can rebuild, verify citations.

    Args:
        store: the store to check.
        ask: answers a question in extractive mode (`Library.ask`), for the citation sample.
    """
    problems, reindex, orphans = find_problems(store)
    # An earlier write of this process may already have finished what a crash interrupted; say so.
    done = store.repairs
    if done["reindexed"]:
        problems.insert(0, Problem(kind="pending", repaired=True, detail=f"{done['reindexed']} article(s) left pending by an "
                                   "interrupted write were re-indexed by an earlier write"))
    if done["finished_removals"]:
        problems.insert(0, Problem(kind="deleting", repaired=True, detail=f"{done['finished_removals']} interrupted "
                                   "removal(s) were finished by an earlier write"))
    if repair and problems:
        with store.writing():
            store.repair()  # finishes pending / deleting work and resyncs BM25
            if orphans:
                store.vectors.delete_ids(orphans)
            if reindex:
                articles = store.registry.articles(sorted(reindex))
                store.index(list(articles.values()))
        after, _, _ = find_problems(store)
        still = {p.detail for p in after}
        for p in problems:
            p.repaired = p.detail not in still and p.kind != "text"
        problems += [p for p in after if p.detail not in {q.detail for q in problems}]
    if store.repair_error:
        problems.append(Problem(kind="pending", detail=store.repair_error))
    checked, citation_problems = check_citations(store, ask, sample, seed)
    summaries = _summaries(store)
    return DoctorReport(
        articles=len(summaries), ready=sum(s.state == "ready" for s in summaries),
        chunks=sum(s.chunks for s in summaries), citations_checked=checked,
        problems=problems + citation_problems,
    )


# -- export / import ----------------------------------------------------------------------------

def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def _unb64(data: str, dtype, width: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(data), dtype=dtype).reshape(-1, width)


def export_corpus(store: Store, path: Path) -> int:
    """Write every ready article (text, metadata, sentences, chunks and their vectors) to a
    gzipped JSON-lines file; returns the number of articles."""
    settings = store.settings
    ids = sorted(s.id for s in _summaries(store) if s.state == "ready")
    header = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "embed_model": store.embedder.model_name,
              "chunk_tokens": settings.chunk_tokens, "chunk_overlap": settings.chunk_overlap_sentences,
              "articles": len(ids)}
    tmp = path.with_name(path.name + ".tmp")
    try:
        with gzip.open(tmp, "wt", encoding="utf-8") as out:
            out.write(json.dumps(header) + "\n")
            for article_id in ids:
                article = store.registry.find(article_id)
                sentences = store.registry.sentences_of(article_id)
                _, sent_vecs = store.registry.sentences_with_vectors(article_id, 0, len(sentences))
                chunks = store.registry.chunks_of(article_id)
                found = store.vectors.vectors([c.id for c in chunks])
                record = article.model_dump(mode="json") | {
                    "sentences": [[s.start, s.end] for s in sentences],
                    "chunks": [[c.start, c.end, c.first_sentence, c.last_sentence] for c in chunks],
                    "sentence_vectors": _b64(sent_vecs.astype(np.float16)),
                    "dim": int(sent_vecs.shape[1]),
                }
                if len(found) == len(chunks):
                    record["chunk_vectors"] = _b64(np.stack([found[c.id] for c in chunks]).astype(np.float32))
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise RagError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return len(ids)


class ImportResult(BaseModel):
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    reused_vectors: bool = False


def _read_export(path: Path) -> tuple[dict, list[dict]]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            lines = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not a `rag export` file ({exc})") from exc
    if not lines or not isinstance(lines[0], dict) or lines[0].get("format") != EXPORT_FORMAT:
        raise InputError(f"{path} is not a `rag export` file (no {EXPORT_FORMAT} header)")
    if lines[0].get("version") != EXPORT_VERSION:
        raise InputError(f"{path} is export version {lines[0].get('version')}; this rag reads version {EXPORT_VERSION}")
    if len(lines) - 1 != lines[0].get("articles"):
        raise InputError(f"{path} is truncated: header says {lines[0].get('articles')} articles, found {len(lines) - 1}")
    return lines[0], lines[1:]


def import_corpus(store: Store, path: Path, reembed: bool = False) -> ImportResult:
    """Add the articles of an export under their own ids. Vectors are reused when the export was
    made with this embedding model and chunking (else, or with `reembed`, they are recomputed)."""
    header, records = _read_export(path)
    settings = store.settings
    reuse = not reembed and header.get("embed_model") == store.embedder.model_name and \
        header.get("chunk_tokens") == settings.chunk_tokens and header.get("chunk_overlap") == settings.chunk_overlap_sentences
    articles: list[tuple[Article, dict]] = []
    for n, record in enumerate(records, 2):
        try:
            article = Article.model_validate({k: record.get(k) for k in ("id", "title", "text", "source", "url", "published", "sha256")})
        except ValueError as exc:
            raise InputError(f"{path}: record {n} is not an article ({str(exc).splitlines()[0]})") from exc
        if content_hash(article.text) != article.sha256:
            raise InputError(f"{path}: article {article.id} text does not match its sha256 (the file was altered)")
        articles.append((article, record))
    result = ImportResult(reused_vectors=reuse)
    with store.writing():
        todo: list[tuple[Article, dict]] = []
        for article, record in articles:
            existing = store.registry.find(article.id)
            if existing is not None and existing.sha256 == article.sha256:
                result.unchanged += 1
                continue
            result.updated += existing is not None
            result.added += existing is None
            todo.append((article, record))
        if not reuse or any("chunk_vectors" not in r for _, r in todo):
            result.reused_vectors = False
            store.index([a for a, _ in todo])
            return result
        given = {}
        for article, record in todo:
            sentences = [Sentence(article.id, i, s, e) for i, (s, e) in enumerate(record["sentences"])]
            prefix = f"{article.id}@{article.sha256[:8]}"
            chunks = [Chunk(f"{prefix}#{i}", article.id, i, s, e, f, last) for i, (s, e, f, last) in enumerate(record["chunks"])]
            problem = _offset_problem(article, sentences, chunks)
            if problem:
                raise InputError(f"{path}: article {article.id}: {problem}")
            sent_vecs = _unb64(record["sentence_vectors"], np.float16, record["dim"]).astype(np.float32)
            chunk_vecs = _unb64(record["chunk_vectors"], np.float32, record["dim"])
            given[article.id] = Embedded(sentences, chunks, sent_vecs, chunk_vecs)
        store.index([a for a, _ in todo], vectors=given)
    return result
