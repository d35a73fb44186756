"""Client/server: the same library code against a real `chroma run` server (CHROMA_HOST)."""

import pytest

from bench.common import chroma_server as running_chroma_server
from tests.support.library import CORPUS, SEED_ID, library_at
from rag.errors import StoreError
from rag.net import free_port


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    with running_chroma_server(tmp_path_factory.mktemp("chroma-server"), timeout_s=60) as port:
        yield port


def test_library_works_against_a_chroma_server(chroma_server, tmp_path):
    library = library_at(tmp_path / "data", chroma_host="127.0.0.1", chroma_port=chroma_server)
    assert not library.settings.chroma_path.exists()  # vectors live in the server, not the data dir
    library.add([CORPUS / f"{SEED_ID}.html"])
    assert library.retrieve("Who is the Kremlin spokesperson?", mode="dense")  # searched in the server
    answer = library.ask("Who is the Kremlin spokesperson?", retrieval="dense")
    assert "Peskov" in answer.citations[0].quote
    library.remove(SEED_ID)
    report = library.doctor(sample=0)
    assert report.ok and report.problems == []  # no chunk left in the server (it would be an orphan)


def test_an_unreachable_server_is_a_clear_store_error(tmp_path):
    with pytest.raises(StoreError, match=r"cannot open Chroma at 127\.0\.0\.1:\d+.*CHROMA_HOST"):
        library_at(tmp_path / "data", chroma_host="127.0.0.1", chroma_port=free_port())
