"""Files and folders into articles: the folder walk and one loader per file type.

PDF text comes from pypdf: it is pure Python (no native build, nothing to download), actively
maintained, already a dependency, and gives text page by page, which is what page numbers for
citations need. pdfminer.six lays text out more faithfully but is not installed here and would
be a second PDF stack for the same job.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import yaml

from rag.ingest.canonical import article_from_record, make_article, normalize_text
from rag.models import Loaded, Origin

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".pdf")
# Files in a folder that describe the folder rather than being articles.
_SKIPPED_IN_FOLDERS = re.compile(r"^(readme|license|licence|changelog)(\.|$)", re.I)
# Files operating systems and editors leave in folders: never articles, even with a known suffix.
_SYSTEM_FILES = re.compile(r"^(thumbs\.db|desktop\.ini|icon\r|~\$.*|.*~|#.*#)$", re.I)
_MIN_HTML_WORDS = 8
_SEE_ALSO = re.compile(r"^[ \t]*(SEE ALSO|READ MORE|RELATED|ADVERTISEMENT)\b.*(\n|$)", re.I | re.M)


def iter_inputs(paths: Iterable[str | Path], follow_symlinks: bool = False) -> Iterator[Path | Loaded]:
    """Expand folders (recursively, supported types only; hidden, system and README files skipped).

    A symlink inside a folder is followed only while it stays inside that folder, unless
    `follow_symlinks`; one that leaves it is reported (as a failed Loaded), never read.
    Paths given explicitly are used as they are.
    """
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            yield path
            continue
        root = path.resolve()
        seen_dirs: set[Path] = set()
        for dirpath, dirnames, filenames in os.walk(path, followlinks=follow_symlinks):
            here = Path(dirpath)
            real = here.resolve()
            if real in seen_dirs:  # a symlink loop when following links
                dirnames[:] = []
                continue
            seen_dirs.add(real)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            kept = []
            for d in dirnames:
                target = (here / d).resolve()
                if (here / d).is_symlink() and not follow_symlinks:
                    if not target.is_relative_to(root):
                        yield Loaded(str(here / d), error="symlink to a folder outside the added folder "
                                                          "(use --follow-symlinks to read it)")
                    continue  # os.walk would not descend into it anyway; inside targets are walked directly
                kept.append(d)
            dirnames[:] = kept
            for name in sorted(filenames):
                child = here / name
                if name.startswith(".") or _SYSTEM_FILES.match(name) or _SKIPPED_IN_FOLDERS.match(name):
                    continue
                if child.suffix.lower() not in SUPPORTED_SUFFIXES:
                    continue
                if child.is_symlink() and not follow_symlinks and not child.resolve().is_relative_to(root):
                    yield Loaded(str(child), error="symlink to a file outside the added folder "
                                                   "(use --follow-symlinks to read it)")
                    continue
                if child.is_file():
                    yield child


def wanted_in_folder(path: Path, root: Path) -> bool:
    """Whether the folder walk would read `path` (under `root`): a supported, visible, non-system file."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return False
    name = path.name
    return (bool(parts) and not any(part.startswith(".") for part in parts)
            and not _SYSTEM_FILES.match(name) and not _SKIPPED_IN_FOLDERS.match(name)
            and path.suffix.lower() in SUPPORTED_SUFFIXES)


def iter_input_files(paths: Iterable[str | Path], follow_symlinks: bool = False) -> Iterator[Path]:
    """The files `iter_inputs` would read (refused symlinks left out)."""
    for item in iter_inputs(paths, follow_symlinks):
        if isinstance(item, Path):
            yield item


def load_file(path: Path, max_bytes: int) -> list[Loaded]:
    """Read one file into articles; every problem becomes a Loaded with a specific reason."""
    label = str(path)
    try:
        data = _read_bytes(path, max_bytes)
        suffix = path.suffix.lower()
        if suffix == ".pdf":
            return [load_pdf(data, label=label, default_id=path.stem, origin=Origin("file", str(path)))]
        loader = _LOADERS.get(suffix)
        if loader is None:
            supported = " ".join(SUPPORTED_SUFFIXES)
            raise ValueError(f"unsupported file type {path.suffix or '(none)'!r} (supported: {supported})")
        loaded = loader(path, _decode(data))
        for item in loaded:
            item.origin = Origin("file", str(path))
        return loaded
    except ValueError as exc:
        return [Loaded(label, error=str(exc))]


def _read_bytes(path: Path, max_bytes: int) -> bytes:
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
    return path.read_bytes()


def _decode(data: bytes) -> str:
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
    return [Loaded(str(path), article_from_record(record, default_id=path.stem))]


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
    return [Loaded(str(path), article_from_record(meta | {"text": "\n".join(lines)}, default_id=path.stem))]


def extract_html(raw: str, *, fallback_title: str, url: str | None = None) -> tuple[dict, str | None]:
    """Main text and metadata of an HTML page by trafilatura (the only code that parses fetched
    HTML; nothing in it is ever executed): (record for `article_from_record`, author)."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        raw, url=url, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
    text = getattr(doc, "text", None) if doc is not None else None
    # Fewer words than a headline's worth is navigation or a stub page, not an article.
    if not text or len(normalize_text(text).split()) < _MIN_HTML_WORDS:
        raise ValueError("no article text found in HTML")
    title = getattr(doc, "title", None) or fallback_title
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
    return record, getattr(doc, "author", None) or None


def _load_html(path: Path, raw: str) -> list[Loaded]:
    record, _ = extract_html(raw, fallback_title=path.stem)
    return [Loaded(str(path), article_from_record(record, default_id=path.stem))]


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
        return Loaded(label, article_from_record(record, default_id=stem if count == 1 else None))
    except ValueError as exc:
        return Loaded(label, error=str(exc))


# -- PDF ------------------------------------------------------------------------------------------

_SENTENCE_END = (".", "!", "?", ":", '"', "”", "’")


def _reflow(page_text: str) -> str:
    """Join a PDF page's layout lines into paragraphs.

    pypdf returns one line per printed line, and a line break ends a sentence for the segmenter;
    a printed line ends a paragraph only when it is much shorter than the page's longest (a
    heading), ends a sentence and is short (the last line of a paragraph), or is followed by a
    blank line.
    """
    lines = [line.strip() for line in page_text.replace("\r", "\n").split("\n")]
    width = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    previous = ""  # the last printed line, "" after a blank line
    for line in lines:
        if not line:
            previous = ""
            continue
        ends_paragraph = len(previous) < 0.6 * width or (previous.endswith(_SENTENCE_END) and len(previous) < 0.85 * width)
        if previous and not ends_paragraph:
            joiner = "" if previous.endswith("-") and line[:1].islower() else " "
            paragraphs[-1] += joiner + line
        else:
            paragraphs.append(line)
        previous = line
    return "\n".join(paragraphs)


def load_pdf(data: bytes, *, label: str, default_id: str, origin: Origin, url: str = "") -> Loaded:
    """A PDF's text, page by page, as one article; `origin.pages` holds each page's start offset."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return Loaded(label, error="PDF is encrypted")
        pages = [normalize_text(_reflow(page.extract_text() or "")) for page in reader.pages]
        meta = reader.metadata or {}
        title = str(meta.get("/Title") or "").strip()
        published = getattr(reader.metadata, "creation_date", None) if reader.metadata else None
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        return Loaded(label, error=f"not a readable PDF ({exc})")
    starts, parts, offset = [], [], 0
    for text in pages:
        if parts and text:
            offset += 2  # the "\n\n" joining pages
        starts.append(offset)
        if text:
            parts.append(text)
            offset += len(text)
    joined = "\n\n".join(parts)
    if not joined:
        return Loaded(label, error="PDF has no extractable text (a scanned image?)")
    try:
        article = make_article(id=default_id, title=title or joined.split("\n", 1)[0][:120], text=joined,
                               url=url, published=published)
    except ValueError as exc:
        return Loaded(label, error=str(exc))
    origin.pages = starts if article.text == joined else None
    return Loaded(label, article, origin=origin)


_LOADERS: dict[str, Callable[[Path, str], list[Loaded]]] = {
    ".txt": _load_txt,
    ".md": _load_md,
    ".html": _load_html,
    ".htm": _load_html,
    ".json": _load_json,
    ".jsonl": _load_jsonl,
}
