"""Dataset loaders: gold spans land on the answer text in the canonical article text."""

from __future__ import annotations

import json

import pytest

from evals import datasets
from rag.errors import InputError

CONTEXT = "Paris is the capital of France. It has 2.1 million residents."


def write(path, data) -> str:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def span_text(evalset, span) -> str:
    article = next(a for a in evalset.articles if a.id == span.article_id)
    return article.text[span.start:span.end]


def test_squad2_flat_list(tmp_path):
    path = write(tmp_path / "s2.json", [
        {"id": "1", "context": CONTEXT, "question": "Capital of France?", "is_impossible": False,
         "answers": [{"text": "Paris", "answer_start": 0}]},
        {"id": "2", "context": CONTEXT, "question": "Capital of Spain?", "is_impossible": True,
         "answers": [{"text": "", "answer_start": 0}]},
    ])
    evalset = datasets.load("squad2", path)
    assert len(evalset.articles) == 1
    answerable, impossible = evalset.questions
    assert span_text(evalset, answerable.spans[0]) == "Paris"
    assert not impossible.answerable and impossible.answers == [] and impossible.spans == []


def test_squad2_official_json(tmp_path):
    path = write(tmp_path / "s2.json", {"data": [{"title": "France", "paragraphs": [{"context": CONTEXT, "qas": [
        {"id": "1", "question": "How many residents?", "is_impossible": False,
         "answers": [{"text": "2.1 million", "answer_start": 40}]},
        {"id": "2", "question": "Mayor?", "is_impossible": True, "answers": []}]}]}]})
    evalset = datasets.load("squad2", path)
    assert span_text(evalset, evalset.questions[0].spans[0]) == "2.1 million"
    assert [q.answerable for q in evalset.questions] == [True, False]


def test_clapnq_gold_sentences_and_unanswerable(tmp_path):
    passage = {"title": "France", "text": CONTEXT, "sentences": ["Paris is the capital of France.", "It has 2.1 million residents."]}
    lines = [
        {"id": 1, "input": "how many live in paris", "passages": [passage],
         "output": [{"answer": "About 2.1 million people.", "selected_sentences": ["It has 2.1 million residents."]}]},
        {"id": 2, "input": "who built paris", "passages": [passage], "output": [{"answer": "", "selected_sentences": []}]},
    ]
    path = write(tmp_path / "c.jsonl", "\n".join(json.dumps(x) for x in lines))
    evalset = datasets.load("clapnq", path)
    assert len(evalset.articles) == 1  # the pool of distinct gold passages
    first, second = evalset.questions
    assert span_text(evalset, first.spans[0]) == "It has 2.1 million residents."
    assert first.answerable and not second.answerable


def test_realtimeqa_keeps_named_docs_and_locates_answers(tmp_path):
    docs = [{"doc_id": "rtqa_1", "title": "T1", "text": "Tigger entered the public domain.", "url": "https://x.com/a",
             "publish_date": "2024/01/02"},
            {"doc_id": "rtqa_2", "title": "T2", "text": "Unrelated.", "url": ""},
            {"doc_id": "rtqa_3", "title": "T3", "text": "Never named by a question.", "url": ""}]
    question = {"question_id": "q1", "question": "Which sidekick?", "choices": ["Owl", "Tigger"], "gold_answer_text": "Tigger",
                "retrieved_doc_ids": ["rtqa_1", "rtqa_2"], "docs_containing_answer_string": ["rtqa_1"]}
    corpus = write(tmp_path / "docs.jsonl", "\n".join(json.dumps(d) for d in docs))
    evalset = datasets.load("realtimeqa", write(tmp_path / "q.jsonl", json.dumps(question)), corpus)
    assert sorted(a.id for a in evalset.articles) == ["rtqa-1", "rtqa-2"]
    q = evalset.questions[0]
    assert span_text(evalset, q.spans[0]) == "Tigger" and q.meta["choices"] == ["Owl", "Tigger"] and q.answerable
    assert [a.id for a in datasets.corpus_for(evalset, [q])] == ["rtqa-1", "rtqa-2"]


def test_jsonl_locates_quotes_and_keeps_history(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "france.txt").write_text("France facts\n\n" + CONTEXT, encoding="utf-8")
    article_id = "france"
    lines = [
        {"id": "q1", "question": "Capital?", "answers": ["Paris"], "answerable": True,
         "evidence": [{"article_id": article_id, "quote": "Paris is the capital of France."}]},
        {"id": "q2", "question": "How many live there?", "answers": ["2.1 million"],
         "evidence": [{"article_id": article_id, "quote": "It has 2.1 million residents."}],
         "history": [{"question": "Capital?", "answer": "Paris"}]},
        {"id": "q3", "question": "Who is the mayor?", "answers": [], "answerable": False},
    ]
    path = write(tmp_path / "q.jsonl", "\n".join(json.dumps(x) for x in lines))
    evalset = datasets.load("jsonl", path, corpus)
    q1, q2, q3 = evalset.questions
    assert span_text(evalset, q1.spans[0]) == "Paris is the capital of France."
    assert q2.history == [{"question": "Capital?", "answer": "Paris"}]
    assert not q3.answerable


def test_jsonl_rejects_a_quote_not_in_the_article(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "france.txt").write_text(CONTEXT, encoding="utf-8")
    bad = {"id": "q1", "question": "?", "answers": ["x"], "evidence": [{"article_id": "france", "quote": "Lyon is big."}]}
    with pytest.raises(InputError, match="line 1: evidence quote not found"):
        datasets.load("jsonl", write(tmp_path / "q.jsonl", json.dumps(bad)), corpus)


def test_bad_inputs_give_specific_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        datasets.load("squad", tmp_path / "missing.json")
    with pytest.raises(InputError, match="needs --corpus"):
        datasets.load("jsonl", write(tmp_path / "q.jsonl", "{}"))
    with pytest.raises(InputError, match="not a valid squad2 dataset"):
        datasets.load("squad2", write(tmp_path / "x.json", [{"id": "1"}]))


def test_summedits_groups_by_document(tmp_path):
    path = write(tmp_path / "se.json", [{"doc": "D1", "summary": "s", "label": 1}, {"doc": "D2", "summary": "s", "label": 0},
                                        {"doc": "D1", "summary": "t", "label": 0}])
    pairs = datasets.load_summedits(path)
    assert [(p.group, p.label) for p in pairs] == [(0, True), (1, False), (0, False)]


def test_sample_is_seeded_and_keeps_order():
    questions = [datasets.EvalQuestion(str(i), "q", ["a"]) for i in range(50)]
    first = datasets.sample(questions, 10, seed=3)
    assert first == datasets.sample(questions, 10, seed=3)
    assert [int(q.id) for q in first] == sorted(int(q.id) for q in first)
    assert datasets.sample(questions, None, 0) == questions
