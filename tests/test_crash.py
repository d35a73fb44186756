"""Crash safety with real processes: SIGKILL during `rag add`, and a full disk.

The driver is bench/stress_crash.py (`make stress` runs it with 200 articles and 20 kills); here a
short run of the same code. Its inspector reads the registry with sqlite3, Chroma with a fresh
client and BM25's id file, independently of rag.store.
"""

import os
import subprocess

import pytest

from bench import stress_crash


def test_sigkill_during_add_leaves_a_consistent_store_and_the_rerun_finishes(tmp_path):
    stats = stress_crash.run(articles=12, kills=3, seed=7, workdir=tmp_path, mutate_each=2, log=lambda _: None)
    assert stats["violations"] == []
    assert stats["killed"] >= 1, stats  # a kill landed while `rag add` was running (a fast machine may finish one first)
    assert stats["final_counts"] == stats["expected_counts"]
    assert stats["articles_ready"] == 12 and stats["data_lost"] == 0


def test_the_inspector_sees_a_broken_store(tmp_path):
    """The oracle above can fail: delete one ready article's vectors behind the registry's back."""
    folder, data_dir = tmp_path / "articles", tmp_path / "data"
    stress_crash.write_articles(folder, 2, seed=3)
    assert stress_crash.rag(["add", str(folder)], data_dir).returncode == 0
    assert stress_crash.violations(stress_crash.inspect(data_dir), after_restart=True) == []
    code = ("import chromadb, sys; from chromadb.config import Settings; "
            "c = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False)); "
            "col = c.get_collection(c.list_collections()[0].name); "
            "col.delete(ids=col.get(where={'article_id': 'story-0001'})['ids'][:1])")
    subprocess.run([stress_crash.sys.executable, "-c", code, str(data_dir / "chroma")], check=True,
                   env=stress_crash.rag_env(data_dir))
    bad = stress_crash.violations(stress_crash.inspect(data_dir), after_restart=True)
    assert any("ready article story-0001" in b for b in bad), bad


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a size-limited tmpfs needs root")
def test_a_full_disk_gives_one_clear_error_and_loses_nothing(tmp_path):
    try:
        result = stress_crash.disk_full(tmp_path, articles=12, size_kb=1024, repeat=1, log=lambda _: None)
    except stress_crash.CannotMount as exc:
        pytest.skip(str(exc))
    assert result["first_rc"] == 1
    assert len(result["first_error"]) == 1 and "full" in result["first_error"][0], result
    assert result["violations"] == []
    assert result["retry_rc"] == 0 and result["current"] == result["articles"]
