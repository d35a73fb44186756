"""Dates a sentence states, resolved against its article's publication date.

Regexes for the forms news text uses ("Jan. 5", "January 5, 2024", "5 January", "2024-01-05",
"on Monday", "yesterday", "today"); a date without a year takes the year that puts it nearest the
publication date, and a weekday is the latest such day on or before publication (news writes
"on Tuesday" for this week's Tuesday, including the day it appears).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}

_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>(?:19|20)\d{{2}}))?", re.I)
_DAY_MONTH = re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+(?P<year>(?:19|20)\d{{2}}))?\b", re.I)
_ISO = re.compile(r"\b(?P<year>(?:19|20)\d{2})-(?P<m>\d{2})-(?P<day>\d{2})\b")
_WEEKDAY = re.compile(r"\b(?P<last>last\s+)?(?P<weekday>" + "|".join(d.capitalize() for d in _DAYS) + r")\b")
_RELATIVE = re.compile(r"\b(?P<rel>yesterday|today|tonight|this morning|this afternoon|last night|earlier today)\b", re.I)
# "May" is a month only with a day next to it (the regexes above require one); as a word it is a verb.


@dataclass(frozen=True)
class Mention:
    """A date stated at text[start:end]."""

    day: date
    start: int
    end: int


def _nearest_year(month: int, day: int, published: date) -> date | None:
    best = None
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            value = date(year, month, day)
        except ValueError:
            continue
        if best is None or abs((value - published).days) < abs((best - published).days):
            best = value
    return best


def mentions(text: str, published: date | None) -> list[Mention]:
    """Every date `text` states, in order; relative forms need `published` (skipped without it)."""
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []

    def add(value: date | None, m: re.Match) -> None:
        if value is not None and not any(s < m.end() and m.start() < e for s, e in taken):
            found.append(Mention(value, m.start(), m.end()))
            taken.append((m.start(), m.end()))

    for m in _ISO.finditer(text):
        try:
            add(date(int(m["year"]), int(m["m"]), int(m["day"])), m)
        except ValueError:
            pass
    for pattern in (_MONTH_DAY, _DAY_MONTH):
        for m in pattern.finditer(text):
            month, day = _MONTHS[m["month"].lower().rstrip(".")], int(m["day"])
            if m["year"]:
                try:
                    add(date(int(m["year"]), month, day), m)
                except ValueError:
                    pass
            elif published is not None:
                add(_nearest_year(month, day, published), m)
    if published is not None:
        for m in _WEEKDAY.finditer(text):
            back = (published.weekday() - _DAYS[m["weekday"].lower()]) % 7
            add(published - timedelta(days=back + (7 if m["last"] and back == 0 else 0)), m)
        for m in _RELATIVE.finditer(text):
            rel = m["rel"].lower()
            add(published - timedelta(days=1 if rel in ("yesterday", "last night") else 0), m)
    return sorted(found, key=lambda x: x.start)
