"""Client/server: the same library code against a real `chroma run` server (CHROMA_HOST)."""

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest_core import CORPUS, SEED_ID, library_at
from rag.errors import StoreError
from rag.llm.server import free_port


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("w")
    proc = subprocess.Popen([chroma, "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env=os.environ | {"ANONYMIZED_TELEMETRY": "False"})
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"chroma server did not start: {(path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
    yield port
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def test_library_works_against_a_chroma_server(chroma_server, tmp_path):
    library = library_at(tmp_path / "data", chroma_host="127.0.0.1", chroma_port=chroma_server)
    assert not library.settings.chroma_path.exists()  # vectors live in the server, not the data dir
    library.add([CORPUS / f"{SEED_ID}.html"])
    assert library.store.vectors.count() >= 2
    answer = library.ask("Who is the Kremlin spokesperson?", retrieval="dense")
    assert "Peskov" in answer.citations[0].quote
    library.remove(SEED_ID)
    assert library.store.vectors.count() == 0


def test_an_unreachable_server_is_a_clear_store_error(tmp_path):
    with pytest.raises(StoreError, match=r"cannot open Chroma at 127\.0\.0\.1:\d+.*CHROMA_HOST"):
        library_at(tmp_path / "data", chroma_host="127.0.0.1", chroma_port=free_port())
