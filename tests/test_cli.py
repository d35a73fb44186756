"""The `rag` command as a user runs it: real subprocesses, exit codes, JSON contracts, offline."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.support.library import CORPUS, ROOT, SEED_ID

RAG = [sys.executable, "-m", "rag"]


def run(*args, data_dir, input=None, check=True, env=None, prefix=()):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")} | {"RAG_LLM": "none"} | (env or {})
    proc = subprocess.run([*prefix, *RAG, *args, "--data-dir", str(data_dir)], capture_output=True, text=True,
                          input=input, cwd=ROOT, env=full_env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def cli_data(tmp_path_factory):
    data = tmp_path_factory.mktemp("cli-data")
    src = tmp_path_factory.mktemp("cli-src")
    shutil.copy(CORPUS / f"{SEED_ID}.html", src)
    run("add", str(src), data_dir=data)
    return data


def test_add_reports_each_file_and_fails_only_the_bad_ones(tmp_path, cli_data):
    (tmp_path / "ok.txt").write_text("Harbour news\n\nThe harbour reopened after the storm on Sunday.\n")
    (tmp_path / "bad.jsonl").write_text('{"title": "A", "text": "Fine line."}\n{broken\n')
    (tmp_path / "blob.txt").write_bytes(b"\x00\x00")
    proc = run("add", str(tmp_path), "--json", data_dir=cli_data, check=False)
    assert proc.returncode == 1
    results = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(proc.stdout)}
    assert results["ok.txt"]["status"] == "added"
    assert results["bad.jsonl:1"]["status"] == "added"
    assert results["bad.jsonl:2"]["status"] == "failed" and "malformed JSON line" in results["bad.jsonl:2"]["reason"]
    assert results["blob.txt"] == {"path": str(tmp_path / "blob.txt"), "status": "failed", "article_id": None, "title": None,
                                   "reason": "binary file, not text"}
    human = run("add", str(tmp_path / "ok.txt"), data_dir=cli_data)
    assert human.stdout.startswith("unchanged") and "0 failed" in human.stdout


def test_ask_json_prints_the_contract_and_verbatim_quotes(cli_data):
    data = json.loads(run("ask", "Who is the Kremlin spokesperson?", "--json", data_dir=cli_data).stdout)
    assert data["mode"] == "extractive" and not data["abstained"]
    shown = json.loads(run("show", SEED_ID, "--json", data_dir=cli_data).stdout)
    assert set(shown) >= {"id", "title", "source", "url", "published", "sha256", "text"}
    for c in data["citations"]:
        assert shown["text"][c["start"]:c["end"]] == c["quote"]
    assert "Peskov" in data["citations"][0]["quote"]


def test_ask_prints_answer_and_numbered_sources(cli_data):
    out = run("ask", "What did Umerov deny?", data_dir=cli_data).stdout
    assert "denied he played any role" in out and "[1] Kremlin says U.S." in out and "The Washington Times, 2025-11-21" in out


def test_list_show_remove_and_errors(tmp_path, cli_data):
    data = tmp_path / "own"
    shutil.copytree(cli_data, data)
    listed = json.loads(run("list", "--json", data_dir=data).stdout)
    assert SEED_ID in [a["id"] for a in listed]
    missing = run("show", "no-such-article", data_dir=data, check=False)
    assert missing.returncode == 1 and missing.stderr.strip() == "error: no article with id 'no-such-article' (see `rag list`)"
    assert "removed " + SEED_ID in run("remove", SEED_ID, data_dir=data).stdout
    assert SEED_ID not in run("list", data_dir=data).stdout
    empty_q = run("ask", "  ", data_dir=data, check=False)
    assert empty_q.returncode == 1 and "error: the question is empty" in empty_q.stderr


def test_chat_answers_follow_ups_in_one_session(cli_data):
    out = run("chat", data_dir=cli_data, input="Who is the Kremlin spokesperson?\nWhat did he tell reporters?\n\n").stdout
    assert out.count("[1]") >= 2
    assert "(searched for: What did Dmitry Peskov tell reporters?)" in out
    assert "Mr. Peskov told reporters Friday." in out.split("searched for")[0]


def test_everything_works_with_no_network_at_all(tmp_path):
    """Run add + ask inside a network namespace with no interfaces but loopback (down)."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        pytest.skip("needs unshare -n (root)")
    data = tmp_path / "offline"
    home = tmp_path / "home"  # OpenVINO's telemetry, were it loaded, would write ~/intel and send an event
    home.mkdir()
    env = {"HOME": str(home), "RAG_EMBED_ENGINE": "auto"}
    run("add", str(CORPUS / f"{SEED_ID}.html"), data_dir=data, prefix=("unshare", "-n"), env=env)
    out = json.loads(run("ask", "Who is the Kremlin spokesperson?", "--json", data_dir=data, prefix=("unshare", "-n"), env=env).stdout)
    assert "Peskov" in out["citations"][0]["quote"]
    assert list(home.iterdir()) == []
