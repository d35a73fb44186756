"""Where independent sources in a story disagree: numeric claims about the same count whose
ranges cannot both hold, and attributed claims that contradict each other.

A later, larger count is an update, not a disagreement (tolls rise). Near-copies and articles
of one outlet are never compared. Flags are ranked by how sure they are: numbers first (the
relative gap between the values), then attributed claims. Constants: `python -m evals.stories_eval fit`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np

from rag.verify.citations import make_citation
from rag.stories.cluster import source_of
from rag.stories.material import Line, Material
from rag.stories.models import Disagreement
from rag.stories.numbers import NumberClaim, bare, claims_in, comparable, consistent

PAIR_COSINE = 0.6  # two sentences compared at all must be at least this similar (about the same event)
BARE_COSINE = 0.85  # bare percentages ("48%") compare only in sentences this similar (the same poll, the same result)
SAME_STATEMENT = 0.95  # this similar is one statement quoted twice (with and without quotation marks), not a contradiction
CLAIM_COSINE = 0.85  # attributed claims: this similar, and one denies (outside quotation marks) what the other states
TOP_FLAGS = 5  # flags shown per story
_REPORTING = re.compile(r"\b(said|says|told|according to|claimed|claims|denied|denies|insisted|stated|announced|"
                        r"confirmed|reported|alleged)\b", re.I)
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")
_QUOTED = re.compile(r"[\"“][^\"“”]*[\"”]")
_NEGATION = re.compile(r"\b(not|no|never|denied|denies|deny|false|falsely|rejected|rejects|refuted|without)\b|n't\b", re.I)


@dataclass
class Found:
    a: Line
    b: Line
    ca: NumberClaim
    cb: NumberClaim


def number_pairs(material: Material, since: date | None = None, until: date | None = None) -> tuple[list[Found], list[Found]]:
    """(disagreements, updates) between numeric claims of independent sources; in each pair `a` is
    the earlier article. A later, larger count is an update (even when an earlier "at least"
    allowed it); different values that cannot both hold are a disagreement."""
    claimed = [(line, claim) for article in material.originals() if _within(article.published, since, until)
               for line in material.lines.get(article.id, []) for claim in claims_in(line.text)]
    flags, updates = [], []
    for i, j in _similar_pairs([line for line, _ in claimed], min(PAIR_COSINE, BARE_COSINE), 2.0):
        (la, ca), (lb, cb) = claimed[i], claimed[j]
        if la.article.id == lb.article.id or not material.independent(la.article.id, lb.article.id):
            continue
        verdict, found = judge(la, ca, lb, cb)
        if verdict == "update":
            updates.append(found)
        elif verdict == "disagree":
            flags.append(found)
    return flags, updates


def judge(la: Line, ca: NumberClaim, lb: Line, cb: NumberClaim) -> tuple[str | None, Found]:
    """"update", "disagree" or None for two claims of independent sources, and the pair ordered
    earlier first."""
    (la, ca), (lb, cb) = sorted([(la, ca), (lb, cb)], key=lambda p: (p[0].article.published or date.min))
    found = Found(la, lb, ca, cb)
    cosine = float(la.vector @ lb.vector)
    if not comparable(ca, cb) or ca.value == cb.value or cosine < (BARE_COSINE if bare(ca) else PAIR_COSINE):
        return None, found
    if (lb.article.published or date.min) > (la.article.published or date.min) and cb.value > ca.value:
        return "update", found
    if bare(ca) or bare(cb) or _looks_back(la) or _looks_back(lb):
        return None, found  # shares without a counted thing (poll vs result), or a past event's count ("in the 1977 storm")
    return (None if consistent(ca, cb) else "disagree"), found


def _looks_back(line: Line) -> bool:
    """The sentence names a year before its article's: it counts a past event, not the story's."""
    published = line.article.published
    return published is not None and any(int(y) < published.year for y in _YEAR.findall(line.text))


def judge_lines(a: Line, b: Line) -> str | None:
    """How two sentences' numbers relate: "update" when any pair is one, else "disagree" when any
    pair is one, else None."""
    verdicts = {judge(a, ca, b, cb)[0] for ca in claims_in(a.text) for cb in claims_in(b.text)}
    return "update" if "update" in verdicts else "disagree" if "disagree" in verdicts else None


def _denies(text: str) -> bool:
    """A negation in the sentence's own words (quoted speech taken out)."""
    return bool(_NEGATION.search(_QUOTED.sub(" ", text)))


def _within(day: date | None, since: date | None, until: date | None) -> bool:
    return day is None or ((since is None or day >= since) and (until is None or day <= until))


def claim_pairs(material: Material, since: date | None = None, until: date | None = None) -> list[tuple[Line, Line]]:
    """Attributed sentences of independent sources about the same thing, one negating the other."""
    attributed = [line for article in material.originals() if _within(article.published, since, until)
                  for line in material.lines.get(article.id, []) if _REPORTING.search(line.text)]
    out = []
    for i, j in _similar_pairs(attributed, CLAIM_COSINE, SAME_STATEMENT):
        a, b = attributed[i], attributed[j]
        if a.article.id == b.article.id or not material.independent(a.article.id, b.article.id):
            continue
        if CLAIM_COSINE <= float(a.vector @ b.vector) < SAME_STATEMENT and _denies(a.text) != _denies(b.text):
            out.append((a, b))
    return out


def _similar_pairs(lines: list[Line], low: float, high: float) -> list[tuple[int, int]]:
    """Index pairs i < j of lines whose cosine is in [low, high), in the order a double loop visits
    them; all cosines at once (einsum: BLAS threads stall on a loaded 2-core machine). A 50-article
    story's timeline spent 4 of its 6 s comparing sentence pairs one by one."""
    if len(lines) < 2:
        return []
    vectors = np.stack([line.vector for line in lines]).astype(np.float32)
    sims = np.einsum("ik,jk->ij", vectors, vectors)
    slack = 1e-3  # a prefilter: callers test the exact cosine
    i, j = np.nonzero(np.triu((sims >= low - slack) & (sims < high + slack), k=1))
    return list(zip(i.tolist(), j.tolist()))


def find(material: Material, since: date | None = None, until: date | None = None, top: int = TOP_FLAGS) -> list[Disagreement]:
    """The story's top disagreements, each side cited verbatim."""
    flags, _ = number_pairs(material, since, until)
    flags.sort(key=lambda f: -abs(f.ca.value - f.cb.value) / max(abs(f.ca.value), abs(f.cb.value), 1e-9))
    out, seen = [], set()
    for f in flags:
        key = (f.a.article.id, f.a.index, f.b.article.id, f.b.index)
        if key in seen:
            continue
        seen.add(key)
        out.append(Disagreement(kind="number", a=_cite(f.a), b=_cite(f.b),
                                note=f"{_who(f.a)} says {f.ca.describe()}; {_who(f.b)} says {f.cb.describe()}"))
    for a, b in claim_pairs(material, since, until):
        out.append(Disagreement(kind="claim", a=_cite(a), b=_cite(b),
                                note=f"{_who(a)} and {_who(b)} report opposite statements"))
    return out[:top]


def _cite(line: Line):
    return make_citation(0, line.article, line.start, line.end, 1.0)


def _who(line: Line) -> str:
    day = line.article.published.isoformat() if line.article.published else "undated"
    return f"{source_of(line.article)} ({day})"
