"""The Gradio app's layout: the tabs, their components, and which handler each event calls."""

from __future__ import annotations

import gradio as gr

from ui import render, stories
from ui.handlers import INSTALL_HINT, ChatSession, Handlers, default_mode

UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".pdf"]
FEED_INTERVALS = ["15m", "30m", "1h", "6h", "1d"]
FEEDS_SHOWN_EVERY_S = 10  # how often an open Add tab re-reads the feeds' last results
CHAT_CONCURRENCY = 4  # sessions answered at once; the rest wait in Gradio's queue
LOCAL_LABEL = "Local model (Qwen2.5 1.5B, offline)"


def build_app(library, watcher=None, local=None) -> gr.Blocks:
    """The whole UI as a `gr.Blocks`, bound to `library` (and a `WatchThread` from `rag ui --watch`,
    and the bundled model's `BackgroundServer` when it is installed)."""
    h = Handlers(library, local)
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
            stories.build_tab(library)  # the Stories tab: ui/stories.py

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
    mode = gr.Radio(choices, value=default_mode(library, local_available), label="Answer mode",
                    elem_id="mode")
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
    gr.HTML(f'<div class="models">LLM: {llm}<br>Embeddings: {render.esc(library.embedding_engine())}</div>',
            js_on_load=None)
    return mode, k, since, until, as_of
