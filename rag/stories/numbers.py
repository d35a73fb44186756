"""Numeric claims in a sentence: value, unit, what is counted, and its bounds.

"at least 25 people were killed" -> value 25, bound "at least" (25..inf), counted "people killed".
Years, dates, times, ages and ordinals are not claims. Two claims are about the same thing when
they count the same noun with the same event word ("killed" and "injured" never compare).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_LOWER = ("at least", "more than", "over", "upwards of", "in excess of", "exceeding")
_UPPER = ("up to", "fewer than", "less than", "under", "at most", "no more than")
_NEAR_BELOW = ("nearly", "almost", "close to", "just under")
_ABOUT = ("about", "around", "roughly", "approximately", "some", "an estimated", "estimated", "about")
_BOUND = "|".join(sorted(_LOWER + _UPPER + _NEAR_BELOW + _ABOUT, key=len, reverse=True))
_NUMBER = re.compile(
    rf"(?:\b(?P<bound>{_BOUND})\s+)?(?P<cur>[$£€])?(?P<num>\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?)"
    rf"(?:\s*(?P<scale>thousand|million|billion|trillion)\b)?(?P<pct>\s*%|\s+percent\b)?",
    re.I,
)
_MONTHS = re.compile(r"(january|february|march|april|may|june|july|august|september|october|november|december|"
                     r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?\s*$", re.I)
# Event words that say what happened to the things counted: claims compare only with the same one.
EVENTS = {
    "killed": "killed", "dead": "killed", "died": "killed", "deaths": "killed", "death": "killed", "fatalities": "killed",
    "lives": "killed", "bodies": "killed", "toll": "killed",
    "injured": "injured", "wounded": "injured", "hurt": "injured", "injuries": "injured", "hospitalized": "injured",
    "missing": "missing", "arrested": "arrested", "detained": "arrested", "charged": "charged",
    "displaced": "displaced", "evacuated": "evacuated", "rescued": "rescued", "affected": "affected",
    "hostages": "hostages", "captive": "hostages", "held": "hostages", "released": "released", "freed": "released",
    "infected": "infected", "cases": "infected", "votes": "votes", "delegates": "delegates", "seats": "seats",
    "destroyed": "destroyed", "damaged": "damaged", "sold": "sold", "raised": "raised", "fined": "fined",
    "jobs": "jobs", "layoffs": "jobs", "laid": "jobs",
}
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_SKIP_NOUNS = {"of", "the", "a", "an", "and", "or", "to", "in", "on", "at", "for", "from", "by", "more", "other", "new",
               "additional", "total", "were", "was", "are", "is", "had", "have", "has", "been", "who", "that", "us", "u",
               "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "as", "so", "far"}
# After a number, a capitalised word is a model or a name ("737 Max") unless it is one of these.
_NOT_A_NAME = re.compile(r"\s+(?:U\.?S\.?|UK|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_NOT_COUNTED = {"years", "year", "p", "a", "pm", "am", "st", "nd", "rd", "th", "minutes", "hours", "seconds", "miles",
                "feet", "inches", "degrees", "mph", "km", "kilometers", "meters", "days", "weeks", "months", "times"}
_SUFFIX_BOUND = re.compile(r"\s+or\s+(?P<way>more|fewer|less)\b", re.I)
_WINDOW = 60  # characters after the number read for the counted noun and the event word


@dataclass(frozen=True)
class NumberClaim:
    """A number stated at text[start:end] of a sentence (offsets within the sentence)."""

    value: float
    low: float
    high: float
    unit: str  # "", "%", "$" ...
    counted: str  # the noun counted ("people"), or "" when none follows
    event: str  # the event word's class ("killed"), or ""
    start: int
    end: int
    phrase: str

    def describe(self) -> str:
        """The claim in a few words: "at least 12 people killed"."""
        words = [self.phrase.strip()] + [w for w in (self.counted, self.event) if w]
        return " ".join(dict.fromkeys(words))


def _bounds(value: float, bound: str | None) -> tuple[float, float]:
    b = (bound or "").lower()
    if b in _LOWER:
        return value, math.inf
    if b in _UPPER:
        return 0.0, value
    if b in _NEAR_BELOW:
        return value * 0.85, value
    if b in _ABOUT:
        return value * 0.9, value * 1.1
    return value, value


def claims_in(sentence: str) -> list[NumberClaim]:
    """Numeric claims with a counted noun or a unit; years, dates, times, ages and ordinals skipped."""
    out = []
    for m in _NUMBER.finditer(sentence):
        raw, after, before = m["num"], sentence[m.end():m.end() + _WINDOW], sentence[max(0, m.start() - 12):m.start()]
        value = float(raw.replace(",", "")) * _SCALES.get((m["scale"] or "").lower(), 1.0)
        if _MONTHS.search(before) or re.match(r"\s*(?:-year|-|st\b|nd\b|rd\b|th\b|:|/|a\.m|p\.m)", after):
            continue
        if not m["cur"] and not m["scale"] and re.fullmatch(r"(19|20)\d\d", raw):
            continue  # a year
        if (re.match(r"\s+[A-Z]", after) and not m["scale"] and not _NOT_A_NAME.match(after)) or re.search(r"[A-Z][\w-]*\s+$", sentence[max(0, m.start() - 20):m.start()]) \
                and m.start() > 0 and not m["bound"] and not m["cur"]:
            continue  # part of a name: "Boeing 737 Max 9", "Flight 1282", "Title 42"
        if re.match(r"\s+percentage points?\b", after, re.I):
            unit_pp = True
        else:
            unit_pp = False
        words = [w.lower() for w in _WORD.findall(re.split(r"[,;:.!?()\[\]\u2014]|\d", after, maxsplit=1)[0])[:6]]
        counted = next((w for w in words if w not in _SKIP_NOUNS), "")
        if counted in _NOT_COUNTED:
            continue
        event = next((EVENTS[w] for w in words if w in EVENTS), "")
        if not event:
            event = next((EVENTS[w.lower()] for w in _WORD.findall(sentence[max(0, m.start() - 40):m.start()]) if w.lower() in EVENTS), "")
        unit = "%" if m["pct"] else "pp" if unit_pp else (m["cur"] or "")
        if not unit and not counted:
            continue
        if m["pct"] or unit_pp:
            counted = ""
        low, high = _bounds(value, m["bound"])
        suffix = _SUFFIX_BOUND.match(after[len(re.match(r"\s*[A-Za-z'-]*", after).group()):])
        if suffix and not m["bound"]:  # "189 seats or more"
            low, high = (value, math.inf) if suffix["way"].lower() == "more" else (0.0, value)
        out.append(NumberClaim(value, low, high, unit, counted if EVENTS.get(counted) != event else "", event, m.start(), m.end(),
                               m.group()))
    return out


def comparable(a: NumberClaim, b: NumberClaim) -> bool:
    """Possibly about the same thing: the same unit and event, and the same counted noun (one may
    be unnamed when an event names what happened). Claims with neither noun nor event (a bare
    percentage) are comparable only in near-identical sentences: the caller checks that."""
    if a.unit != b.unit or a.event != b.event:
        return False
    if a.event:
        return a.counted == b.counted or not (a.counted and b.counted)
    return a.counted == b.counted and (bool(a.counted) or bool(a.unit))


def bare(claim: NumberClaim) -> bool:
    """A number with a unit but nothing counted and no event ("48%")."""
    return not claim.counted and not claim.event


def consistent(a: NumberClaim, b: NumberClaim) -> bool:
    """Both can be true: their ranges (bounds, and rounding of the less precise) overlap."""
    slack = 0.05 * max(abs(a.value), abs(b.value)) if _rounded(a) or _rounded(b) else 0.0
    return a.low - slack <= b.high and b.low - slack <= a.high


def _rounded(claim: NumberClaim) -> bool:
    return claim.value >= 100 and claim.value % 100 == 0 or "." in claim.phrase or bool(re.search(r"illion|thousand", claim.phrase))
