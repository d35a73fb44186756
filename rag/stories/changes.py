"""What changed in a story since a date: new facts, updated numbers, revised pages.

- new: a sentence of an article published on or after the cutoff that no earlier article of the
  story says (its best cosine to every earlier sentence is below NEW_BELOW);
- updated: a count an independent earlier source gave, and a different later one
  ("X (source, date) -> Y (source, date)"); the earlier value is the only citation from before the
  cutoff, marked `before`;
- revised: an article re-fetched with changed text; the sentences added and removed, aligned with
  rapidfuzz.

Only articles published on or after the cutoff are cited (besides `before` citations).
Constants: `python -m evals.stories_eval fit`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from rapidfuzz import fuzz, process

from rag.verify.citations import make_citation
from rag.models import Article
from rag.stories.cluster import source_of
from rag.stories.disagree import number_pairs
from rag.stories.material import Line, Material
from rag.stories.models import ChangeBullet, ChangeCitation, Changes
from rag.text import split_sentences

# A sentence is new when no earlier sentence of the story is this similar; new sentences taken per
# article (from its top: news puts the news first) and per answer. Fitted on the stories dev split
# (gold new facts covered 0.39 at 0.85/5/20 vs 0.22 at 0.75/3/12; every sentence: 0.61 but a
# third of the bullets' precision): `python -m evals.stories_eval fit`.
NEW_BELOW = 0.85
PER_ARTICLE = 5
MAX_NEW = 20
REPEAT_COSINE = 0.85  # two new sentences this similar are one bullet
MIN_CHARS = 40  # shorter lines (datelines, captions, bylines) are not facts
SAME_SENTENCE = 90  # rapidfuzz ratio at which an old and a new sentence of a revised page are the same sentence


def _is_fact(line: Line) -> bool:
    text = line.text
    return len(text) >= MIN_CHARS and any(c.islower() for c in text) and text.rstrip()[-1:] in ".\"'”!?"


def new_lines(material: Material, since: date, threshold: float = NEW_BELOW) -> list[Line]:
    """Sentences published on or after `since` that nothing earlier in the story says, in order."""

    before = [l for a in material.story.articles if a in material.articles
              and (material.articles[a].published or date.min) < since for l in material.lines.get(a, [])]
    old = np.stack([l.vector for l in before]) if before else None
    picked: list[Line] = []
    for article in sorted(material.originals(), key=lambda a: (a.published or date.min, a.id)):
        if article.published is None or article.published < since:
            continue
        taken = 0
        for line in material.lines.get(article.id, []):
            if taken >= PER_ARTICLE:
                break
            if not _is_fact(line):
                continue
            if old is not None and float((old @ line.vector).max()) >= threshold:
                continue
            if any(float(line.vector @ p.vector) >= REPEAT_COSINE for p in picked):
                continue
            picked.append(line)
            taken += 1
    return picked[:MAX_NEW]


def _cite(line: Line, before: bool = False) -> ChangeCitation:
    return ChangeCitation(citation=make_citation(0, line.article, line.start, line.end, 1.0), before=before)


def _label(line: Line) -> str:
    day = line.article.published.isoformat() if line.article.published else "undated"
    return f"{source_of(line.article)}, {day}"


def revised(article: Article, old: Article) -> ChangeBullet | None:
    """Sentences added to and removed from a page, aligned with rapidfuzz."""
    new_s = [(s.start, s.end) for s in split_sentences(article.text)]
    old_s = [old.text[s.start:s.end] for s in split_sentences(old.text)]
    new_texts = [article.text[s:e] for s, e in new_s]
    added = [(s, e) for (s, e), t in zip(new_s, new_texts)
             if not old_s or process.extractOne(t, old_s, scorer=fuzz.ratio)[1] < SAME_SENTENCE]
    removed = [t for t in old_s if not new_texts or process.extractOne(t, new_texts, scorer=fuzz.ratio)[1] < SAME_SENTENCE]
    if not added and not removed:
        return None
    citations = [ChangeCitation(citation=make_citation(0, article, s, e, 1.0)) for s, e in added]
    text = f"{article.title} was revised: {len(added)} sentence(s) added, {len(removed)} removed."
    return ChangeBullet(text=text, kind="revised", citations=citations, removed=removed)


def build(material: Material, since: date, versions: dict[str, list[Article]], threshold: float = NEW_BELOW) -> Changes:
    """The story's changes on or after `since`, updated numbers first, then new facts, then revisions."""
    bullets: list[ChangeBullet] = []
    _, updates = number_pairs(material)
    seen = set()
    for u in updates:
        later = u.b.article.published
        if later is None or later < since or (u.b.article.id, u.b.index) in seen:
            continue
        seen.add((u.b.article.id, u.b.index))
        earlier_before = (u.a.article.published or date.min) < since
        text = f"{u.ca.describe()} ({_label(u.a)}) → {u.cb.describe()} ({_label(u.b)})"
        bullets.append(ChangeBullet(text=text, kind="updated", citations=[_cite(u.a, before=earlier_before), _cite(u.b)]))
    updated_lines = {(u.b.article.id, u.b.index) for u in updates}
    for line in new_lines(material, since, threshold):
        if (line.article.id, line.index) not in updated_lines:
            bullets.append(ChangeBullet(text=line.text, kind="new", citations=[_cite(line)]))
    for article_id, olds in versions.items():
        article = material.articles.get(article_id)
        if article is None or not olds or article.published is None or article.published < since:
            continue
        bullet = revised(article, olds[-1])
        if bullet is not None:
            bullets.append(bullet)
    return Changes(since=since, story=material.story, bullets=_numbered(bullets))


def _numbered(bullets: list[ChangeBullet]) -> list[ChangeBullet]:
    n = 0
    for bullet in bullets:
        for c in bullet.citations:
            n += 1
            c.citation = c.citation.model_copy(update={"n": n})
    return bullets
