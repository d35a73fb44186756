"""The hand-labelled stories gold (evals/stories/) stays consistent with the articles it cites."""

import copy
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT.parent / "shared" / "datasets" / "realtimeqa" / "gcs_2024Q1_docs.jsonl"

pytestmark = pytest.mark.skipif(not DOCS.exists(), reason="the RealTimeQA dataset is not present")


def _checker():
    spec = importlib.util.spec_from_file_location("check_gold", ROOT / "evals" / "stories" / "check_gold.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def checker():
    return _checker()


@pytest.fixture(scope="module")
def docs(checker):
    return checker.load_docs(DOCS)


def test_gold_is_sound(checker, docs):
    assert checker.check(docs) == []


def test_a_shifted_article_text_breaks_its_quotes(checker, docs):
    cited = next(s for _, _, s in checker.cited_spans(checker.read_jsonl("timelines.jsonl"), "timelines.jsonl"))
    shifted = copy.copy(docs)
    shifted[cited["doc_id"]] = docs[cited["doc_id"]] | {"text": " " + docs[cited["doc_id"]]["text"]}
    assert any(cited["doc_id"] in e and "quote" in e for e in checker.check(shifted))


def test_a_missing_member_is_reported(checker, docs):
    member = checker.read_jsonl("stories.jsonl")[0]["members"][0]
    fewer = {k: v for k, v in docs.items() if k != member}
    assert any(f"unknown article {member}" in e for e in checker.check(fewer))
