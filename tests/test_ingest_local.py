"""PDFs with page numbers, watched folders, symlinks out of folders, and pathological HTML."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

from tests.support.library import ROOT, library_at
from tests.support.news_site import wait_until, web_settings, write_pdf
from rag.ingest.files import iter_inputs, load_file
from rag.ingest.watch import FolderWatch
from rag.verify.citations import is_verbatim

def test_pdf_text_pages_and_verbatim_citations_with_page_numbers(tmp_path, news_site):
    pdf = write_pdf(tmp_path / "water-report.pdf")
    [item] = load_file(pdf, 10_000_000)
    article, pages = item.article, item.origin.pages
    assert article.title == "Regional water board report" and article.published == date(2025, 10, 9)
    assert len(pages) == 2 and pages[0] == 0
    assert article.text[pages[1]:].startswith("The board will spend 12 million euros")
    # Printed lines are joined into paragraphs: a sentence is never cut by a line break.
    assert "82 percent of capacity after three weeks of steady autumn rain" in article.text

    library = library_at(tmp_path / "data", **web_settings())
    assert library.add([pdf])[0].status == "added"
    answer = library.ask("How much will the water board spend replacing pipes in Edgeley?")
    assert answer.citations and not answer.abstained
    for citation in answer.citations:
        assert is_verbatim(citation, library.article(citation.article_id))
    cited = [c for c in answer.citations if "12 million euros" in c.quote]
    assert cited and library.page_of(article.id, cited[0].start) == 2
    first = article.text.index("Nadia Voss")
    assert library.page_of(article.id, first) == 1

    # The same PDF served over HTTP is fetched as a PDF; its text is identical, so it is unchanged.
    news_site.set("/reports/water.pdf", pdf.read_bytes(), content_type="application/pdf")
    [fetched] = library.add([news_site.url("/reports/water.pdf")])
    assert fetched.status == "unchanged" and fetched.article_id == article.id


def test_unreadable_pdfs_get_a_reason(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF")
    write_pdf(tmp_path / "blank.pdf", pages=[[" "]])
    broken = load_file(tmp_path / "broken.pdf", 10_000_000)[0]
    blank = load_file(tmp_path / "blank.pdf", 10_000_000)[0]
    assert broken.article is None and broken.error.startswith("not a readable PDF")
    assert blank.error == "PDF has no extractable text (a scanned image?)"


def test_folder_walk_does_not_follow_symlinks_out_of_the_folder(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Private notes\n\nThese notes live outside the added folder.\n")
    folder = tmp_path / "articles"
    (folder / "inner").mkdir(parents=True)
    (folder / "inner" / "story.txt").write_text("Harbour news\n\nThe harbour reopened on Sunday after repairs.\n")
    (folder / "linked-secret.txt").symlink_to(outside / "secret.txt")
    (folder / "linked-dir").symlink_to(outside, target_is_directory=True)
    (folder / "alias.txt").symlink_to(folder / "inner" / "story.txt")  # stays inside: fine
    (folder / ".env.txt").write_text("hidden\n\nA hidden file is never read.\n")

    items = list(iter_inputs([folder]))
    files = sorted(p.relative_to(folder).as_posix() for p in items if isinstance(p, Path))
    refused = sorted((Path(i.label).name, i.error) for i in items if not isinstance(i, Path))
    assert files == ["alias.txt", "inner/story.txt"]
    assert refused == [
        ("linked-dir", "symlink to a folder outside the added folder (use --follow-symlinks to read it)"),
        ("linked-secret.txt", "symlink to a file outside the added folder (use --follow-symlinks to read it)"),
    ]
    followed = sorted(p.name for p in iter_inputs([folder], follow_symlinks=True) if isinstance(p, Path))
    assert followed == ["alias.txt", "linked-secret.txt", "secret.txt", "story.txt"]

    data = tmp_path / "data"
    library = library_at(data)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if not p.is_relative_to(data)}
    results = library.add([folder])
    assert sorted(r.status for r in results) == ["added", "failed", "failed", "unchanged"]
    # Adding writes only inside the data directory.
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if not p.is_relative_to(data)}
    assert after == before


# Deep nesting and 10 MB inside one tag, under the 20 MB cap: the cap bounds the work, and the
# subprocess timeout is only a safety net so a regression fails instead of hanging the suite.
_PATHOLOGICAL = r"""
import sys
from pathlib import Path
from rag.ingest.files import load_file
folder = Path(sys.argv[1])
(folder / "deep.html").write_text("<html><body>" + "<div>" * 200_000 + "Deep text." + "</div>" * 200_000 + "</body></html>")
(folder / "one-tag.html").write_text("<html><body><p>" + "word " * 2_000_000 + "</p></body></html>")
(folder / "attribute.html").write_text('<html><body><p title="' + "x" * 10_000_000 + '">Hi.</p></body></html>')
for name in ("deep.html", "one-tag.html", "attribute.html"):
    [item] = load_file(folder / name, 20_000_000)
    print(name, item.error or "ok")
"""


def test_malformed_html_finishes_with_a_reason(tmp_path):
    run = subprocess.run([sys.executable, "-c", _PATHOLOGICAL, str(tmp_path)], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split("\n")[:3] == ["deep.html no article text found in HTML",
                                          "one-tag.html no article text found in HTML",
                                          "attribute.html no article text found in HTML"]


def test_watched_folder_follows_its_files(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "harbour.txt").write_text("Harbour reopens\n\nThe harbour reopened on Sunday after storm repairs.\n")
    library = library_at(tmp_path / "data")
    watcher = FolderWatch(library, folder, sync_deletes=True)
    stop = threading.Event()
    batches: list = []
    errors: list = []

    def run():
        try:
            for changes in watcher.follow(stop, force_polling=True, debounce_ms=200, rescan_s=10):
                batches.append(changes)
        except Exception as exc:  # surfaced by the assertions below
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: batches, "the initial sync")
        assert [(c.status, c.article_id) for c in batches[0]] == [("added", "harbour")]

        (folder / "market.md").write_text("# Market moves indoors\n\nThe Saturday market moves into the old depot in winter.\n")
        (folder / ".draft.txt").write_text("Draft\n\nA hidden draft is never added.\n")
        wait_until(lambda: "market" in {a.id for a in library.articles()}, "the new file to be added")

        (folder / "harbour.txt").write_text("Harbour reopens\n\nThe harbour reopened on Sunday; ferries resume Monday.\n")
        wait_until(lambda: "ferries resume Monday" in library.article("harbour").text, "the changed file to be updated")

        (folder / "market.md").unlink()

        def reported():
            return [(c.status, Path(c.path).name) for batch in list(batches) for c in batch]

        wait_until(lambda: ("removed", "market.md") in reported(), "the deleted file to be removed")
        assert {a.id for a in library.articles()} == {"harbour"}
        assert ("updated", "harbour.txt") in reported()
        assert ".draft.txt" not in {name for _, name in reported()}
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors and not thread.is_alive()


def test_deleted_files_stay_without_sync_deletes(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    story = folder / "harbour.txt"
    story.write_text("Harbour reopens\n\nThe harbour reopened on Sunday after storm repairs.\n")
    library = library_at(tmp_path / "data")
    watcher = FolderWatch(library, folder)
    assert [c.status for c in watcher.sync()] == ["added"]
    story.unlink()
    assert watcher.apply({str(story)}) == []
    assert [a.id for a in library.articles()] == ["harbour"]
    # With --sync-deletes the next sync removes it.
    assert [c.status for c in FolderWatch(library, folder, sync_deletes=True).sync()] == ["removed"]
    assert library.articles() == []
