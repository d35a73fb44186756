"""Dataset loaders: each returns articles (for an isolated index) and questions with gold data."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from rag.ingest.canonical import make_article, normalize_text, slugify
from rag.errors import InputError
from rag.models import Article

PARAGRAPH_SEPARATOR = "\n\n"
T = TypeVar("T")


@dataclass
class GoldSpan:
    article_id: str
    start: int
    end: int


@dataclass
class EvalQuestion:
    id: str
    question: str
    answers: list[str]
    spans: list[GoldSpan] = field(default_factory=list)
    answerable: bool = True
    history: list[dict] = field(default_factory=list)
    meta: dict = field(default_factory=dict)


@dataclass
class EvalSet:
    articles: list[Article]
    questions: list[EvalQuestion]


@dataclass
class JudgePair:
    """One SummEdits item: does `doc` support `summary`? `group` is the source document's index."""

    id: str
    doc: str
    summary: str
    label: bool
    group: int


def load_squad(path: str | Path) -> EvalSet:
    """Official SQuAD v1.1 JSON: one article per Wikipedia title, paragraphs joined by blank lines.

    Gold spans are the answers' `answer_start` offsets moved into the joined article text; the
    joined text is built so that canonicalisation leaves it unchanged (checked per answer).
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    articles, questions = [], []
    for doc in data:
        from rag.ingest.canonical import normalize_text

        paragraphs = [normalize_text(p["context"]) for p in doc["paragraphs"]]
        text = PARAGRAPH_SEPARATOR.join(paragraphs)
        title = doc["title"].replace("_", " ")
        article = make_article(id=slugify(doc["title"]), title=title, text=text, source="Wikipedia (SQuAD v1.1)")
        articles.append(article)
        offset = 0
        for para, context in zip(doc["paragraphs"], paragraphs):
            for qa in para["qas"]:
                spans, answers = [], []
                for ans in qa["answers"]:
                    answers.append(ans["text"])
                    start = _locate(context, para["context"], ans["answer_start"], ans["text"])
                    if start is not None:
                        spans.append(GoldSpan(article.id, offset + start, offset + start + len(normalize_text(ans["text"]))))
                questions.append(EvalQuestion(qa["id"], qa["question"], list(dict.fromkeys(answers)), spans))
            offset += len(context) + len(PARAGRAPH_SEPARATOR)
        assert article.text == text, "SQuAD text changed under canonicalisation"
    return EvalSet(articles, questions)


def _locate(context: str, raw_context: str, raw_start: int, answer: str) -> int | None:
    """The answer's offset in the normalised paragraph (normalisation may shift offsets)."""
    from rag.ingest.canonical import normalize_text

    if context == raw_context and context[raw_start:raw_start + len(answer)] == answer:
        return raw_start
    prefix = normalize_text(raw_context[:raw_start] + "\x00").rstrip("\x00")
    norm_answer = normalize_text(answer)
    for guess in (len(prefix), len(prefix) + 1, len(prefix) - 1):
        if context[guess:guess + len(norm_answer)] == norm_answer:
            return guess
    found = context.find(norm_answer)
    return found if found >= 0 else None


FORMATS = ("squad", "squad2", "clapnq", "realtimeqa", "jsonl", "summedits")


def load(fmt: str, path: str | Path, corpus: str | Path | None = None) -> EvalSet:
    """Load a QA dataset by format name (everything except `summedits`, see `load_summedits`)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"dataset {path} does not exist")
    if fmt in ("realtimeqa", "jsonl") and corpus is None:
        raise InputError(f"--format {fmt} needs --corpus (the articles the questions are about)")
    try:
        if fmt == "squad":
            return load_squad(path)
        if fmt == "squad2":
            return load_squad2(path)
        if fmt == "clapnq":
            return load_clapnq(path)
        if fmt == "realtimeqa":
            return load_realtimeqa(path, corpus)
        if fmt == "jsonl":
            return load_jsonl(path, corpus)
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path} is not a valid {fmt} dataset: {type(exc).__name__}: {exc}") from exc
    raise InputError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")


def sample(items: list[T], limit: int | None, seed: int) -> list[T]:
    """A seeded sample of `limit` items (questions or judge pairs) in their dataset order
    (all when limit is None)."""
    if limit is None or limit >= len(items):
        return list(items)
    keep = set(random.Random(seed).sample(range(len(items)), limit))
    return [q for i, q in enumerate(items) if i in keep]


def load_squad2(path: str | Path) -> EvalSet:
    """SQuAD 2.0: the official JSON (same shape as v1.1) or a flat list of
    {id, context, question, answers, is_impossible}. Each distinct context becomes an article."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = [
            {"id": qa["id"], "context": para["context"], "question": qa["question"], "title": doc.get("title", ""),
             "answers": qa.get("answers", []), "is_impossible": qa.get("is_impossible", False)}
            for doc in data["data"] for para in doc["paragraphs"] for qa in para["qas"]
        ]
    articles: dict[str, Article] = {}
    questions = []
    for rec in data:
        context = normalize_text(rec["context"])
        article = _paragraph_article(articles, context, rec.get("title", ""), "Wikipedia (SQuAD 2.0)")
        impossible = bool(rec.get("is_impossible"))
        answers = [] if impossible else list(dict.fromkeys(a["text"] for a in rec["answers"] if a["text"]))
        spans = []
        for ans in [] if impossible else rec["answers"]:
            start = _locate(context, rec["context"], ans["answer_start"], ans["text"]) if ans["text"] else None
            if start is not None:
                spans.append(GoldSpan(article.id, start, start + len(normalize_text(ans["text"]))))
        questions.append(EvalQuestion(rec["id"], rec["question"], answers, spans, answerable=not impossible))
    return EvalSet(list(articles.values()), questions)


def _paragraph_article(articles: dict[str, Article], text: str, title: str, source: str) -> Article:
    """One article per distinct paragraph text (shared by the questions about it)."""
    key = text
    if key not in articles:
        n = len(articles) + 1
        label = title.replace("_", " ") or text.split(". ", 1)[0][:80]
        articles[key] = make_article(id=f"p{n:04d}-{slugify(label, 40)}", title=label, text=text, source=source)
        assert articles[key].text == text, "paragraph text changed under canonicalisation"
    return articles[key]


def load_clapnq(path: str | Path) -> EvalSet:
    """CLAP NQ jsonl (answerable or unanswerable file). The corpus is the pool of every gold
    passage in the file; gold evidence is each answer's selected sentences located in its passage."""
    articles: dict[str, Article] = {}
    questions = []
    for line in _jsonl_lines(path):
        rec = json.loads(line)
        passage_articles = [
            _paragraph_article(articles, normalize_text(p["text"]), p.get("title", ""), "Wikipedia (CLAP NQ)")
            for p in rec["passages"]
        ]
        answers, spans = [], []
        for out in rec.get("output", []):
            if out.get("answer"):
                answers.append(out["answer"])
            for sentence in out.get("selected_sentences", []):
                spans.extend(_find_quote(passage_articles, normalize_text(sentence)))
        answerable = bool(answers)
        questions.append(EvalQuestion(str(rec["id"]), rec["input"], list(dict.fromkeys(answers)), _dedupe(spans),
                                      answerable=answerable, meta={"long_answer": True}))
    return EvalSet(list(articles.values()), questions)


def load_realtimeqa(path: str | Path, corpus: str | Path) -> EvalSet:
    """RealTimeQA questions jsonl plus its docs jsonl ({doc_id, title, text, url, publish_date}).

    Only the docs some question lists (retrieved or containing the answer) are indexed: the full
    docs file is too large to embed for a quick run, and those are the candidates its baseline saw.
    Gold evidence: the occurrences of the gold answer text in the docs that contain it; a question
    whose answer text occurs in no doc is unanswerable from this corpus."""
    records = [json.loads(line) for line in _jsonl_lines(path)]
    wanted = {d for r in records for d in r.get("retrieved_doc_ids", []) + r.get("docs_containing_answer_string", [])}
    articles: dict[str, Article] = {}
    for line in _jsonl_lines(corpus):
        doc = json.loads(line)
        if doc["doc_id"] in wanted and doc.get("text", "").strip():
            articles[slugify(doc["doc_id"], 120)] = make_article(id=doc["doc_id"], title=doc.get("title") or doc["doc_id"], text=doc["text"],
                                                   source=_host(doc.get("url", "")), url=doc.get("url", ""),
                                                   published=_safe_date(doc.get("publish_date")))
    questions = []
    for rec in records:
        gold = rec["gold_answer_text"]
        spans = []
        for doc_id in rec.get("docs_containing_answer_string", []):
            article = articles.get(slugify(doc_id, 120))
            if article is not None:
                spans.extend(_occurrences(article, normalize_text(gold)))
        docs = [slugify(d, 120) for d in rec.get("retrieved_doc_ids", []) + rec.get("docs_containing_answer_string", [])]
        # ~58% of the questions have their answer in none of the docs: the corpus cannot answer them.
        questions.append(EvalQuestion(rec["question_id"], rec["question"], [gold], spans, answerable=bool(spans),
                                      meta={"choices": rec.get("choices", []), "date": rec.get("question_date"),
                                            "docs": [d for d in dict.fromkeys(docs) if d in articles]}))
    return EvalSet(list(articles.values()), questions)


def corpus_for(evalset: EvalSet, questions: list[EvalQuestion]) -> list[Article]:
    """The articles to index for these questions: all of them, except for datasets whose
    questions name their candidate docs (RealTimeQA), where only the named docs are kept."""
    if not questions or not all("docs" in q.meta for q in questions):
        return evalset.articles
    wanted = {d for q in questions for d in q.meta["docs"]}
    return [a for a in evalset.articles if a.id in wanted]


def load_jsonl(path: str | Path, corpus: str | Path) -> EvalSet:
    """The bundled format (see docs/evaluation.md): one question per line with gold answers and
    evidence quotes; the corpus is a folder or files loaded exactly as `rag add` loads them."""
    from rag.ingest.files import iter_input_files, load_file

    articles: dict[str, Article] = {}
    for file in iter_input_files([corpus]):
        for loaded in load_file(file, 50_000_000):
            if loaded.article is None:
                raise InputError(f"corpus file {loaded.label}: {loaded.error}")
            articles[loaded.article.id] = loaded.article
    if not articles:
        raise InputError(f"no articles found in corpus {corpus}")
    questions = []
    for n, line in enumerate(_jsonl_lines(path), 1):
        rec = json.loads(line)
        spans = []
        for ev in rec.get("evidence", []):
            article = articles.get(ev["article_id"])
            if article is None:
                raise InputError(f"{path} line {n}: evidence article {ev['article_id']!r} is not in the corpus")
            found = _occurrences(article, normalize_text(ev["quote"]))
            if not found:
                raise InputError(f"{path} line {n}: evidence quote not found verbatim in {ev['article_id']}: "
                                 f"{ev['quote'][:60]!r}")
            spans.append(found[0])
        history = [{"question": t["question"], "answer": t["answer"]} for t in rec.get("history", [])]
        # `intent`: the kind of answer the question's writer expected (per-intent reporting).
        meta = {key: rec[key] for key in ("category", "intent") if rec.get(key)}
        questions.append(EvalQuestion(str(rec["id"]), rec["question"], list(rec.get("answers", [])), spans,
                                      answerable=bool(rec.get("answerable", True)), history=history, meta=meta))
    return EvalSet(list(articles.values()), questions)


def load_summedits(path: str | Path) -> list[JudgePair]:
    """SummEdits: a JSON list of {id, doc, summary, label}; label 1 = consistent with the doc."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"dataset {path} does not exist")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        groups: dict[str, int] = {}
        return [JudgePair(str(r.get("id", i)), r["doc"], r["summary"], bool(int(r["label"])),
                          groups.setdefault(r["doc"], len(groups))) for i, r in enumerate(data)]
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path} is not a summedits list of {{doc, summary, label}}: {exc}") from exc


def _jsonl_lines(path: str | Path) -> list[str]:
    """Non-empty lines of a .jsonl file, or of every .jsonl file in a folder (sorted by name)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist")
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    return [line for f in files for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]


def _find_quote(articles: list[Article], quote: str) -> list[GoldSpan]:
    for article in articles:
        found = _occurrences(article, quote)
        if found:
            return found[:1]
    return []


def _occurrences(article: Article, needle: str) -> list[GoldSpan]:
    """Every verbatim occurrence of `needle` (case-insensitive fallback) in the article text."""
    if not needle:
        return []
    spans, haystack = [], article.text
    start = haystack.find(needle)
    if start < 0:
        haystack, needle = haystack.lower(), needle.lower()
        start = haystack.find(needle)
    while start >= 0:
        spans.append(GoldSpan(article.id, start, start + len(needle)))
        start = haystack.find(needle, start + 1)
    return spans


def _dedupe(spans: list[GoldSpan]) -> list[GoldSpan]:
    return list({(s.article_id, s.start, s.end): s for s in spans}.values())


def _host(url: str) -> str:
    from urllib.parse import urlparse

    return urlparse(url).netloc.removeprefix("www.") if url else ""


def _safe_date(value: object) -> str | None:
    from rag.ingest.canonical import parse_date

    try:
        return str(parse_date(value)) if value else None
    except ValueError:
        return None
