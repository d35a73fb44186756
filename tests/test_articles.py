"""Loading every supported format into canonical text, and a specific reason for every bad input."""

import json
from datetime import date
from pathlib import Path

from tests.support.library import CORPUS, SEED_ID
from rag.ingest.canonical import normalize_text
from rag.ingest.files import iter_input_files, load_file

MB = 1_000_000


def load_one(path: Path):
    loaded = load_file(path, 20 * MB)
    assert len(loaded) == 1, loaded
    return loaded[0]


def test_normalisation_is_nfc_with_single_spaces_and_paragraphs():
    raw = "  Cafe\u0301\u00a0 au\tlait\r\n\r\n\r\n\u200bNext   line  \n"
    assert normalize_text(raw) == "Café au lait\n\nNext line"
    assert normalize_text(normalize_text(raw)) == normalize_text(raw)


def test_seed_html_gives_body_and_metadata_without_boilerplate():
    item = load_one(CORPUS / f"{SEED_ID}.html")
    article = item.article
    assert item.error is None
    assert article.id == SEED_ID
    assert article.title == "Kremlin says U.S. has not discussed details of Ukraine peace plan with Moscow"
    assert article.source == "The Washington Times"
    assert article.published == date(2025, 11, 21)
    assert article.url.startswith("https://www.washingtontimes.com/news/2025/nov/21/")
    assert article.text.startswith("The Kremlin insisted Friday")
    for boilerplate in ("SEE ALSO", "ADVERTISEMENT", "Subscribe", "Privacy", "Copyright"):
        assert boilerplate not in article.text
    assert "Kremlin spokesperson Dmitry Peskov" in article.text
    assert len(article.sha256) == 64


def test_markdown_front_matter_sets_metadata(tmp_path):
    path = tmp_path / "story.md"
    path.write_text(
        "---\ntitle: Rain in Spain\nsource: Example News\nurl: https://example.org/rain\npublished: 2025-01-02\nid: rain-2025\n---\n"
        "# Heading ignored as title\n\nIt **rained** in [Madrid](https://example.org/madrid) on Monday.\n",
        encoding="utf-8",
    )
    article = load_one(path).article
    assert (article.id, article.title, article.source, article.url) == ("rain-2025", "Rain in Spain", "Example News", "https://example.org/rain")
    assert article.published == date(2025, 1, 2)
    assert "It rained in Madrid on Monday." in article.text


def test_txt_takes_its_first_line_as_title(tmp_path):
    path = tmp_path / "budget-vote.txt"
    path.write_text("Council passes budget\n\nThe council passed the budget on Tuesday.\n", encoding="utf-8")
    article = load_one(path).article
    assert article.title == "Council passes budget"
    assert article.text == "The council passed the budget on Tuesday."
    assert article.id == "budget-vote"


def test_txt_header_lines_carry_metadata(tmp_path):
    path = tmp_path / "harbour.txt"
    path.write_text("Harbour reopens\nSource: Port Gazette\nPublished: 2025-06-01\nURL: https://example.org/h\n\nThe harbour reopened.\n")
    article = load_one(path).article
    assert (article.title, article.source, article.url, article.published) == ("Harbour reopens", "Port Gazette", "https://example.org/h", date(2025, 6, 1))
    assert article.text == "The harbour reopened."


def test_json_and_jsonl_records(tmp_path):
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"id": "x1", "title": "T", "text": "Body one.", "published": "2024-03-01T10:00:00Z"}))
    article = load_one(one).article
    assert (article.id, article.published) == ("x1", date(2024, 3, 1))
    many = tmp_path / "many.jsonl"
    many.write_text(
        json.dumps({"title": "A", "text": "Alpha text."}) + "\n{not json\n" + json.dumps({"title": "B", "text": "Beta text."}) + "\n"
    )
    loaded = load_file(many, 20 * MB)
    assert [x.article.title if x.article else None for x in loaded] == ["A", None, "B"]
    assert loaded[1].label.endswith("many.jsonl:2") and "malformed JSON line" in loaded[1].error


def test_each_bad_input_gets_a_specific_reason(tmp_path):
    cases = {
        "empty.txt": (b"", "file is empty"),
        "binary.txt": (b"\x00\x01\x02binary", "binary file"),
        "latin1.txt": ("Caf\xe9 society".encode("latin-1"), "not valid UTF-8 (byte 0xe9 at offset 3)"),
        "nothing.html": (b"<html><body><nav>Home</nav></body></html>", "no article text found in HTML"),
        "doc.pdf": (b"%PDF-1.4", "not a readable PDF"),
        "doc.docx": (b"PK\x03\x04", "unsupported file type '.docx'"),
        "bad.json": (b"{\"title\": ", "invalid JSON at line 1"),
        "notext.json": (json.dumps({"title": "only a title"}).encode(), "no text"),
        "baddate.json": (json.dumps({"title": "t", "text": "x.", "published": "someday"}).encode(), "published date 'someday' is not a date"),
    }
    for name, (content, reason) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        item = load_one(path)
        assert item.article is None and reason in item.error, (name, item.error)
    assert "no such file" in load_one(tmp_path / "missing.txt").error


def test_a_50_mb_file_is_refused_by_size_before_reading(tmp_path):
    big = tmp_path / "huge.txt"
    with big.open("wb") as fh:
        fh.truncate(50 * MB)
    item = load_one(big)
    assert item.error == "file is 50.0 MB, over the 20 MB limit (RAG_MAX_FILE_MB)"


def test_folders_expand_to_supported_files_without_readmes_or_hidden_files(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("a.txt", "sub/b.md", "README.md", ".hidden/c.txt", "notes.pdf", "notes.docx", "Thumbs.db",
                 "draft.txt~", "~$report.txt", ".DS_Store"):
        (tmp_path / name).write_text("x")
    found = sorted(p.relative_to(tmp_path).as_posix() for p in iter_input_files([tmp_path]))
    assert found == ["a.txt", "notes.pdf", "sub/b.md"]
