"""Short answer phrases: the words of a cited sentence that answer the question ("Dmitry Peskov").

Offline and model-free: every token span of the sentence (up to MAX_TOKENS words, not crossing
punctuation, not starting or ending on a function word) is a candidate, described by a few
features (is it a name, a number, a date; does the question ask for one; how much of it the
question already says; how close it sits to the question's words in the sentence; its length),
and a linear model scores it (the best one is the answer). `evals/fit_short.py` fits the weights on SQuAD v1.1 questions that
are not in the reported sample (seed 0). The phrase is returned as offsets into the sentence, so
it can be cited and verified like any quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.lexical import terms, words

MAX_TOKENS = 6
_TOKEN = re.compile(r"\$?\d+(?:[.,:]\d+)*%?|(?:[A-Z]\.){2,}|[^\W_]+(?:[-'’&][^\W_]+)*")
_FUNCTION = frozenset("""a an the of in on at by for to from with and or but as is are was were be been being has have had
do does did that this these those which who whom whose what when where why how it its his her their our your my he she
they we you i not no than then so such into onto over under about after before during between through while also
said says say told according there here if would could should can may might will shall must just only very more most
other some any each both either neither one all""".split())
_MONTHS = ("january february march april may june july august september october november december "
           "jan feb mar apr jun jul aug sep sept oct nov dec").split()
_NUMBER_WORDS = frozenset("""one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million
billion trillion dozen half first second third fourth fifth""".split())
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())

_Q_TYPES = (
    ("date", re.compile(r"^\s*(when|what (year|date|day|month|time|century|decade)|in what (year|month)|which (year|day|month|century))\b", re.I)),
    ("number", re.compile(r"\bhow (many|much|long|old|far|large|big|tall|high|often|fast)\b|\bwhat (percentage|percent|number|amount|proportion|size)\b", re.I)),
    ("person", re.compile(r"^\s*(who|whom|whose)\b|\bwhich (person|man|woman|president|leader|official|spokes\w+|minister|player|author|king|queen)\b", re.I)),
    ("place", re.compile(r"^\s*where\b|\b(what|which) (country|city|state|region|nation|town|place|location|continent|island|river|county|province)\b", re.I)),
)
Q_TYPES = ("date", "number", "person", "place", "other")

_BASE = (
    "in_question", "capitalized", "all_capitalized", "numeric", "date", "type_match", "type_other_lower",
    "length_1", "log_length", "near_question", "distance", "maximal_name", "preposition_before",
    "at_start", "inner_function", "has_question_term_neighbour",
)
# The same candidate properties mean different things for different questions ("who" wants a
# name, "how many" a number): each question type gets its own weights for them.
_CROSSED = ("capitalized", "all_capitalized", "numeric", "date", "length_1", "log_length", "distance", "maximal_name")
FEATURES = _BASE + tuple(f"{t}*{f}" for t in Q_TYPES for f in _CROSSED)
# Fitted by `python -m evals.fit_short --seed 1 -n 1500` (listwise softmax, SQuAD v1.1 dev half A
# outside the reported sample); only the argmax is used, so BIAS is 0. The fit in docs/constants.md.
WEIGHTS = np.array([
    -3.821, -0.1, -0.142, 0.723, -0.278, 2.314, -0.459, -0.474, -0.291, 0.398, -1.297, 0.987,
    0.489, -0.35, -1.221, 0.011, -0.365, -0.351, 1.262, 1.465, 0.774, -0.445, 0.21, -0.25,
    -0.641, -0.299, 0.791, -0.688, 0.49, -0.771, -0.805, -0.07, 0.627, 0.634, -0.713, -0.603,
    -0.739, 0.369, -0.159, 0.323, 0.162, -0.585, -0.282, -0.189, -0.35, 0.421, -0.336, 0.408,
    0.117, 0.459, -0.335, -0.263, -0.649, 0.135, -0.207, 0.575,
], dtype=np.float64)
BIAS = 0.0


@dataclass
class Phrase:
    """A candidate answer phrase: offsets into the text it was found in, and its score."""

    start: int
    end: int
    text: str
    score: float


def question_type(question: str) -> str:
    for name, pattern in _Q_TYPES:
        if pattern.search(question):
            return name
    return "other"


def _is_cap(token: str) -> bool:
    return token[:1].isupper()


def _is_number(token: str) -> bool:
    return bool(re.search(r"\d", token)) or token.lower() in _NUMBER_WORDS


def _is_date(token: str) -> bool:
    low = token.lower().rstrip(".")
    return low in _MONTHS or low in _WEEKDAYS or bool(re.fullmatch(r"(1[5-9]|20)\d\d(s)?", low))


def candidates(sentence: str) -> list[tuple[int, int, list[int]]]:
    """(start, end, token indexes) of every candidate span of the sentence."""
    tokens = list(_TOKEN.finditer(sentence))
    out = []
    for i in range(len(tokens)):
        if tokens[i].group().lower() in _FUNCTION:
            continue
        for j in range(i, min(i + MAX_TOKENS, len(tokens))):
            if j > i and sentence[tokens[j - 1].end():tokens[j].start()].strip(" -"):
                break  # punctuation between words: a phrase does not cross it
            if tokens[j].group().lower() in _FUNCTION:
                continue
            out.append((tokens[i].start(), tokens[j].end(), list(range(i, j + 1))))
    return out


def features(question: str, sentence: str) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Candidate spans of `sentence` and their feature rows (see FEATURES)."""
    tokens = [m.group() for m in _TOKEN.finditer(sentence)]
    q_words = set(words(question))
    q_terms = set(terms(question))
    token_terms = [set(terms(t)) for t in tokens]
    anchor = [bool(t & q_terms) or tok.lower() in q_words and tok.lower() not in _FUNCTION
              for t, tok in zip(token_terms, tokens)]
    anchors = [i for i, a in enumerate(anchor) if a]
    qtype = question_type(question)
    spans, rows = [], []
    for start, end, idx in candidates(sentence):
        toks = [tokens[i] for i in idx]
        content = [t for t in toks if t.lower() not in _FUNCTION]
        in_q = sum(1 for i in idx if anchor[i]) / max(len(idx), 1)
        cap = sum(_is_cap(t) for t in content) / max(len(content), 1)
        numeric = float(any(_is_number(t) for t in toks))
        is_date = float(any(_is_date(t) for t in toks))
        if qtype == "date":
            match = is_date or (numeric and any(re.fullmatch(r"\d{3,4}", t) for t in toks))
        elif qtype == "number":
            match = numeric
        elif qtype in ("person", "place"):
            match = float(cap == 1.0 and not numeric)
        else:
            match = 0.0
        other_lower = float(qtype == "other" and cap < 1.0)
        distance = min((min(abs(i - a) for i in idx) for a in anchors), default=20)
        left, right = idx[0] - 1, idx[-1] + 1
        maximal = float(cap == 1.0 and not (left >= 0 and _is_cap(tokens[left]) and left != 0)
                        and not (right < len(tokens) and _is_cap(tokens[right])))
        before = tokens[left].lower() if left >= 0 else ""
        neighbour = float((left >= 0 and anchor[left]) or (right < len(tokens) and anchor[right]))
        spans.append((start, end))
        rows.append([
            in_q, float(cap > 0), float(cap == 1.0), numeric, is_date, float(match), other_lower,
            float(len(idx) == 1), np.log(len(idx)), float(distance <= 3), min(distance, 20) / 10.0, maximal,
            float(before in ("in", "at", "on", "by", "from", "of", "to")), float(idx[0] == 0),
            float(len(content) < len(toks)), neighbour,
        ])
    base = np.array(rows, dtype=np.float64).reshape(len(rows), len(_BASE))
    crossed = np.zeros((len(rows), len(Q_TYPES) * len(_CROSSED)))
    t = Q_TYPES.index(qtype)
    cols = [_BASE.index(f) for f in _CROSSED]
    crossed[:, t * len(_CROSSED):(t + 1) * len(_CROSSED)] = base[:, cols]
    return spans, np.hstack([base, crossed])


def best_phrase(question: str, sentence: str) -> Phrase | None:
    """The highest-scoring candidate phrase of the sentence, or None when it has none."""
    spans, x = features(question, sentence)
    if not spans:
        return None
    scores = x @ WEIGHTS + BIAS
    best = int(np.argmax(scores))
    start, end = spans[best]
    return Phrase(start, end, sentence[start:end], float(scores[best]))


_PHRASE_TOKEN = re.compile(r"[^\W_]+")


def _norm(token: str) -> str:
    """A token as phrases are compared: lower case, a plural or possessive "s" dropped ("28 points"
    is the source's "28-point", "Ukraine's" its "Ukraine")."""
    token = token.lower()
    return token[:-1] if len(token) > 3 and token.endswith("s") else token


def locate_phrase(phrase: str, sentence: str) -> tuple[int, int] | None:
    """Where a short answer phrase (at most MAX_TOKENS words, at least one of them not a function
    word) occurs in a sentence, ignoring case, punctuation, hyphens and a plural "s": offsets of
    the sentence's own words, or None. A phrase of function words alone ("No.") is never located:
    it would be found anywhere."""
    raw = _PHRASE_TOKEN.findall(phrase)
    if not raw or len(raw) > MAX_TOKENS or all(t.lower() in _FUNCTION for t in raw):
        return None
    wanted = [_norm(t) for t in raw]
    tokens = list(_PHRASE_TOKEN.finditer(sentence))
    normed = [_norm(t.group()) for t in tokens]
    for i in range(len(tokens) - len(wanted) + 1):
        if normed[i:i + len(wanted)] == wanted:
            return tokens[i].start(), tokens[i + len(wanted) - 1].end()
    return None
