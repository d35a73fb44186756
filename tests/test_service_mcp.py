"""MCP through the official `mcp` client: over streamable HTTP (`rag serve`'s /mcp) and over stdio
(a `rag mcp` subprocess). Every tool result must stand on its own in each channel a host may read:
`structuredContent` valid against the declared output schema, and a text block with every quote."""

from __future__ import annotations

import os
import sys

import anyio
import jsonschema
import pytest
from mcp import StdioServerParameters
from mcp.client import Client

from tests.support.service import OFFLINE
from tests.support.ui_server import CITED_QUESTION, ROOT

pytestmark = pytest.mark.server
READ_TOOLS = {"ask_news", "search_news", "get_article", "list_articles", "verify_quote", "list_stories",
              "story_timeline", "story_changes"}
SEED = "01-washtimes-2025-11-21-kremlin-peace-plan"


async def exercise(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == READ_TOOLS  # add_url only with --allow-writes
    assert all(t.annotations.read_only_hint and t.output_schema for t in tools.values())

    result = await client.call_tool("ask_news", {"question": CITED_QUESTION})
    assert not result.is_error
    jsonschema.validate(result.structured_content, tools["ask_news"].output_schema)
    citations = result.structured_content["citations"]
    assert citations
    text = result.content[0].text
    links = [block for block in result.content[1:] if block.type == "resource_link"]
    assert len(links) == len(citations)
    article = (await client.read_resource(f"newsground://articles/{citations[0]['article_id']}")).contents[0].text
    for citation, link in zip(citations, links):
        assert f"\u201c{citation['quote']}\u201d" in text and citation["article_id"] in text
        assert link.uri == f"newsground://articles/{citation['article_id']}/span/{citation['start']}-{citation['end']}"
        assert (await client.read_resource(link.uri)).contents[0].text == citation["quote"]
        assert article[citation["start"]:citation["end"]] == citation["quote"]
        checked = await client.call_tool("verify_quote", {"article_id": citation["article_id"], "quote": citation["quote"],
                                                          "start": citation["start"], "end": citation["end"]})
        assert checked.structured_content["verified"] is True

    found = await client.call_tool("search_news", {"query": "Kremlin spokesperson", "top_k": 2})
    jsonschema.validate(found.structured_content, tools["search_news"].output_schema)
    assert all(r["text"] in found.content[0].text for r in found.structured_content["results"])

    seed = (await client.read_resource(f"newsground://articles/{SEED}")).contents[0].text
    span = await client.call_tool("get_article", {"article_id": SEED, "start": 10, "end": 40})
    assert span.structured_content["text"] == seed[10:40] and span.structured_content["length"] == len(seed)

    listed = await client.call_tool("list_articles", {"limit": 2})
    jsonschema.validate(listed.structured_content, tools["list_articles"].output_schema)
    assert listed.structured_content["next_cursor"]

    stories = await client.call_tool("list_stories", {})
    jsonschema.validate(stories.structured_content, tools["list_stories"].output_schema)
    story = max(stories.structured_content["stories"], key=lambda s: len(s["articles"]))
    assert story["id"] in stories.content[0].text
    timeline = await client.call_tool("story_timeline", {"story_id": story["id"]})
    jsonschema.validate(timeline.structured_content, tools["story_timeline"].output_schema)
    cited = [c for e in timeline.structured_content["entries"] for c in e["citations"]]
    assert cited and all(f"\u201c{c['quote']}\u201d" in timeline.content[0].text for c in cited)
    for c in cited:
        uri = f"newsground://articles/{c['article_id']}/span/{c['start']}-{c['end']}"
        assert uri in {b.uri for b in timeline.content[1:]}
        assert (await client.read_resource(uri)).contents[0].text == c["quote"]
    changes = await client.call_tool("story_changes", {"story": story["id"], "since": story["last"]})
    jsonschema.validate(changes.structured_content, tools["story_changes"].output_schema)
    assert all(f"\u201c{c['quote']}\u201d" in changes.content[0].text
               for b in changes.structured_content["bullets"] for c in b["citations"])
    unknown = await client.call_tool("story_timeline", {"story_id": "s-0000000000"})
    assert unknown.is_error and "no story with id 's-0000000000'" in unknown.content[0].text

    missing = await client.call_tool("get_article", {"article_id": "no-such-article"})
    assert missing.is_error and "no article with id 'no-such-article'" in missing.content[0].text
    wrong = await client.call_tool("verify_quote", {"article_id": SEED, "quote": "words nobody wrote"})
    assert wrong.structured_content["verified"] is False


def test_mcp_over_streamable_http(api_base):
    async def run():
        async with Client(f"{api_base}/mcp") as client:
            await exercise(client)

    anyio.run(run)


def test_mcp_over_stdio(service_data):
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "rag", "--data-dir", str(service_data), "mcp"], cwd=str(ROOT),
        env={**{k: v for k, v in os.environ.items() if k.startswith(("HF_", "ORT_", "GRADIO_", "ANONYMIZED_"))},
             **OFFLINE})

    async def run():
        async with Client(params, read_timeout_seconds=300) as client:
            await exercise(client)

    anyio.run(run)
