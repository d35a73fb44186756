"""News sitemaps: the page URLs a sitemap.xml or sitemap index lists, with their dates.

XML is parsed with defusedxml (no entity expansion, no external entities or DTDs); gzip
sitemaps are inflated under the same byte cap as any fetched page.
"""

from __future__ import annotations

import zlib
from datetime import date
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from rag.ingest.canonical import canonical_url, parse_date
from rag.ingest.web import XML_TYPES, Fetcher, FetchError
from rag.models import Loaded

MAX_SITEMAPS = 50  # sitemaps read for one `rag add --sitemap`, index included
MAX_DEPTH = 3  # an index of indexes of sitemaps at most


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: Element, name: str) -> str:
    for child in element.iter():
        if child is not element and _local(child.tag) == name and child.text:
            return child.text.strip()
    return ""


def _date(value: str) -> date | None:
    try:
        return parse_date(value) if value else None
    except ValueError:
        return None


def _inflate(data: bytes, max_bytes: int) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        return data
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = inflater.decompress(data, max_bytes + 1)
    if len(out) > max_bytes:
        raise FetchError(f"sitemap inflates to over the {max_bytes / 1e6:g} MB limit (RAG_MAX_FILE_MB)")
    return out


def sitemap_pages(fetcher: Fetcher, url: str, since: date | None = None) -> tuple[list[str], list[Loaded]]:
    """(page URLs dated on or after `since` in sitemap order without repeats, failures as Loaded).

    A page's date is its news:publication_date, else its lastmod; with `since`, undated pages are
    left out. Child sitemaps of an index whose lastmod is before `since` are not fetched.
    """
    pages: list[str] = []
    seen_pages: set[str] = set()
    failures: list[Loaded] = []
    queue: list[tuple[str, int]] = [(url, 0)]
    read: set[str] = set()
    while queue and len(read) < MAX_SITEMAPS:
        current, depth = queue.pop(0)
        if current in read:
            continue
        read.add(current)
        try:
            fetched = fetcher.get(current, accept=XML_TYPES)
            root = ElementTree.fromstring(_inflate(fetched.content, fetcher.max_bytes))
        except FetchError as exc:
            failures.append(Loaded(current, error=str(exc)))
            continue
        except (ElementTree.ParseError, DefusedXmlException) as exc:
            failures.append(Loaded(current, error=f"malformed sitemap XML ({exc})"))
            continue
        kind = _local(root.tag)
        if kind == "sitemapindex":
            for node in root:
                loc = _child_text(node, "loc")
                if not loc or depth + 1 > MAX_DEPTH:
                    continue
                modified = _date(_child_text(node, "lastmod"))
                if since and modified and modified < since:
                    continue
                queue.append((loc, depth + 1))
        elif kind == "urlset":
            for node in root:
                loc = _child_text(node, "loc")
                if not loc:
                    continue
                day = _date(_child_text(node, "publication_date")) or _date(_child_text(node, "lastmod"))
                if since and (day is None or day < since):
                    continue
                key = canonical_url(loc)
                if key not in seen_pages:
                    seen_pages.add(key)
                    pages.append(loc)
        else:
            failures.append(Loaded(current, error=f"not a sitemap (root element <{kind}>)"))
    return pages, failures
