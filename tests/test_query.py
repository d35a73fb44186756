"""Query understanding: dates from plain language (no index needed); intents: tests/test_intent.py."""

from datetime import date

import pytest

from rag.query import understand
from rag.retrieval import DatePreference

AS_OF = date(2026, 1, 12)


@pytest.mark.parametrize("question, since, until", [
    ("What did the U.S. say in January 2026?", date(2026, 1, 1), date(2026, 1, 31)),
    ("What did Rubio say on Nov. 12?", date(2025, 11, 12), date(2025, 11, 12)),
    ("What happened on 2025-12-08?", date(2025, 12, 8), date(2025, 12, 8)),
    ("Whom did Rubio meet last month?", date(2025, 12, 1), date(2025, 12, 31)),
    ("What happened yesterday?", date(2026, 1, 11), date(2026, 1, 11)),
    ("What happened this week?", date(2026, 1, 6), date(2026, 1, 12)),
    ("What did the Council hear in May 2025 and in January 2026?", date(2025, 5, 1), date(2026, 1, 31)),
    ("What happened in 2025?", date(2025, 1, 1), date(2025, 12, 31)),
    ("Who is the Kremlin spokesperson?", None, None),
])
def test_dates(question, since, until):
    query = understand(question, AS_OF)
    assert (query.since, query.until) == (since, until)


def test_relative_dates_need_a_reference_date_and_json_shape():
    assert understand("What happened yesterday?", None).since is None
    query = understand("What is the latest on the plan?", AS_OF, classify=lambda text: "latest")
    assert query.to_json_dict() == {"intent": "latest", "since": None, "until": None, "as_of": "2026-01-12"}
    assert "the latest news" in query.describe()


def test_date_preference_weights():
    window = DatePreference(since=date(2025, 11, 1), until=date(2025, 11, 30))
    assert window.weight(date(2025, 11, 15)) == 1.0
    assert window.weight(date(2025, 12, 2)) == 1.0  # reported a few days after the window
    assert window.weight(date(2026, 1, 12)) < 0.5
    recency = DatePreference(recency_as_of=AS_OF, half_life_days=14)
    assert recency.weight(AS_OF) == 1.0 > recency.weight(date(2025, 12, 29)) > recency.weight(date(2025, 5, 29)) >= 0.3
    assert recency.weight(None) < 1.0
    assert recency.weight(date(2026, 2, 1)) < recency.weight(date(2025, 5, 29)), "news from after as_of is not latest"
