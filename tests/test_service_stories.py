"""Stories under /v1 against a live `rag serve`: each endpoint returns exactly what the matching
`rag ... --json` command prints over the same data directory, every citation verbatim in the
article the API serves, and bad input gets one clear 4xx."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import httpx
import pytest

from tests.support.service import OFFLINE
from tests.support.ui_server import ROOT

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def http(api_base):
    with httpx.Client(base_url=api_base, timeout=300) as session:
        yield session


def rag_json(data_dir, *args: str) -> dict:
    run = subprocess.run([sys.executable, "-m", "rag", "--data-dir", str(data_dir), *args, "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, env={**os.environ, **OFFLINE})
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def get(http, path: str, **params) -> dict:
    response = http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def story(http) -> dict:
    """The story with the most articles (the corpus has one about the U.S.-Ukraine talks in Geneva)."""
    stories = get(http, "/v1/stories")["stories"]
    biggest = max(stories, key=lambda s: len(s["articles"]))
    assert len(biggest["articles"]) >= 2
    return biggest


def published(http, article_id: str) -> date:
    return date.fromisoformat(get(http, f"/v1/articles/{article_id}")["published"])


def check_quotes(http, citations: list[dict]) -> None:
    assert citations
    for c in citations:
        text = get(http, f"/v1/articles/{c['article_id']}")["text"]
        assert text[c["start"]:c["end"]] == c["quote"]


def test_stories_are_what_rag_stories_prints(http, service_data, story):
    listed = get(http, "/v1/stories")
    assert listed == rag_json(service_data, "stories")
    assert story in listed["stories"] and story["first"] <= story["last"]
    # `since` keeps the stories with an article published on or after it.
    since = story["last"]
    recent = get(http, "/v1/stories", since=since)["stories"]
    assert story in recent and all(s["last"] >= since for s in recent)
    assert len(recent) < len(listed["stories"])


def test_timeline_is_what_rag_timeline_prints(http, service_data, story):
    timeline = get(http, f"/v1/stories/{story['id']}/timeline")
    assert timeline == rag_json(service_data, "timeline", story["id"])
    assert timeline["story"] == story
    dates = [e["date"] for e in timeline["entries"]]
    assert dates == sorted(dates) and dates
    check_quotes(http, [c for e in timeline["entries"] for c in e["citations"]])
    # since/until cut the entries to their dates.
    cut = get(http, f"/v1/stories/{story['id']}/timeline", since=dates[-1], until=dates[-1])
    assert cut["entries"] and {e["date"] for e in cut["entries"]} == {dates[-1]}


def test_changes_are_what_rag_changes_prints(http, service_data, story):
    days = sorted({published(http, a) for a in story["articles"]})
    since = days[min(1, len(days) - 1)].isoformat()  # the story's later articles (or its last day's) are the news
    changes = get(http, "/v1/changes", story=story["id"], since=since)
    assert changes == rag_json(service_data, "changes", story["id"], "--since", since)
    assert changes["since"] == since and changes["story"] == story and changes["bullets"]
    cited = [c for b in changes["bullets"] for c in b["citations"]]
    check_quotes(http, cited)
    assert all(published(http, c["article_id"]).isoformat() >= since for c in cited if not c.get("before"))
    assert all(c.get("before", True) is True for c in cited)  # present only when true, as the CLI prints it
    # The story may be named by words, as `rag changes "QUERY"` does.
    assert get(http, "/v1/changes", story="Rubio Geneva talks Ukraine", since=since)["story"]["id"] == story["id"]


@pytest.mark.parametrize("path, params, status, code, says", [
    ("/v1/stories/s-0000000000/timeline", {}, 404, "story_not_found", "no story with id 's-0000000000'"),
    ("/v1/stories/Rubio/timeline", {}, 404, "story_not_found", "no story with id 'Rubio'"),  # a path names an id
    ("/v1/stories", {"since": "2025-13-01"}, 422, "invalid_value", "since"),
    ("/v1/changes", {"story": "peace talks"}, 422, "invalid_value", "since"),
    ("/v1/changes", {"story": "peace talks", "since": "last week"}, 422, "invalid_value", "since"),
    ("/v1/changes", {"story": "zzzz qqqq xxxx", "since": "2025-11-01"}, 404, "story_not_found", "no story matches"),
])
def test_bad_story_requests_get_one_clear_error(http, path, params, status, code, says):
    response = http.get(path, params=params)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and says in error["message"] and "Traceback" not in response.text


def test_timeline_dates_out_of_order_are_refused(http, story):
    response = http.get(f"/v1/stories/{story['id']}/timeline", params={"since": "2025-12-01", "until": "2025-11-01"})
    assert response.status_code == 400 and "since 2025-12-01 is after until 2025-11-01" in response.json()["error"]["message"]


def test_openapi_describes_the_story_endpoints(http):
    spec = get(http, "/openapi.json")
    for path in ("/v1/stories", "/v1/stories/{story_id}/timeline", "/v1/changes"):
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["$ref"].split("/")[-1] in spec["components"]["schemas"]
    entry = spec["components"]["schemas"]["TimelineEntryOut"]["properties"]
    assert set(entry) == {"date", "date_source", "text", "citations"}
