"""The span page: an article with one span highlighted, the page every citation links to.

Article text is data from anywhere: everything is escaped, only http(s) links are shown, and the
page is served with a Content-Security-Policy that allows no script and no outside request.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from rag.models import Article

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
_STYLE = ("body{font:16px/1.6 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1e293b}"
          "mark{background:#fde68a;padding:0 .1em}.meta{color:#64748b;font-size:.9rem}p{white-space:pre-wrap}")


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in text.split("\n") if p.strip())


def span_page(article: Article, start: int, end: int) -> str:
    """HTML for article.text with [start, end) marked (offsets already checked by the caller)."""
    meta = [escape(str(x)) for x in (article.source, article.published) if x]
    if urlsplit(article.url).scheme in ("http", "https"):
        meta.append(f'<a href="{escape(article.url)}" rel="noopener noreferrer nofollow">original article</a>')
    meta.append(f"id {escape(article.id)}, characters {start}-{end}")
    text = article.text
    # The marked span keeps its own line breaks; the paragraphs around it split on newlines.
    before, quote, after = text[:start], text[start:end], text[end:]
    body = (_paragraphs(before.rsplit("\n", 1)[0]) if "\n" in before else "") + "<p>" + \
        escape(before.rsplit("\n", 1)[-1]) + f'<mark id="span">{escape(quote)}</mark>' + \
        escape(after.split("\n", 1)[0]) + "</p>" + (_paragraphs(after.split("\n", 1)[1]) if "\n" in after else "")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(article.title)}</title>'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_STYLE}</style></head>'
            f'<body><h1>{escape(article.title)}</h1><div class="meta">{" · ".join(meta)}</div>{body}</body></html>')
