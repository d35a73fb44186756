"""The one word tokenizer used by BM25 and by lexical overlap scoring (stemmed, no stopwords)."""

from __future__ import annotations

import re
from functools import lru_cache

from bm25s.stopwords import STOPWORDS_EN

_TOKEN = re.compile(r"[\w][\w'’.-]*[\w]|[\w]")
# Question words carry no topic; left in, they match nothing and dilute idf-weighted coverage.
_STOPWORDS = frozenset(STOPWORDS_EN) | {
    "s", "said", "says", "did", "does", "do", "what", "which", "who", "whom", "whose", "when",
    "where", "why", "how", "were", "according",
}
# Bump when `terms` changes: persisted BM25 indexes built with another version are rebuilt.
VERSION = "3"
# Irregular past forms common in news copy, which a suffix stemmer cannot join to their verb.
_IRREGULAR = {
    "told": "tell", "wrote": "write", "written": "write", "met": "meet", "gave": "give", "given": "give",
    "took": "take", "taken": "take", "went": "go", "gone": "go", "made": "make", "spoke": "speak",
    "spoken": "speak", "won": "win", "led": "lead", "sent": "send", "held": "hold", "left": "leave",
    "began": "begin", "begun": "begin", "brought": "bring", "bought": "buy", "sold": "sell",
    "thought": "think", "fought": "fight", "caught": "catch", "chose": "choose", "chosen": "choose",
    "drew": "draw", "drawn": "draw", "fell": "fall", "fallen": "fall", "felt": "feel", "found": "find",
    "flew": "fly", "grew": "grow", "grown": "grow", "heard": "hear", "hit": "hit", "kept": "keep",
    "knew": "know", "known": "know", "lost": "lose", "paid": "pay", "ran": "run", "rose": "rise",
    "risen": "rise", "saw": "see", "seen": "see", "sought": "seek", "shot": "shoot", "stood": "stand",
    "struck": "strike", "taught": "teach", "threw": "throw", "thrown": "throw", "understood": "understand",
    "wore": "wear", "built": "build", "broke": "break", "broken": "break", "came": "come", "became": "become",
}


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
    return _stemmer().stemWords([_IRREGULAR.get(w, w) for w in words(text) if w not in _STOPWORDS])
