"""Keys and exposure of `rag serve`: Bearer keys on /v1 and /mcp, an open /healthz, and no
listening beyond loopback without a key."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import openai
import pytest

from tests.support.service import OFFLINE, TEST_KEY
from tests.support.ui_server import ROOT, start_server, stop_server

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def keyed(service_data, tmp_path_factory):
    """`rag serve --no-ui` with one key from RAG_API_KEYS and another from --api-key-file."""
    key_file = tmp_path_factory.mktemp("keys") / "keys.txt"
    key_file.write_text("# the second key\nfile-key-0123456789abcdef\n")
    log = tmp_path_factory.mktemp("serve-keyed") / "serve.log"
    server = start_server(service_data, log, extra_args=["--no-ui", "--api-key-file", str(key_file)],
                          env={**OFFLINE, "RAG_API_KEYS": TEST_KEY}, command="serve", ready_path="healthz")
    yield server
    stop_server(server)
    assert TEST_KEY not in log.read_text()  # keys never reach the log


def test_missing_or_wrong_key_gets_401_with_a_challenge(keyed):
    base = keyed.url.rstrip("/")
    for headers in ({}, {"Authorization": "Bearer wrong-key-0123456789abcdef"}, {"Authorization": TEST_KEY}):
        for method, path in (("GET", "/v1/models"), ("POST", "/v1/ask"), ("POST", "/mcp"), ("GET", "/v1/stories"),
                             ("GET", "/v1/changes?story=peace&since=2025-11-01")):
            response = httpx.request(method, base + path, headers=headers, json={"question": "peace?"})
            assert response.status_code == 401, (path, headers, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["error"]["code"] == "invalid_api_key"
    assert httpx.get(base + "/healthz").json() == {"status": "ok"}


def test_either_key_opens_the_api(keyed):
    base = keyed.url.rstrip("/")
    for key in (TEST_KEY, "file-key-0123456789abcdef"):
        client = openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0)
        assert [m.id for m in client.models.list()] == ["newsground"]
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{base}/v1", api_key="nope-0123456789abcdef", max_retries=0).models.list()


@pytest.mark.parametrize("args, env, message", [
    (["--host", "0.0.0.0"], {}, "without an API key"),
    (["--host", "0.0.0.0"], {"RAG_API_KEYS": TEST_KEY}, "without a login"),
    ([], {"RAG_API_KEYS": "short"}, "at least 16 characters"),
])
def test_refuses_to_listen_beyond_loopback_unprotected(service_data, args, env, message):
    run = subprocess.run([sys.executable, "-m", "rag", "--data-dir", str(service_data), "serve", "--port", "9",
                          *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, **OFFLINE, **env})
    assert run.returncode == 1 and message in run.stderr, run.stderr[-2000:]
