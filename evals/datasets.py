"""Dataset loaders: each returns articles (for an isolated index) and questions with gold data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.articles import make_article, slugify
from rag.models import Article

PARAGRAPH_SEPARATOR = "\n\n"


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


def load_squad(path: str | Path) -> EvalSet:
    """Official SQuAD v1.1 JSON: one article per Wikipedia title, paragraphs joined by blank lines.

    Gold spans are the answers' `answer_start` offsets moved into the joined article text; the
    joined text is built so that canonicalisation leaves it unchanged (checked per answer).
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    articles, questions = [], []
    for doc in data:
        from rag.articles import normalize_text

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
    from rag.articles import normalize_text

    if context == raw_context and context[raw_start:raw_start + len(answer)] == answer:
        return raw_start
    prefix = normalize_text(raw_context[:raw_start] + "\x00").rstrip("\x00")
    norm_answer = normalize_text(answer)
    for guess in (len(prefix), len(prefix) + 1, len(prefix) - 1):
        if context[guess:guess + len(norm_answer)] == norm_answer:
            return guess
    found = context.find(norm_answer)
    return found if found >= 0 else None
