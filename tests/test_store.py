"""Registry, Chroma and BM25 stay in agreement through add, update, remove, bad input and crashes."""

import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing

import pytest

from tests.support.library import SEED_ID, library_at, set_state_behind_the_store, store_of
from rag.errors import ArticleNotFound, StoreError


def write(path, **record):
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def assert_consistent(library, article_id, present=True):
    """Registry, Chroma and BM25 agree on the article's chunks, as a fresh Store reads them from disk."""
    store = store_of(library)
    reg = {c.id for c in store.chunks_of(article_id)}
    vec = store.vectors.chunk_ids_by_article().get(article_id, set())
    bm = {c for c in store.bm25.chunk_ids if c.startswith(article_id + "@")}
    assert reg == vec == bm
    assert bool(reg) == present
    assert store.is_ready(article_id) == present
    assert (article_id in {s.id for s in library.articles() if s.state == "ready"}) == present


def test_add_is_ready_in_all_three_indexes(seed_only_library):
    assert_consistent(seed_only_library, SEED_ID)
    [summary] = seed_only_library.articles()
    assert summary.id == SEED_ID and summary.state == "ready" and summary.chunks >= 2


def test_same_text_again_is_unchanged_and_new_text_replaces_old_chunks(tmp_path):
    library = library_at(tmp_path / "data")
    path = write(tmp_path / "story.json", id="story", title="Story", text="The mayor opened the bridge on Monday.")
    assert library.add([path])[0].status == "added"
    old_chunks = {c.id for c in library.segments("story")[1]}
    again = library.add([path])[0]
    assert again.status == "unchanged"
    write(path, id="story", title="Story", text="The mayor closed the bridge on Tuesday for repairs.")
    updated = library.add([path])[0]
    assert updated.status == "updated"
    new_chunks = {c.id for c in library.segments("story")[1]}
    assert new_chunks and not (new_chunks & old_chunks)
    assert_consistent(library, "story")
    assert "closed the bridge" in library.article("story").text
    assert "closed" in library.ask("What did the mayor do to the bridge?").answer


def test_same_url_with_new_text_is_an_update_and_same_text_under_another_name_is_unchanged(tmp_path):
    library = library_at(tmp_path / "data")
    a = write(tmp_path / "a.json", title="Storm", url="https://example.org/storm", text="A storm hit the coast on Friday.")
    assert library.add([a])[0].status == "added"
    b = write(tmp_path / "b.json", title="Storm (corrected)", url="https://example.org/storm", text="A storm hit the north coast on Friday.")
    result = library.add([b])[0]
    assert (result.status, result.article_id) == ("updated", "a")
    c = write(tmp_path / "c.json", title="Copy", text="A storm hit the north coast on Friday.")
    copy = library.add([c])[0]
    assert copy.status == "unchanged" and "same text as article a" in copy.reason
    assert [s.id for s in library.articles()] == ["a"]


def test_remove_deletes_everywhere_and_unknown_ids_are_reported(seed_only_library):
    removed = seed_only_library.remove(SEED_ID)
    assert removed.id == SEED_ID
    assert_consistent(seed_only_library, SEED_ID, present=False)
    assert seed_only_library.articles() == []
    assert seed_only_library.ask("Who is the Kremlin spokesperson?").abstained
    with pytest.raises(ArticleNotFound, match="no article with id 'nope'"):
        seed_only_library.remove("nope")


def test_bad_files_fail_alone_and_lose_nothing(seed_only_library, tmp_path):
    good = write(tmp_path / "good.json", id="good", title="Good", text="The lighthouse was repainted red in May.")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "bin.txt").write_bytes(b"\x00\xff")
    results = seed_only_library.add([good, tmp_path / "empty.txt", tmp_path / "bin.txt", tmp_path / "missing.md"])
    assert [r.status for r in results] == ["added", "failed", "failed", "failed"]
    assert all(r.reason for r in results[1:])
    assert {s.id for s in seed_only_library.articles()} == {SEED_ID, "good"}
    assert_consistent(seed_only_library, SEED_ID)
    assert_consistent(seed_only_library, "good")


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MB tmpfs (mounting needs root), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_write_failing_mid_add_is_invisible_and_repaired_by_the_next_write(small_disk):
    """A real fault in a long-lived process (the UI's): the disk fills while an article is written.
    One clear error; nothing of that article is answerable; the rest still is; after space is
    freed, the repair (which the next write runs) leaves the store consistent."""
    library = library_at(small_disk / "data")
    assert library.add_text(title="Lighthouse", text="The lighthouse was repainted red in May.").status == "added"
    filler = small_disk / "filler"
    with filler.open("wb") as out:  # no space left
        out.write(b"\0" * shutil.disk_usage(small_disk).free)
    text = " ".join(f"Harbour seal survey note {i}: keepers counted {i % 97} seals near buoy {i}." for i in range(200))
    with pytest.raises(StoreError, match="is full"):
        library.add_text(title="Seal survey", text=text)
    assert "seal-survey" not in {s.id for s in library.articles() if s.state == "ready"}
    answer = library.ask("How many seals did the keepers count near the buoy?")
    assert all(c.article_id == "lighthouse" for c in answer.citations), answer.citations
    assert all(r.article_id == "lighthouse" for r in library.evidence("seal survey keepers buoy").retrieved)
    assert library.ask("What colour was the lighthouse repainted?").citations[0].article_id == "lighthouse"

    filler.unlink()
    reopened = library_at(small_disk / "data")
    reopened.repair()
    assert "pending" not in {s.state for s in reopened.articles()}
    assert reopened.doctor(repair=False).ok
    assert_consistent(reopened, "lighthouse")
    present = "seal-survey" in {s.id for s in reopened.articles()}
    assert_consistent(reopened, "seal-survey", present=present)  # finished by the repair, or never stored


def registry_state(library, article_id):
    with closing(sqlite3.connect(library.settings.registry_path)) as db:
        return db.execute("SELECT state FROM articles WHERE id=?", (article_id,)).fetchone()[0]


def test_an_interrupted_remove_is_invisible_and_finished_by_the_next_write(seed_only_library):
    set_state_behind_the_store(seed_only_library, SEED_ID, "deleting")
    reopened = library_at(seed_only_library.settings.data_dir)
    assert reopened.articles() == []
    assert not reopened.ask("Who is the Kremlin spokesperson?").citations
    assert reopened.add_text(title="Lighthouse", text="The lighthouse was repainted red in May.").status == "added"
    assert_consistent(reopened, SEED_ID, present=False)


@pytest.mark.parametrize("repair_by", ["write", "doctor"])
def test_opening_a_library_after_a_crash_writes_nothing_and_the_next_write_or_doctor_repairs(seed_only_library, repair_by):
    """Opening only reads (`rag list` on a read-only data dir, a reader next to a writer): the
    article a crash left pending stays invisible and untouched until a write or `rag doctor`."""
    set_state_behind_the_store(seed_only_library, SEED_ID, "pending")
    registry = seed_only_library.settings.registry_path
    with closing(sqlite3.connect(registry)) as watcher:
        version = watcher.execute("PRAGMA data_version").fetchone()[0]  # changes when another connection commits
        files = {p.name: p.read_bytes() for p in registry.parent.glob(registry.name + "*") if not p.name.endswith("-shm")}
        reopened = library_at(seed_only_library.settings.data_dir)
        assert {s.id: s.state for s in reopened.articles()} == {SEED_ID: "pending"}
        assert not reopened.ask("Who is the Kremlin spokesperson?").citations  # never half-written
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == version
        assert {p.name: p.read_bytes() for p in registry.parent.glob(registry.name + "*")
                if not p.name.endswith("-shm")} == files
        assert registry_state(seed_only_library, SEED_ID) == "pending"

        if repair_by == "write":
            assert reopened.add_text(title="Lighthouse", text="The lighthouse was repainted red in May.").status == "added"
        else:
            report = reopened.doctor(sample=0)
            assert report.ok and "pending" in {p.kind for p in report.problems if p.repaired}, report
        assert watcher.execute("PRAGMA data_version").fetchone()[0] != version
    assert registry_state(seed_only_library, SEED_ID) == "ready"
    assert_consistent(reopened, SEED_ID)
    assert reopened.ask("Who is the Kremlin spokesperson?").citations[0].article_id == SEED_ID


def test_a_lost_bm25_index_is_rebuilt_from_the_registry(seed_only_library):
    shutil.rmtree(seed_only_library.settings.bm25_path)
    reopened = library_at(seed_only_library.settings.data_dir)
    reopened.repair()  # what the first write does
    assert_consistent(reopened, SEED_ID)
    assert reopened.ask("Who is the Kremlin spokesperson?", retrieval="bm25").citations
