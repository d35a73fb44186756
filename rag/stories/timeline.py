"""A story's timeline: its key dates, each with 1-2 central sentences quoted verbatim.

DATEWISE (Gholipour Ghalandari & Ifrim 2020, "Examining the State-of-the-Art in News Timeline
Summarization"): rank dates by how many sentences mention them, then summarise each chosen date by
its most central sentences. Dates come from the text, resolved against each article's publication
date (`rag.stories.dates`); an article that states no date in its lead stands for its publication
date, with `date_source` "published". Near-copies are read once. Entries whose sentences repeat an
earlier entry's are merged into it. Constants: `python -m evals.stories_eval fit`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from rag.verify.citations import make_citation
from rag.stories.cluster import source_of
from rag.stories.dates import mentions
from rag.stories.material import Line, Material
from rag.stories.models import Timeline, TimelineEntry

# Dates kept: this many per original article, within [MIN_DATES, MAX_DATES] (fitted on the dev split).
DATES_PER_ARTICLE = 0.6
MIN_DATES = 3
MAX_DATES = 15
LEAD_SENTENCES = 2  # an article whose first sentences state no date stands for its publication date
PUBLISHED_WEIGHT = 0.5  # such a lead counts as this many mentions of the publication date
REPEAT_COSINE = 0.85  # entries whose sentences are this similar say the same thing: merged
SECOND_BELOW = 0.8  # a second sentence (another outlet's) joins an entry only when less similar than this
LOOKBACK_DAYS = 366  # dates stated this long before the story's first article are background, not events


@dataclass
class _Date:
    day: date
    weight: float = 0.0
    text_lines: list[Line] = field(default_factory=list)
    published_lines: list[Line] = field(default_factory=list)


def candidate_dates(material: Material) -> dict[date, _Date]:
    """Every date the story's original articles state (past their publication date excluded)."""
    out: dict[date, _Date] = {}
    first = material.story.first
    for article in material.originals():
        lines = material.lines.get(article.id, [])
        dated_lead = False
        for line in lines:
            days = {m.day for m in mentions(line.text, article.published)}
            for day in days:
                if article.published and day > article.published:
                    continue  # scheduled, not yet happened
                if first and (first - day).days > LOOKBACK_DAYS:
                    continue
                entry = out.setdefault(day, _Date(day))
                entry.weight += 1.0 / len(days)
                entry.text_lines.append(line)
                dated_lead = dated_lead or line.index < LEAD_SENTENCES
        if not dated_lead and article.published and lines:
            entry = out.setdefault(article.published, _Date(article.published))
            entry.weight += PUBLISHED_WEIGHT
            entry.published_lines.append(lines[0])
    return out


def dates_kept(originals: int, per_article: float = DATES_PER_ARTICLE) -> int:
    return int(min(MAX_DATES, max(MIN_DATES, round(per_article * originals))))


def rank_dates(dates: dict[date, _Date], originals: int, per_article: float = DATES_PER_ARTICLE) -> list[_Date]:
    """The top dates by mentions (ties: the date more articles mention), how many by story size."""
    keep = dates_kept(originals, per_article)
    ranked = sorted(dates.values(), key=lambda d: (-d.weight, -len({l.article.id for l in d.text_lines}), d.day))
    return ranked[:keep]


def _central(lines: list[Line]) -> list[tuple[Line, float]]:
    """Lines by centrality: mean cosine to the date's other lines (a lone line scores 1)."""
    if len(lines) == 1:
        return [(lines[0], 1.0)]
    vectors = np.stack([l.vector for l in lines])
    sims = vectors @ vectors.T
    scores = (sims.sum(axis=1) - 1.0) / (len(lines) - 1)
    order = np.argsort(-scores, kind="stable")
    return [(lines[i], float(scores[i])) for i in order]


def build(material: Material, since: date | None = None, until: date | None = None,
          per_article: float = DATES_PER_ARTICLE) -> Timeline:
    """The story's timeline, chronological, each entry cited verbatim."""
    chosen = rank_dates(candidate_dates(material), len(material.originals()), per_article)
    picked: list[tuple[_Date, list[tuple[Line, float]], str]] = []
    for d in sorted(chosen, key=lambda d: -d.weight):
        lines, source = (d.text_lines, "text") if d.text_lines else (d.published_lines, "published")
        ranked = _central(_unique(lines))
        best = ranked[0]
        sentences = [best]
        for line, value in ranked[1:]:
            if line.article.id != best[0].article.id and source_of(line.article) != source_of(best[0].article) \
                    and float(line.vector @ best[0].vector) < SECOND_BELOW and value > 0.5 * best[1]:
                sentences.append((line, value))
                break
        if any(_repeats(sentences, other) for _, other, _ in picked):
            continue
        picked.append((d, sentences, source))
    entries = []
    for d, sentences, source in sorted(picked, key=lambda p: p[0].day):
        if (since and d.day < since) or (until and d.day > until):
            continue
        citations = [make_citation(0, line.article, line.start, line.end, value) for line, value in sentences]
        entries.append(TimelineEntry(date=d.day, date_source=source, text=" ".join(l.text for l, _ in sentences),
                                     citations=citations))
    return Timeline(story=material.story, entries=entries)


def _unique(lines: list[Line]) -> list[Line]:
    seen, out = set(), []
    for line in lines:
        if (line.article.id, line.index) not in seen:
            seen.add((line.article.id, line.index))
            out.append(line)
    return out


def _repeats(a: list[tuple[Line, float]], b: list[tuple[Line, float]]) -> bool:
    return any(float(x.vector @ y.vector) >= REPEAT_COSINE for x, _ in a for y, _ in b)


def numbered(timeline: Timeline) -> Timeline:
    """Citations numbered 1.. across the timeline's entries, then its disagreements, in reading order."""
    n = 0
    for entry in timeline.entries:
        for i, citation in enumerate(entry.citations):
            n += 1
            entry.citations[i] = citation.model_copy(update={"n": n})
    for flag in timeline.disagreements:
        flag.a = flag.a.model_copy(update={"n": n + 1})
        flag.b = flag.b.model_copy(update={"n": n + 2})
        n += 2
    return timeline


def publication_baseline(material: Material) -> list[date]:
    """Baseline: the dates on which most of the story's articles were published."""
    counts: dict[date, int] = defaultdict(int)
    for article in material.originals():
        if article.published:
            counts[article.published] += 1
    return sorted(sorted(counts, key=lambda d: (-counts[d], d))[:dates_kept(len(material.originals()))])
