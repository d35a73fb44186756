"""The UI as `rag serve` mounts it (at /, beside /v1 and /mcp) passes the browser tests `rag ui` passes.

These run chosen tests of tests/test_ui_chat.py against the `rag serve` server; set RAG_TEST_UI=serve
to run every browser test that way (the `ui_server` fixture then starts `rag serve`)."""

from __future__ import annotations

import pytest

from tests.test_ui_chat import test_answers_stream_in_before_they_are_final as _streams
from tests.test_ui_chat import test_cited_answer_highlights_the_cited_span as _cited
from tests.test_ui_chat import test_follow_up_uses_the_conversation_and_markers_select_their_turn as _follow_up
from tests.test_ui_chat import test_no_request_leaves_localhost as _stays_local

pytestmark = pytest.mark.browser


def test_cited_answer_highlights_the_cited_span_under_serve(serve_server, ui_library, open_page):
    _cited(serve_server, ui_library, open_page)


def test_follow_up_under_serve(serve_server, ui_library, open_page):
    _follow_up(serve_server, ui_library, open_page)


def test_answers_stream_in_under_serve(serve_server, open_page):
    _streams(serve_server, open_page)


def test_no_request_leaves_localhost_under_serve(serve_server, open_page):
    _stays_local(serve_server, open_page)
