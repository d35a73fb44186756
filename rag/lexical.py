"""The one word tokenizer used by BM25 and by lexical overlap scoring (stemmed, no stopwords)."""

from __future__ import annotations

import re
from functools import lru_cache

from bm25s.stopwords import STOPWORDS_EN

_TOKEN = re.compile(r"[\w][\w'’.-]*[\w]|[\w]")
_STOPWORDS = frozenset(STOPWORDS_EN) | {"s", "said", "says"}


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased word tokens with inner punctuation kept (U.S., 9.5, Zelenskyy's -> zelenskyy)."""
    out = []
    for match in _TOKEN.finditer(text.lower()):
        token = match.group().replace("’", "'")
        if token.endswith("'s"):
            token = token[:-2]
        out.append(token.replace(".", "") if re.fullmatch(r"(?:[a-z]\.)+[a-z]?", token) else token)
    return out


def terms(text: str) -> list[str]:
    """Stemmed content terms: what BM25 indexes and what overlap scores compare."""
    return _stemmer().stemWords([w for w in words(text) if w not in _STOPWORDS])
