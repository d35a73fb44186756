"""Stories: clustering, near-copies, following updates and removals, timelines, changes,
disagreements and the CLI's JSON shapes, over synthetic stories (tests/stories_data.py) with the
real embedder and store."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

import stories_data as sd
from conftest_core import library_at
from rag.cli import main
from rag.ingest.canonical import make_article
from rag.stories.dates import mentions
from rag.stories.numbers import claims_in, comparable, consistent

FLOOD_IDS = {"flood-1", "flood-2", "flood-2-wire", "flood-3", "flood-4", "flood-3-relay"}
CUTOFF = date(2024, 3, 6)


def relayed_copy():
    """flood-3 republished by another outlet with its injured count edited: a near-copy that
    disagrees with its original, which must never be flagged."""
    row = dict((r[0], r) for r in sd.FLOOD)["flood-3"]
    text = row[4].replace("30 people were injured", "33 people were injured")
    return make_article(id="flood-3-relay", title=row[3], text=text, source="Metro Relay",
                        url="https://metrorelay.example/flood-3", published=row[2])


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    library = library_at(tmp_path_factory.mktemp("stories"))
    results = library.add_articles(sd.all_articles() + [relayed_copy()])
    assert all(r.status == "added" for r in results), results
    return library


def story_of(library, article_id):
    return next(s for s in library.stories() if article_id in s.articles)


def test_articles_of_one_story_join_it_and_other_stories_stay_apart(library):
    flood, chess = story_of(library, "flood-1"), story_of(library, "chess-1")
    assert set(flood.articles) == FLOOD_IDS
    assert set(chess.articles) == {"chess-1", "chess-2"}
    assert flood.id != chess.id
    assert flood.first == date(2024, 3, 4) and flood.last == date(2024, 3, 9)


def test_near_copies_join_their_original_and_count_as_one_source(library):
    flood = story_of(library, "flood-1")
    assert flood.copies == {"flood-2-wire": "flood-2", "flood-3-relay": "flood-3"}
    assert flood.sources == ["Coastal Times", "Northern Post", "Valtoria Herald"]
    assert flood.title in {a.title for a in sd.all_articles()}


def test_timeline_entries_are_verbatim_chronological_and_dated_by_their_text(library):
    timeline = library.timeline("Valtoria floods")
    assert timeline.story.id == story_of(library, "flood-1").id
    days = [e.date for e in timeline.entries]
    assert days == sorted(days) and len(days) == len(set(days)) >= 3
    for entry in timeline.entries:
        assert 1 <= len(entry.citations) <= 2
        for c in entry.citations:
            assert library.article(c.article_id).text[c.start:c.end] == c.quote
            assert c.quote in entry.text
    dam = next(e for e in timeline.entries if "Esk dam had been damaged" in e.text)
    assert (dam.date, dam.date_source) == (date(2024, 3, 5), "text")
    assert [e.date for e in library.timeline(timeline.story.id, since=date(2024, 3, 5)).entries] == [d for d in days if d >= date(2024, 3, 5)]


def test_changes_cite_only_articles_from_the_cutoff_on_except_earlier_values(library):
    changes = library.changes("Valtoria floods", CUTOFF)
    assert changes.bullets
    published = library.published_dates()
    for bullet in changes.bullets:
        for c in bullet.citations:
            assert library.article(c.citation.article_id).text[c.citation.start:c.citation.end] == c.citation.quote
            assert published[c.citation.article_id] >= CUTOFF or (c.before and bullet.kind == "updated")
    updated = [b for b in changes.bullets if b.kind == "updated"]
    assert any("12" in b.text and "19" in b.text and "→" in b.text for b in updated)
    assert all(b.citations[0].before for b in updated if "12" in b.text)
    assert not any("Heavy rain on Sunday" in b.text for b in changes.bullets)  # said before the cutoff


def test_a_later_larger_count_is_an_update_and_different_counts_from_independent_sources_are_flagged(library):
    flags = library.timeline("Valtoria floods").disagreements
    pairs = [{f.a.article_id, f.b.article_id} for f in flags]
    assert {"flood-3", "flood-4"} in pairs  # 30 vs 45 injured, the same day, two outlets
    assert not any("12" in f.note and "19" in f.note for f in flags)  # the toll rose: an update
    assert not any(f.a.article_id in sd_copies() or f.b.article_id in sd_copies() for f in flags)


def sd_copies():
    return {"flood-2-wire", "flood-3-relay"}


def test_numeric_claims_read_bounds_and_never_compare_killed_with_injured():
    (killed,) = claims_in("At least 12 people were killed in the floods.")
    (later,) = claims_in("The floods killed 19 people, officials said.")
    (injured,) = claims_in("Officials said 19 people were injured.")
    assert (killed.low, killed.high, killed.event) == (12, float("inf"), "killed")
    assert comparable(killed, later) and consistent(killed, later)
    assert not comparable(later, injured)
    (about,) = claims_in("About 1,000 people were evacuated.")
    (exact,) = claims_in("Officials said 1,040 people were evacuated.")
    assert consistent(about, exact)
    assert claims_in("A 45-year-old man was arrested on March 3, 2024.") == []


def test_dates_resolve_against_the_publication_date():
    text = "On Monday the river rose; by Jan. 5, 2024 it had fallen, and yesterday it rose again."
    found = {text[m.start:m.end]: m.day for m in mentions(text, date(2024, 1, 10))}
    assert found == {"Monday": date(2024, 1, 8), "Jan. 5, 2024": date(2024, 1, 5), "yesterday": date(2024, 1, 9)}


def test_stories_follow_updates_and_removals(tmp_path):
    library = library_at(tmp_path / "data")
    chess = [sd.article(r) for r in sd.CHESS]
    library.add_articles(chess + [sd.article(sd.FLOOD[0])])
    sid = story_of(library, "chess-1").id
    assert library.visit_story(sid) is None  # the first visit
    revised_text = sd.CHESS[1][4].replace("Piet Lorne is half a point behind after a quick win with the black pieces.",
                                          "Piet Lorne withdrew from the tournament on Friday with a wrist injury.")
    assert library.add_articles([sd.article(sd.CHESS[1], revised_text)])[0].status == "updated"
    assert story_of(library, "chess-2").id == sid
    assert story_of(library, "chess-2").new_articles == ["chess-2"]  # updated since the visit
    assert library.visit_story(sid) is not None
    bullets = library.changes(sid, date(2024, 3, 8)).bullets
    revised = [b for b in bullets if b.kind == "revised"]
    assert revised and any("withdrew" in c.citation.quote for c in revised[0].citations)
    assert any("quick win with the black pieces" in r for r in revised[0].removed)
    library.remove("chess-1")
    assert story_of(library, "chess-2").articles == ["chess-2"]
    library.remove("chess-2")
    assert all("chess-2" not in s.articles for s in library.stories()) and len(library.stories()) == 1


def test_cli_json_shapes(library):
    runner, data = CliRunner(), ["--data-dir", str(library.settings.data_dir)]
    listed = json.loads(runner.invoke(main, ["stories", *data, "--json"], catch_exceptions=False).output)
    story = next(s for s in listed["stories"] if "flood-1" in s["articles"])
    assert set(story) == {"id", "title", "articles", "sources", "first", "last"}
    since = json.loads(runner.invoke(main, ["stories", *data, "--since", "2024-03-09", "--json"]).output)
    assert [s["id"] for s in since["stories"]] == [story["id"]]
    timeline = json.loads(runner.invoke(main, ["timeline", story["id"], *data, "--json"], catch_exceptions=False).output)
    assert set(timeline) == {"story", "entries", "disagreements"}
    assert set(timeline["entries"][0]) == {"date", "date_source", "text", "citations"}
    assert set(timeline["disagreements"][0]) == {"kind", "a", "b", "note"}
    changes = json.loads(runner.invoke(main, ["changes", "Valtoria floods", *data, "--since", "2024-03-06", "--json"],
                                       catch_exceptions=False).output)
    assert changes["since"] == "2024-03-06" and {"text", "kind", "citations"} <= set(changes["bullets"][0])
    missing = runner.invoke(main, ["timeline", "zzqx wombat", *data])
    assert missing.exit_code != 0 and "no story matches" in missing.output


def test_timeline_and_changes_answers_number_every_line_and_cite_verbatim(library):
    from rag.stories.answers import changes_answer, timeline_answer

    for shaped in (timeline_answer(library.timeline("Valtoria floods")), changes_answer(library.changes("Valtoria floods", CUTOFF))):
        lines = shaped.answer.splitlines()[1:]
        assert lines and all(line.startswith("- ") and line.rstrip().endswith("]") for line in lines)
        assert [c.n for c in shaped.citations] == list(range(1, len(shaped.citations) + 1))
        assert all(f"[{c.n}]" in shaped.answer for c in shaped.citations)
        assert all(library.article(c.article_id).text[c.start:c.end] == c.quote for c in shaped.citations)


def test_questions_about_development_and_change_get_timeline_and_changes_answers(library):
    timeline = library.ask("How did the Valtoria floods develop?")
    assert timeline.query.intent == "timeline" and timeline.answer.startswith("How the story")
    changes = library.ask("What changed in the Valtoria floods since March 6, 2024?")
    assert changes.query.intent == "changes" and changes.answer.startswith("What changed in")
    assert "→" in changes.answer  # the updated death toll
    for answer in (timeline, changes):
        assert answer.citations and not answer.abstained
        assert all(library.article(c.article_id).text[c.start:c.end] == c.quote for c in answer.citations)
