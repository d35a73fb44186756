"""Query understanding: what kind of answer a question asks for, and which dates it names.

The intent comes from a classifier over the question's embedding (rag/intent.py, fitted on
outside questions by evals/fit_intent.py), passed in as `classify`; `rag eval` reports every
metric per intent. Dates come from regular expressions over plain language. Relative dates
("yesterday", "last month", "this week") resolve against a reference date, `as_of`: by default the newest published date in the library (the
corpus's "now"), or one the caller gives (`rag ask --as-of`, the UI setting, a RealTimeQA
question's own date).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Callable, Literal

from pydantic import BaseModel

Intent = Literal["factoid", "when", "summary", "latest", "compare", "timeline", "changes"]

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"

_ISO = re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b")
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{{4}}))?", re.I)
_DAY_MONTH = re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b(?:,?\s+(?P<year>\d{{4}}))?", re.I)
_MONTH_YEAR = re.compile(rf"\b(?:in|during|of|since|by)\s+(?:early |late |mid-?)?{_MONTH}(?:\s+(?P<year>\d{{4}}))?\b", re.I)
_YEAR = re.compile(r"\b(?:in|during|of)\s+(?P<year>(?:19|20)\d{2})\b", re.I)
_RELATIVE = re.compile(
    r"\b(?P<what>today|yesterday|this week|last week|past week|this month|last month|past month|this year|last year|"
    r"(?P<n>\d+|a|one|two|three|four|five|six|seven|ten) (?P<unit>days?|weeks?|months?) ago|"
    r"(?:in )?the (?:last|past) (?P<n2>\d+|two|three|four|five|six|seven|ten) (?P<unit2>days|weeks|months))\b",
    re.I,
)
_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10}


class Query(BaseModel):
    """A question as understood: the intent and the published-date window it names (if any)."""

    text: str
    intent: Intent = "factoid"
    since: date | None = None
    until: date | None = None
    as_of: date | None = None
    dates: list[str] = []  # the date phrases found, as written

    def to_json_dict(self) -> dict:
        """The `query` object of `rag ask --json`."""
        return {"intent": self.intent, "since": _iso(self.since), "until": _iso(self.until), "as_of": _iso(self.as_of)}

    def describe(self) -> str:
        """A short human line: "latest news, published 2025-11-01 to 2025-11-30"."""
        label = {"factoid": "a fact", "when": "a date", "summary": "a summary", "latest": "the latest news",
                 "compare": "a comparison", "timeline": "a timeline", "changes": "what changed"}[self.intent]
        if self.since and self.until:
            window = f"published {self.since.isoformat()} to {self.until.isoformat()}"
        elif self.since:
            window = f"published since {self.since.isoformat()}"
        elif self.until:
            window = f"published until {self.until.isoformat()}"
        else:
            window = ""
        parts = [label] + ([window] if window else [])
        if self.as_of and (self.intent == "latest" or window):
            parts.append(f"as of {self.as_of.isoformat()}")
        return ", ".join(parts)


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _year_for(month: int, day: int, as_of: date | None) -> int:
    """The year of a "Nov. 19" with no year: the latest such day on or before the reference date."""
    if as_of is None:
        return date.today().year
    try:
        candidate = date(as_of.year, month, day)
    except ValueError:
        return as_of.year
    return as_of.year if candidate <= as_of else as_of.year - 1


def _relative(match: re.Match, as_of: date) -> tuple[date, date]:
    what = match.group("what").lower()
    if what == "today":
        return as_of, as_of
    if what == "yesterday":
        day = as_of - timedelta(days=1)
        return day, day
    if what in ("this week", "past week"):
        return as_of - timedelta(days=6), as_of
    if what == "last week":
        return as_of - timedelta(days=13), as_of - timedelta(days=7)
    if what == "this month":
        return as_of.replace(day=1), as_of
    if what == "past month":
        return as_of - timedelta(days=30), as_of
    if what == "last month":
        first = as_of.replace(day=1) - timedelta(days=1)
        return _month_range(first.year, first.month)
    if what == "this year":
        return date(as_of.year, 1, 1), as_of
    if what == "last year":
        return date(as_of.year - 1, 1, 1), date(as_of.year - 1, 12, 31)
    n_text = (match.group("n") or match.group("n2") or "1").lower()
    n = int(n_text) if n_text.isdigit() else _NUMBER_WORDS.get(n_text, 1)
    unit = (match.group("unit") or match.group("unit2") or "days").lower()
    days = n * {"d": 1, "w": 7, "m": 30}[unit[0]]
    if match.group("n2"):  # "in the past 3 days": a window ending now
        return as_of - timedelta(days=days), as_of
    day = as_of - timedelta(days=days)  # "3 days ago": around that day
    return day - timedelta(days=min(days, 7) // 2), day + timedelta(days=min(days, 7) // 2)


def find_dates(text: str, as_of: date | None) -> tuple[date | None, date | None, list[str]]:
    """The published-date window the question names: (since, until, phrases). Several phrases
    widen the window to cover them all; relative ones need `as_of` and are skipped without it."""
    ranges: list[tuple[date, date]] = []
    phrases: list[str] = []
    taken: list[tuple[int, int]] = []

    def add(match: re.Match, window: tuple[date, date] | None) -> None:
        if window is None or any(s < match.end() and match.start() < e for s, e in taken):
            return
        taken.append(match.span())
        ranges.append(window)
        phrases.append(match.group().strip())

    for m in _ISO.finditer(text):
        try:
            day = date(int(m["y"]), int(m["m"]), int(m["d"]))
            add(m, (day, day))
        except ValueError:
            pass
    for pattern in (_MONTH_DAY, _DAY_MONTH):
        for m in pattern.finditer(text):
            month, day = _MONTHS[m["month"].lower()], int(m["day"])
            if m["month"].lower() == "may" and not m["year"] and pattern is _DAY_MONTH:
                continue  # "5 may" is more often a verb than a date
            year = int(m["year"]) if m["year"] else _year_for(month, day, as_of)
            try:
                add(m, (date(year, month, day), date(year, month, day)))
            except ValueError:
                pass
    for m in _MONTH_YEAR.finditer(text):
        month = _MONTHS[m["month"].lower()]
        if m["month"].lower() == "may" and not m["year"]:
            continue
        year = int(m["year"]) if m["year"] else _year_for(month, 1, as_of)
        add(m, _month_range(year, month))
    for m in _YEAR.finditer(text):
        year = int(m["year"])
        add(m, (date(year, 1, 1), date(year, 12, 31)))
    if as_of is not None:
        for m in _RELATIVE.finditer(text):
            add(m, _relative(m, as_of))
    if not ranges:
        return None, None, []
    return min(r[0] for r in ranges), max(r[1] for r in ranges), phrases


def understand(text: str, as_of: date | None = None, classify: Callable[[str], Intent] | None = None) -> Query:
    """The intent and dates of a (standalone) question. `as_of` is the reference date for
    relative dates and recency; without it relative phrases are ignored. `classify` gives the
    intent (the Library's `IntentDetector`); without one the question is taken as a factoid."""
    since, until, phrases = find_dates(text, as_of)
    intent = classify(text) if classify is not None else "factoid"
    return Query(text=text, intent=intent, since=since, until=until, as_of=as_of, dates=phrases)
