"""Canonical text, article construction, content hashes, dates and canonical URLs.

Canonical text is produced once here (Unicode NFC, normalised whitespace); every offset the
product stores or shows indexes that text, so nothing downstream may transform it again.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rag.models import Article

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# Query parameters that only track where a reader came from; the same article has them or not.
_TRACKING_PARAM = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid|smid)$", re.I)


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


def canonical_url(url: str) -> str:
    """One spelling per page: lower-case scheme and host, no default port, fragment or tracking
    parameters, so the same article reached by different links dedupes by URL."""
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return url
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAM.match(k)])
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def url_id(url: str) -> str:
    """An article id for a web page: its host and path as a slug."""
    parts = urlsplit(url)
    return slugify(f"{parts.hostname or ''} {parts.path} {parts.query}", 120)


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


def article_from_record(record: dict, default_id: str | None) -> Article:
    """An article from a dict with `text` and optionally `id title source url published`."""
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
