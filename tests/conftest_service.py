"""Fixtures for the service tests: one live `rag serve` per session over its own data directory.

A pytest plugin (registered in tests/conftest.py); the plain helpers live in `tests.support.service`.
The data directory holds corpus/ (added by a `rag add` subprocess); the server runs in extractive
mode (no model), on a free loopback port, and is stopped by its PID. Tests that add articles
remove them again, so the corpus the server answers from is the shipped one whenever a test starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.service import OFFLINE, index_corpus
from tests.support.ui_server import start_server, stop_server


@pytest.fixture(scope="session")
def service_data(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("service-data")
    index_corpus(data_dir)
    return data_dir


@pytest.fixture(scope="session")
def serve_server(service_data, tmp_path_factory):
    """`rag serve` (UI, /v1, /mcp) over the corpus, no keys; `.url` ends with '/'."""
    server = start_server(service_data, tmp_path_factory.mktemp("serve-log") / "serve.log", env=OFFLINE,
                          command="serve")
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def api_base(serve_server) -> str:
    return serve_server.url.rstrip("/")
