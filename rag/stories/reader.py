"""What `Library` offers about stories: the list, one story, its timeline and its changes.

Reads first bring the stories in step with the articles (another process may have added or
removed some, or an import bypassed the add path); that check costs two indexed queries.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime

from rag.errors import InputError
from rag.models import Article
from rag.stories import changes as changes_mod
from rag.stories import disagree, material, timeline
from rag.stories.book import StoryBook
from rag.stories.models import Changes, Story, Timeline

_QUERY_CHUNKS = 10  # chunks retrieved to find the story a query names; each votes 1/rank for its story


class StoryNotFound(InputError):
    """No story matches the id or query given."""


class StoryReader:
    def __init__(self, book: StoryBook, registry, embed: Callable, writing: Callable[[], AbstractContextManager],
                 retrieve: Callable[[str, int], list]):
        self.book = book
        self._registry = registry
        self._embed = embed
        self._writing = writing
        self._retrieve = retrieve

    def assign(self, previous: dict[str, Article] | None = None) -> int:
        """Assign newly indexed articles (the caller holds the write lock)."""
        return self.book.sync(self._registry.articles, self._embed, previous)

    def catch_up(self) -> None:
        gone, new = self.book.out_of_step()
        if gone or new:
            with self._writing():
                self.assign()

    def stories(self, since: date | None = None) -> list[Story]:
        self.catch_up()
        return self.book.stories(since)

    def find(self, query_or_id: str | Story) -> Story:
        """A given Story as it is; The story with this id, else the one the query's best-matching chunks belong to (votes
        of the chunks that share words with the query, 1/rank each)."""
        if isinstance(query_or_id, Story):
            return query_or_id
        self.catch_up()
        story = self.book.story(query_or_id.strip())
        if story is not None:
            return story
        if not query_or_id.strip():
            raise StoryNotFound("give a story id (see `rag stories`) or words that name the story")
        votes: dict[str, float] = {}
        for rank, hit in enumerate(self._retrieve(query_or_id, _QUERY_CHUNKS)):
            if hit.bm25_rank is None:
                continue  # the dense list always has a nearest chunk; a story must share the query's words
            sid = self.book.story_of(hit.article_id)
            if sid:
                votes[sid] = votes.get(sid, 0.0) + 1.0 / (rank + 1)
        if not votes:
            raise StoryNotFound(f"no story matches {query_or_id!r} (see `rag stories`)")
        return self.book.story(max(votes, key=votes.get))

    def story_from(self, article_ids: list[str]) -> Story:
        self.catch_up()
        story = self.book.story_from(article_ids)
        if story is None:
            raise StoryNotFound("none of these articles is in the library")
        return story

    def material(self, story: Story) -> material.Material:
        return material.load(story, self._registry)

    def timeline(self, query_or_id: str | Story, since: date | None = None, until: date | None = None) -> Timeline:
        read = material.load(self.find(query_or_id), self._registry)
        built = timeline.build(read, since, until)
        return timeline.numbered(built.model_copy(update={"disagreements": disagree.find(read, since, until)}))

    def changes(self, query_or_id: str | Story, since: date) -> Changes:
        story = self.find(query_or_id)
        read = material.load(story, self._registry)
        return changes_mod.build(read, since, {a: self.book.versions(a) for a in story.articles})

    def visit(self, story_id: str) -> datetime | None:
        if self.book.story(story_id) is None:
            raise StoryNotFound(f"no story with id {story_id!r} (see `rag stories`)")
        return self.book.visit(story_id)
