"""Stories under /v1: the list, a story's timeline, what changed since a date. Each returns what
`rag stories --json`, `rag timeline --json` and `rag changes --json` print (the same `Library`
calls and the same `to_json_dict`); the response models only describe that object for /docs."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Path, Query, Request

from rag.errors import InputError
from rag.stories.reader import StoryNotFound
from service.schemas import MAX_QUESTION_CHARS, ChangesOut, StoriesOut, TimelineOut

router = APIRouter(prefix="/v1")
STORY_ID = Path(min_length=1, max_length=200, description="A story id, as GET /v1/stories gives it.")


def _in_order(since: date | None, until: date | None) -> None:
    if since and until and since > until:
        raise InputError(f"since {since} is after until {until}")


def story_by_id(library, story_id: str):
    """The story with exactly this id (`Library.story` also reads words as a query: a path names an id)."""
    try:
        story = library.story(story_id)
    except StoryNotFound:
        story = None
    if story is None or story.id != story_id:
        raise StoryNotFound(f"no story with id {story_id!r} (see GET /v1/stories)")
    return story


@router.get("/stories", response_model=StoriesOut, response_model_exclude_unset=True,
            summary="Stories, newest first (as `rag stories --json`)")
def list_stories(request: Request, since: date | None = Query(None, description="Only stories with an article "
                                                                                 "published on or after (YYYY-MM-DD).")):
    return {"stories": [s.to_json_dict() for s in request.app.state.library.stories(since)]}


@router.get("/stories/{story_id}/timeline", response_model=TimelineOut, response_model_exclude_unset=True,
            summary="A story's dated timeline and its disagreements, every line cited (as `rag timeline --json`)")
def story_timeline(request: Request, story_id: str = STORY_ID,
                   since: date | None = Query(None, description="Only entries dated on or after (YYYY-MM-DD)."),
                   until: date | None = Query(None, description="Only entries dated on or before (YYYY-MM-DD).")):
    _in_order(since, until)
    library = request.app.state.library
    return library.timeline(story_by_id(library, story_id), since, until).to_json_dict()


@router.get("/changes", response_model=ChangesOut, response_model_exclude_unset=True,
            summary="What a story's articles published since a date add (as `rag changes --json`)")
def story_changes(request: Request,
                  story: str = Query(min_length=1, max_length=MAX_QUESTION_CHARS,
                                     description="A story id, or words that name the story."),
                  since: date = Query(description="Show what articles published on or after this date add.")):
    return request.app.state.library.changes(story, since).to_json_dict()
