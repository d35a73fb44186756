"""A reader process sees what another process writes: a `Library` in this process (as `rag ui`
holds one) keeps answering while real `rag add` / `rag remove` subprocesses change the same data
directory. New articles are retrieved (BM25 and dense) and cited, and listed by the UI's handlers;
removed ones disappear; and when the reader then writes itself, the other process's chunks stay
in the indexes on disk.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.library import ROOT, SEED_ID, library_at
from rag.verify.citations import is_verbatim
from ui.handlers import Handlers

TITLE = "Harbour seal count at Port Wendel reaches a record"
TEXT = ("The lighthouse keeper at Port Wendel, Orla Venn, counted 412 grey seals on the harbour rocks on Sunday.\n\n"
        "It is the largest count since the survey began in 1987, Venn said.\n")
QUESTION = "How many grey seals did Orla Venn count on the harbour rocks?"


def rag(data_dir, *args: str) -> subprocess.CompletedProcess:
    """`rag` in a separate process on the same data directory (offline answerer)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
    env.update(RAG_DATA_DIR=str(data_dir), RAG_LLM="none", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "rag", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result


def retrieved_ids(library, mode: str) -> set[str]:
    return {r.article_id for r in library.evidence(QUESTION, retrieval=mode).retrieved}


def test_articles_added_and_removed_by_another_process_are_seen_without_a_restart(seed_only_library, tmp_path):
    reader = seed_only_library
    data_dir = reader.settings.data_dir
    handlers = Handlers(reader)
    assert not any(c.quote.startswith("The lighthouse keeper") for c in reader.ask(QUESTION).citations)

    source = tmp_path / "seals.md"
    source.write_text(f"# {TITLE}\n\n{TEXT}", encoding="utf-8")
    rag(data_dir, "add", str(source))
    new_id = next(s.id for s in reader.articles() if s.title == TITLE)

    assert new_id in retrieved_ids(reader, "bm25") and new_id in retrieved_ids(reader, "dense")
    answer = reader.ask(QUESTION)
    cited = [c for c in answer.citations if c.article_id == new_id]
    assert cited and "412" in answer.answer, answer.answer
    assert all(is_verbatim(c, reader.article(c.article_id)) for c in answer.citations)
    table, message = handlers.library_table("seal count")
    assert [row[-1] for row in table["value"]] == [new_id] and message.startswith("1 of 2 articles"), message

    # The reader writes next: the other process's article must stay in Chroma and BM25 on disk.
    assert reader.add_text(title="Ferry timetable", text="The ferry leaves at noon on Sundays.").status == "added"
    fresh = library_at(data_dir)
    assert new_id in retrieved_ids(fresh, "bm25") and new_id in retrieved_ids(fresh, "dense")
    assert fresh.doctor(repair=False).ok

    rag(data_dir, "remove", new_id)
    assert new_id not in retrieved_ids(reader, "bm25") | retrieved_ids(reader, "dense")
    assert new_id not in {c.article_id for c in reader.ask(QUESTION).citations}
    assert [s.id for s in reader.articles()].count(SEED_ID) == 1 and len(reader.articles()) == 2
    _, message = handlers.library_table("seal count")
    assert message.startswith("No titles match"), message
