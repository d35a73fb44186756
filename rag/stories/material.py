"""A story's text as the readers (timeline, changes, disagreements) use it: its articles and
their sentences with the vectors stored at indexing (no model runs when a story is read)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.models import Article
from rag.stories.models import Story


@dataclass
class Line:
    """One sentence of a story's article, with its stored unit vector."""

    article: Article
    index: int
    start: int
    end: int
    vector: np.ndarray

    @property
    def text(self) -> str:
        return self.article.text[self.start:self.end]


@dataclass
class Material:
    story: Story
    articles: dict[str, Article]  # every member, near-copies included
    lines: dict[str, list[Line]]  # article id -> its sentences, in order

    def originals(self) -> list[Article]:
        """Members that are not near-copies, oldest first."""
        return [self.articles[a] for a in self.story.articles if a not in self.story.copies and a in self.articles]

    def independent(self, a: str, b: str) -> bool:
        """Two texts, not near-copies of one (syndication, a republished release). Articles of one
        outlet count as independent: its reporters update and correct each other's figures."""
        return a != b and self.story.copies.get(a, a) != self.story.copies.get(b, b)


def load(story: Story, registry) -> Material:
    """The story's articles and sentences from the registry (its public reads only)."""
    articles = registry.articles(story.articles)
    lines: dict[str, list[Line]] = {}
    for article_id, article in articles.items():
        sentences, vectors = registry.sentences_with_vectors(article_id, 0, 1 << 30)
        lines[article_id] = [Line(article, s.index, s.start, s.end, v) for s, v in zip(sentences, vectors)]
    return Material(story, articles, lines)
