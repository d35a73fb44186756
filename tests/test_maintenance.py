"""`rag doctor` finds and repairs inconsistencies and names what it cannot repair; `rag export` /
`rag import` move a corpus losslessly (same ids, texts, metadata and answers)."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3

import pytest
from click.testing import CliRunner

from tests.support.library import SEED_ID, library_at, set_state_behind_the_store, store_of
from rag.cli import main
from rag.errors import InputError

QUESTIONS = ["Who is the Kremlin spokesperson?", "How many square miles have Russian forces captured?",
             "What did Rubio say in Geneva?", "What did Umerov deny?", "Who met in Abu Dhabi?"]


def doctor(data_dir, *args):
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "doctor", *args], env={"RAG_LLM": "none"})
    return result.exit_code, result.output


def test_doctor_on_a_healthy_store_says_consistent(seed_only_library):
    code, out = doctor(seed_only_library.settings.data_dir, "--sample", "1")
    assert code == 0, out
    assert "consistent" in out and "PROBLEM" not in out and "repaired" not in out
    report = seed_only_library.doctor(sample=1)
    assert report.ok and report.citations_checked >= 1 and report.ready == 1


def test_doctor_repairs_missing_and_orphan_vectors_pending_rows_and_bm25(seed_only_library, tmp_path):
    library = seed_only_library
    assert library.add_text(title="Bridge", text="The mayor opened the bridge on Monday. It cost 4 million.",
                            article_id="bridge").status == "added"
    store = store_of(library)  # damage is done to the store itself
    seed_chunks = [c.id for c in store.chunks_of(SEED_ID)]
    store.vectors.delete_ids(seed_chunks[:1])  # a ready article lost a vector
    ghost = library.article("bridge").model_copy(update={"id": "ghost"})
    ghost_chunks = store.chunks_of("bridge")
    import numpy as np
    store.vectors.add(ghost, [c.__class__(**{**c.__dict__, "id": "ghost@0#0", "article_id": "ghost"}) for c in ghost_chunks[:1]],
                      np.ones((1, len(library.embed(["x"])[0])), np.float32))  # chunks of an article the registry does not hold
    set_state_behind_the_store(library, "bridge", "pending")  # an interrupted write
    shutil.rmtree(library.settings.bm25_path)
    code, out = doctor(library.settings.data_dir, "--sample", "2")
    assert code == 0, out
    for kind in ("chroma-missing", "chroma-orphan", "pending"):
        assert f"repaired {kind}" in out, out
    code, out = doctor(library.settings.data_dir, "--sample", "2")
    assert code == 0 and "repaired" not in out and "consistent" in out, out
    reopened = library_at(library.settings.data_dir)
    assert reopened.doctor(sample=0).ok
    assert {c.article_id for c in reopened.ask("Who is the Kremlin spokesperson?").citations} == {SEED_ID}


def test_doctor_names_what_it_cannot_repair_and_exits_non_zero(seed_only_library):
    db = sqlite3.connect(seed_only_library.settings.registry_path)
    db.execute("UPDATE articles SET text = text || ' (edited)' WHERE id=?", (SEED_ID,))
    db.commit()
    db.close()
    code, out = doctor(seed_only_library.settings.data_dir, "--sample", "0")
    assert code == 1
    assert f"PROBLEM  text: article {SEED_ID}: text does not match its sha256" in out
    assert "1 problem(s) remain" in out


def test_doctor_without_repair_only_reports(seed_only_library):
    set_state_behind_the_store(seed_only_library, SEED_ID, "pending")
    report = seed_only_library.doctor(repair=False, sample=0)
    # A pending article is not answerable, so BM25 (built from ready chunks) disagrees too.
    assert not report.ok and sorted(p.kind for p in report.remaining) == ["bm25", "pending"]
    assert {s.id: s.state for s in seed_only_library.articles()} == {SEED_ID: "pending"}
    assert seed_only_library.doctor(sample=0).ok  # and with repair it is fixed
    assert {s.id: s.state for s in seed_only_library.articles()} == {SEED_ID: "ready"}


@pytest.mark.parametrize("reembed", [False, True])
def test_export_import_is_lossless(corpus_library, tmp_path, reembed):
    path = tmp_path / "corpus.ng.gz"
    assert corpus_library.export(path) == len(corpus_library.articles())
    target = library_at(tmp_path / "copy")
    result = target.import_corpus(path, reembed=reembed)
    assert (result.added, result.updated, result.unchanged) == (len(corpus_library.articles()), 0, 0)
    assert result.reused_vectors is (not reembed)
    fields = ("id", "title", "source", "url", "published", "sha256", "chars", "chunks", "state")
    # (added_at is when each library got the article, so the listing order of same-day articles may differ)
    assert sorted((s.model_dump(include=set(fields)) for s in target.articles()), key=lambda d: d["id"]) == \
        sorted((s.model_dump(include=set(fields)) for s in corpus_library.articles()), key=lambda d: d["id"])
    for s in corpus_library.articles():
        assert target.article(s.id) == corpus_library.article(s.id)
    for question in QUESTIONS:
        a, b = corpus_library.ask(question), target.ask(question)
        assert b.answer == a.answer
        assert [c.model_dump() for c in b.citations] == [c.model_dump() for c in a.citations]
        assert [(r.chunk_id, r.score) for r in b.retrieved] == [(r.chunk_id, r.score) for r in a.retrieved]
    assert target.doctor(sample=3).ok
    again = target.import_corpus(path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(corpus_library.articles()))


def test_import_refuses_damaged_files_and_changes_nothing(corpus_library, tmp_path, seed_only_library):
    path = tmp_path / "corpus.ng.gz"
    corpus_library.export(path)
    lines = gzip.open(path, "rt", encoding="utf-8").read().splitlines()
    truncated = tmp_path / "truncated.gz"
    with gzip.open(truncated, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines[:-1]) + "\n")
    altered = tmp_path / "altered.gz"
    record = json.loads(lines[1])
    record["text"] += " (edited)"
    with gzip.open(altered, "wt", encoding="utf-8") as f:
        f.write("\n".join([lines[0], json.dumps(record), *lines[2:]]) + "\n")
    garbage = tmp_path / "garbage.gz"
    garbage.write_bytes(b"not gzip at all")
    before = seed_only_library.articles()
    for bad, message in ((truncated, "is truncated"), (altered, "does not match its sha256"),
                         (garbage, "is not a `rag export` file"), (tmp_path / "missing.gz", "no such file")):
        with pytest.raises(InputError, match=message):
            seed_only_library.import_corpus(bad)
    assert seed_only_library.articles() == before
    result = CliRunner().invoke(main, ["--data-dir", str(seed_only_library.settings.data_dir), "import", str(garbage)])
    assert result.exit_code == 1 and "error:" in result.output
