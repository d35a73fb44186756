"""The Stories tab: the list of stories (size, sources, what is new since the last visit), and a
story's timeline with its citations (each opens its article's paragraph with the span marked,
as the chat's sources do) and its disagreements side by side. A face: it calls only `Library`."""

from __future__ import annotations

import gradio as gr

from rag.errors import RagError
from rag.models import Citation
from ui import render

COLUMNS = ["Story", "Articles", "Sources", "First", "Last", "New"]


def story_rows(stories) -> list[list]:
    return [[s.title, s.size, len(s.sources), str(s.first or "-"), str(s.last or "-"),
             f"{len(s.new_articles)} new" if s.new_articles else ""] for s in stories]


def _citation(c: Citation, article, new: bool) -> str:
    badge = '<span class="new-badge">new</span> ' if new else ""
    label = render.esc(f"[{c.n}] {c.source or c.article_id}, {c.published or 'undated'}: {c.title}")
    return (f'<details class="story-citation" data-article="{render.esc(c.article_id)}" data-start="{c.start}" '
            f'data-end="{c.end}"><summary>{badge}{label}</summary>{render.highlighted_paragraph(c, article)}</details>')


def timeline_html(library, timeline, new_ids: set[str]) -> str:
    """Entries (date, text, citations) and the disagreements as two quotes side by side."""
    cited = {c.article_id for e in timeline.entries for c in e.citations}
    cited |= {c.article_id for d in timeline.disagreements for c in (d.a, d.b)}
    articles = {aid: library.article(aid) for aid in cited}
    story = timeline.story
    parts = [f'<div class="story-view"><h3>{render.esc(story.title)}</h3>'
             f'<div class="meta">{story.size} articles · sources: {render.esc(", ".join(story.sources))}</div>']
    if not timeline.entries:
        parts.append("<p>No dated events found in this story's articles.</p>")
    parts.append('<ol class="timeline">')
    for entry in timeline.entries:
        new = any(c.article_id in new_ids for c in entry.citations)
        how = "" if entry.date_source == "text" else ' <span class="date-source">(publication date)</span>'
        parts.append(f'<li class="entry{" new" if new else ""}"><div class="entry-date">{entry.date.isoformat()}{how}</div>'
                     f'<div class="entry-text">{render.esc(entry.text)}</div>'
                     + "".join(_citation(c, articles.get(c.article_id), c.article_id in new_ids) for c in entry.citations)
                     + "</li>")
    parts.append("</ol>")
    if timeline.disagreements:
        parts.append('<h4>Where sources disagree</h4>')
        for flag in timeline.disagreements:
            parts.append(f'<div class="disagreement"><div class="note">{render.esc(flag.note)}</div>'
                         f'<div class="sides"><div class="side">{_citation(flag.a, articles.get(flag.a.article_id), False)}</div>'
                         f'<div class="side">{_citation(flag.b, articles.get(flag.b.article_id), False)}</div></div></div>')
    parts.append("</div>")
    return "".join(parts)


class StoriesHandlers:
    def __init__(self, library):
        self.library = library

    def listing(self):
        stories = self.library.stories()
        if not stories:
            return gr.update(value=[], visible=False), "No stories yet: add articles first.", []
        return gr.update(value=story_rows(stories), visible=True), f"{len(stories)} stories", [s.id for s in stories]

    def open_story(self, ids: list[str], evt: gr.SelectData):
        """Show the selected story's timeline; what was added since the previous visit is marked."""
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not ids or row is None or row >= len(ids):
            return ""
        try:
            story = self.library.story(ids[row])
            previous = self.library.visit_story(story.id)
            new_ids = set(story.new_articles) if previous is not None else set()
            return timeline_html(self.library, self.library.timeline(story.id), new_ids)
        except RagError as exc:
            return render.error_message(str(exc))


def build_tab(library) -> None:
    """The Stories tab's components and events (call inside `gr.Tabs`)."""
    h = StoriesHandlers(library)
    with gr.Tab("Stories", id="stories") as tab:
        message = gr.Markdown(elem_id="stories-message")
        table = gr.Dataframe(headers=COLUMNS, datatype=["str", "number", "number", "str", "str", "str"],
                             interactive=False, wrap=True, elem_id="stories-table", visible=False,
                             column_widths=["52%", "9%", "9%", "11%", "11%", "8%"])
        ids = gr.State([])
        view = gr.HTML("", elem_id="story-view", js_on_load=None)
    tab.select(h.listing, outputs=[table, message, ids], concurrency_id="stories", concurrency_limit=1,
               show_progress="hidden")
    table.select(h.open_story, inputs=[ids], outputs=[view], concurrency_limit=1, show_progress_on=[view])
