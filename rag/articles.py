"""Loading articles from files into canonical text with metadata.

Canonical text is produced once here (Unicode NFC, normalised whitespace); every offset the
product stores or shows indexes that text, so nothing downstream may transform it again.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import yaml

from rag.models import Article

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".json", ".jsonl")
# Files in a folder that describe the folder rather than being articles.
_SKIPPED_IN_FOLDERS = re.compile(r"^(readme|license|licence|changelog)(\.|$)", re.I)
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_MIN_HTML_WORDS = 8
_SEE_ALSO = re.compile(r"^[ \t]*(SEE ALSO|READ MORE|RELATED|ADVERTISEMENT)\b.*(\n|$)", re.I | re.M)


@dataclass
class Loaded:
    """One article found in an input, or the reason it could not be read."""

    label: str
    article: Article | None = None
    error: str | None = None


def normalize_text(raw: str) -> str:
    """Canonical form: NFC, no zero-width characters, single spaces, at most one blank line."""
    # Zero-width characters go before NFC: one between a letter and its combining mark would
    # otherwise leave the pair uncomposed (not NFC, and a second pass would change the text).
    text = unicodedata.normalize("NFC", raw.translate(_ZERO_WIDTH))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def slugify(value: str, max_len: int = 60) -> str:
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    return slug[:max_len].rstrip("-") or "article"


def parse_date(value: object) -> date | None:
    """Accept YYYY-MM-DD, ISO datetimes and common written dates; None for empty values."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        from dateutil import parser as date_parser

        return date_parser.parse(text).date()
    except (ValueError, OverflowError, ImportError) as exc:
        raise ValueError(f"published date {text!r} is not a date") from exc


def make_article(
    *, id: str, title: str, text: str, source: str = "", url: str = "", published: object = None
) -> Article:
    canonical = normalize_text(text)
    if not canonical:
        raise ValueError("no text")
    return Article(
        id=slugify(id, 120) if id else "article-" + content_hash(canonical)[:12],
        title=normalize_text(title) or canonical.split("\n", 1)[0][:120],
        text=canonical,
        source=(source or "").strip(),
        url=(url or "").strip(),
        published=parse_date(published),
        sha256=content_hash(canonical),
    )


def iter_input_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Expand folders (recursively, supported types only, hidden files and READMEs skipped)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if (
                    child.is_file()
                    and child.suffix.lower() in SUPPORTED_SUFFIXES
                    and not _SKIPPED_IN_FOLDERS.match(child.name)
                ):
                    yield child
        else:
            yield path


def load_file(path: Path, max_bytes: int) -> list[Loaded]:
    """Read one file into articles; every problem becomes a Loaded with a specific reason."""
    label = str(path)
    try:
        raw = _read_text(path, max_bytes)
        loader = _LOADERS.get(path.suffix.lower())
        if loader is None:
            supported = " ".join(SUPPORTED_SUFFIXES)
            raise ValueError(f"unsupported file type {path.suffix or '(none)'!r} (supported: {supported})")
        return loader(path, raw)
    except ValueError as exc:
        return [Loaded(label, error=str(exc))]


def _read_text(path: Path, max_bytes: int) -> str:
    if not path.exists():
        raise ValueError("no such file or directory")
    if not path.is_file():
        raise ValueError("not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise ValueError("file is empty")
    if size > max_bytes:
        raise ValueError(
            f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit (RAG_MAX_FILE_MB)"
        )
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ValueError("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from exc


_TXT_HEADER = re.compile(r"^(source|url|published|date|id):\s*(.+)$", re.I)


def _load_txt(path: Path, raw: str) -> list[Loaded]:
    """First line is the title unless it reads like a sentence; optional `Source:`, `URL:`,
    `Published:` and `Id:` lines may follow it before the body."""
    text = normalize_text(raw)
    if not text:
        raise ValueError("file has no text")
    first, _, rest = text.partition("\n")
    looks_like_title = len(first) <= 200 and not first.rstrip().endswith((".", "?", "!", '"', "”")) and rest
    if not looks_like_title:
        return [Loaded(str(path), make_article(id=path.stem, title=path.stem.replace("-", " ").replace("_", " "), text=text))]
    record: dict = {"title": first}
    lines = rest.split("\n")
    while lines and (match := _TXT_HEADER.match(lines[0])):
        key = match.group(1).lower()
        record["published" if key == "date" else key] = match.group(2).strip()
        lines.pop(0)
    record["text"] = "\n".join(lines)
    return [Loaded(str(path), _article_from_record(record, default_id=path.stem))]


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def _load_md(path: Path, raw: str) -> list[Loaded]:
    meta: dict = {}
    match = _FRONT_MATTER.match(raw.lstrip("\ufeff"))
    if match:
        try:
            meta = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"front matter is not valid YAML ({str(exc).splitlines()[0]})") from exc
        if not isinstance(meta, dict):
            raise ValueError("front matter must be key: value pairs")
        raw = raw[match.end():]
    lines = []
    for line in raw.splitlines():
        heading = re.match(r"^#{1,6}\s+(.*)$", line)
        if heading and "title" not in meta:
            meta["title"] = heading.group(1)
            continue
        line = heading.group(1) if heading else line
        line = _MD_LINK.sub(r"\1", line)
        line = re.sub(r"(\*\*|__)(.+?)\1", r"\2", line)
        lines.append(line)
    return [Loaded(str(path), _article_from_record(meta | {"text": "\n".join(lines)}, default_id=path.stem))]


def _load_html(path: Path, raw: str) -> list[Loaded]:
    import trafilatura

    doc = trafilatura.bare_extraction(
        raw, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
    text = getattr(doc, "text", None) if doc is not None else None
    # Fewer words than a headline's worth is navigation or a stub page, not an article.
    if not text or len(normalize_text(text).split()) < _MIN_HTML_WORDS:
        raise ValueError("no article text found in HTML")
    title = getattr(doc, "title", None) or path.stem
    text = _SEE_ALSO.sub("", text)
    first, _, rest = text.lstrip().partition("\n")
    if rest and normalize_text(first) == normalize_text(title):
        text = rest  # the headline is metadata, not body text
    record = {
        "title": title,
        "text": text,
        "source": getattr(doc, "sitename", None) or "",
        "url": getattr(doc, "url", None) or "",
        "published": getattr(doc, "date", None),
    }
    return [Loaded(str(path), _article_from_record(record, default_id=path.stem))]


def _load_json(path: Path, raw: str) -> list[Loaded]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    records = data if isinstance(data, list) else [data]
    return [_loaded_record(f"{path}[{i}]", rec, path.stem, len(records)) for i, rec in enumerate(records)]


def _load_jsonl(path: Path, raw: str) -> list[Loaded]:
    out = []
    lines = [(n, line) for n, line in enumerate(raw.splitlines(), 1) if line.strip()]
    for n, line in lines:
        label = f"{path}:{n}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            out.append(Loaded(label, error=f"malformed JSON line ({exc.msg} at column {exc.colno})"))
            continue
        out.append(_loaded_record(label, record, path.stem, len(lines)))
    if not out:
        raise ValueError("file has no JSON lines")
    return out


def _loaded_record(label: str, record: object, stem: str, count: int) -> Loaded:
    try:
        if not isinstance(record, dict):
            raise ValueError("expected a JSON object with title and text")
        return Loaded(label, _article_from_record(record, default_id=stem if count == 1 else None))
    except ValueError as exc:
        return Loaded(label, error=str(exc))


def _article_from_record(record: dict, default_id: str | None) -> Article:
    text = record.get("text") or record.get("content") or record.get("body")
    if not isinstance(text, str) or not normalize_text(text):
        raise ValueError("no text (expected a non-empty 'text' field)")
    title = str(record.get("title") or "")
    explicit_id = record.get("id") or record.get("doc_id")
    fallback = slugify(title) if title else None
    return make_article(
        id=str(explicit_id or default_id or fallback or ""),
        title=title,
        text=text,
        source=str(record.get("source") or record.get("sitename") or ""),
        url=str(record.get("url") or ""),
        published=record.get("published") or record.get("publish_date") or record.get("date"),
    )


_LOADERS = {
    ".txt": _load_txt,
    ".md": _load_md,
    ".html": _load_html,
    ".htm": _load_html,
    ".json": _load_json,
    ".jsonl": _load_jsonl,
}
