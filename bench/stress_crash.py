"""Crash safety: `rag add` killed with SIGKILL at random moments, and a full disk.

Each trial changes a few articles (so updates are interrupted too), starts `rag add DIR` as a
real process and kills it with SIGKILL either during start-up or after a random number of
articles have been written. The store is then inspected twice by an independent reader (plain
sqlite3, a fresh Chroma client, the chunk ids of the BM25 segments its manifest lists), once as the crash left it and once after a
restart and its repair (`Library.repair`, which a restarted process's first write runs):

- as left: every `ready` article has exactly its registry chunks in Chroma; no chunk in Chroma
  belongs to an article the registry does not hold;
- after restart: nothing `pending` or `deleting`; registry == Chroma == BM25 for every ready
  article; no orphan chunk anywhere; every span in bounds.

At the end the same `rag add` runs to completion and must report the right counts (added /
updated / unchanged against what the store held) with every article ready and current.

    python -m bench.stress_crash [--articles 200] [--kills 20] [--seed 0] [--disk-full]

`make stress` runs the long version; tests/test_crash.py runs a short one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PLACES = ["Arlen", "Brisk", "Corvo", "Delmar", "Elstow", "Fenwick", "Garrow", "Hollis", "Iveston", "Jorvik"]
THINGS = ["bridge", "library", "harbour", "rail line", "water plant", "school", "market", "stadium", "clinic", "tunnel"]
VERBS = ["opened", "closed", "repaired", "funded", "inspected", "expanded", "sold", "rebuilt"]
PEOPLE = ["Mayor Ada Kline", "Councillor Ben Ortiz", "Engineer Cy Moss", "Director Dee Lamb", "Minister Eli Park"]


def article_text(i: int, version: int, rng: random.Random) -> str:
    """A news-like article whose facts are unique to (i, version), 4-40 sentences long."""
    place = PLACES[i % len(PLACES)]
    lines = [f"{place} {THINGS[i % len(THINGS)]} story number {i} (version {version})"]
    lines.append(f"Published: 2025-{1 + i % 12:02d}-{1 + i % 28:02d}")
    lines.append("")
    for s in range(rng.randint(4, 40)):
        lines.append(
            f"{rng.choice(PEOPLE)} said the {rng.choice(THINGS)} in {place} was {rng.choice(VERBS)} "
            f"at a cost of {rng.randint(2, 900)} million on day {rng.randint(1, 365)} of project {i}-{version}-{s}."
        )
    return "\n".join(lines) + "\n"


def write_articles(folder: Path, n: int, seed: int) -> dict[int, int]:
    folder.mkdir(parents=True, exist_ok=True)
    versions = {}
    for i in range(n):
        versions[i] = 0
        (folder / f"story-{i:04d}.txt").write_text(article_text(i, 0, random.Random(seed * 100_003 + i)), encoding="utf-8")
    return versions


def mutate(folder: Path, versions: dict[int, int], count: int, rng: random.Random) -> None:
    for i in rng.sample(sorted(versions), count):
        versions[i] += 1
        (folder / f"story-{i:04d}.txt").write_text(article_text(i, versions[i], random.Random(rng.random())), encoding="utf-8")


def rag_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
    env.update(RAG_DATA_DIR=str(data_dir), RAG_LLM="none", PYTHONPATH=str(ROOT))
    return env


def rag(args: list[str], data_dir: Path, timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag", *args], cwd=ROOT, env=rag_env(data_dir),
                          capture_output=True, text=True, timeout=timeout)


# -- the independent inspector -----------------------------------------------------------------

_INSPECT = r"""
import json, sqlite3, sys
from pathlib import Path
import chromadb
import numpy as np
from chromadb.config import Settings


def inspect(data):
    if not (data / "registry.sqlite3").exists():  # killed before the library created anything
        return {"articles": {}, "chunks": {}, "chroma": {}, "bm25": None, "bad_spans": []}
    db = sqlite3.connect(data / "registry.sqlite3")

    def rows(sql):
        try:
            return db.execute(sql).fetchall()
        except sqlite3.OperationalError:  # killed before the schema was created
            return []

    articles = {r[0]: {"state": r[1], "len": r[2], "sha": r[3]} for r in rows("SELECT id, state, length(text), sha256 FROM articles")}
    chunks, bad_spans = {}, []
    for cid, aid, start, end in rows("SELECT id, article_id, start, end FROM chunks"):
        chunks.setdefault(aid, []).append(cid)
        if aid not in articles or not (0 <= start < end <= articles[aid]["len"]):
            bad_spans.append(cid)
    for aid, idx, start, end in rows("SELECT article_id, idx, start, end FROM sentences"):
        if aid not in articles or not (0 <= start < end <= articles[aid]["len"]):
            bad_spans.append(f"{aid}:sentence {idx}")
    db.close()
    chroma = {}
    client = chromadb.PersistentClient(path=str(data / "chroma"), settings=Settings(anonymized_telemetry=False))
    for col in client.list_collections():
        got = client.get_collection(col.name).get(include=["metadatas"])
        for cid, meta in zip(got["ids"], got["metadatas"]):
            chroma.setdefault(meta.get("article_id", ""), []).append(cid)
    manifest = data / "bm25" / "manifest.json"
    bm25 = None
    if manifest.exists():  # the segments it lists, in order, are the index (rag/store/bm25.py)
        bm25 = []
        for name in json.loads(manifest.read_text())["segments"]:
            with np.load(data / "bm25" / name, allow_pickle=False) as segment:
                bm25 += [str(c) for c in segment["chunk_ids"]]
    return {"articles": articles, "chunks": chunks, "chroma": chroma, "bm25": bm25, "bad_spans": bad_spans}


data = Path(sys.argv[1])
out = {"left": inspect(data)}
if "--restart" in sys.argv:
    # A restart and its repair (opening writes nothing; a write repairs first); then look again.
    from rag.library import Library
    from rag.settings import Settings as RagSettings
    Library(RagSettings(RAG_DATA_DIR=data, RAG_LLM="none")).repair()
    out["restarted"] = inspect(data)
print(json.dumps(out))
"""


def inspect(data_dir: Path, restart: bool = False) -> dict:
    """The store as an independent reader sees it; with `restart`, also after a Library opens and repairs it."""
    run = subprocess.run([sys.executable, "-c", _INSPECT, str(data_dir), *(["--restart"] if restart else [])],
                         cwd=ROOT, env=rag_env(data_dir), capture_output=True, text=True, timeout=1800)
    if run.returncode != 0:
        raise RuntimeError(f"inspector failed: {run.stderr[-2000:]}")
    out = json.loads(run.stdout)
    return out if restart else out["left"]


def violations(state: dict, after_restart: bool) -> list[str]:
    """What breaks the store's invariants (empty = consistent)."""
    out = [f"span out of bounds: {s}" for s in state["bad_spans"]]
    articles, chunks, chroma = state["articles"], state["chunks"], state["chroma"]
    ready = {a for a, v in articles.items() if v["state"] == "ready"}
    for aid in ready:
        if set(chunks.get(aid, [])) != set(chroma.get(aid, [])) or not chunks.get(aid):
            out.append(f"ready article {aid}: registry chunks {len(chunks.get(aid, []))} != Chroma {len(chroma.get(aid, []))}")
    for aid in chroma:
        if aid not in articles:
            out.append(f"orphan chunks in Chroma for unknown article {aid!r}: {len(chroma[aid])}")
    if after_restart:
        stuck = {a: v["state"] for a, v in articles.items() if v["state"] != "ready"}
        if stuck:
            out.append(f"left unrepaired: {stuck}")
        want = sorted(c for aid in ready for c in chunks.get(aid, []))
        if sorted(state["bm25"] or []) != want:  # no BM25 files is right only for no ready chunks
            have = set(state["bm25"] or [])
            out.append(f"BM25 != ready chunks ({len(have - set(want))} extra, {len(set(want) - have)} missing)")
        for aid in chroma:
            if aid in articles and set(chroma[aid]) != set(chunks.get(aid, [])):
                out.append(f"orphan chunks in Chroma for {aid}")
    return out


# -- trials --------------------------------------------------------------------------------------

def written_since(registry: Path, since_iso: str) -> int:
    try:
        db = sqlite3.connect(f"file:{registry}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT count(*) FROM articles WHERE updated_at >= ?", (since_iso,)).fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def kill_trial(folder: Path, data_dir: Path, work: int, rng: random.Random) -> dict:
    """Start `rag add`, SIGKILL it at a random moment; returns what happened."""
    from datetime import datetime, timezone

    since = datetime.now(timezone.utc).isoformat(timespec="seconds")
    proc = subprocess.Popen([sys.executable, "-m", "rag", "add", str(folder)], cwd=ROOT, env=rag_env(data_dir),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    start = time.monotonic()
    if rng.random() < 0.2 or work == 0:
        moment = f"start-up +{rng.uniform(0.2, 4.0):.2f}s"
        deadline = start + float(moment.split("+")[1][:-1])
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
    else:
        target = rng.randint(1, work)
        jitter = rng.uniform(0.0, 0.5)
        moment = f"after {target}/{work} articles written +{jitter:.2f}s"
        while proc.poll() is None and written_since(data_dir / "registry.sqlite3", since) < target:
            time.sleep(0.02)
        deadline = time.monotonic() + jitter
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
    finished = proc.poll() is not None
    if not finished:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    err = proc.stderr.read()
    return {"moment": moment, "killed": not finished, "rc": proc.returncode, "stderr": err[-2000:] if finished else ""}


def expected_counts(folder: Path, state: dict) -> dict[str, int]:
    from rag.ingest.files import iter_input_files, load_file

    counts = {"added": 0, "updated": 0, "unchanged": 0, "failed": 0}
    for path in iter_input_files([folder]):
        [item] = load_file(path, 10**8)
        have = state["articles"].get(item.article.id)
        counts["added" if have is None else "unchanged" if have["sha"] == item.article.sha256 else "updated"] += 1
    return counts


def pending_work(folder: Path, state: dict) -> int:
    counts = expected_counts(folder, state)
    return counts["added"] + counts["updated"] + sum(v["state"] != "ready" for v in state["articles"].values())


def run(articles: int, kills: int, seed: int, workdir: Path, mutate_each: int | None = None, log=print) -> dict:
    rng = random.Random(seed)
    folder, data_dir = workdir / "articles", workdir / "data"
    versions = write_articles(folder, articles, seed)
    mutate_each = max(1, articles // 20) if mutate_each is None else mutate_each
    stats = {"trials": 0, "killed": 0, "finished_before_kill": 0, "violations": [], "moments": []}
    state = {"articles": {}}
    for trial in range(kills):
        if trial:
            mutate(folder, versions, mutate_each, rng)
        work = pending_work(folder, state)
        outcome = kill_trial(folder, data_dir, work, rng)
        stats["trials"] += 1
        stats["killed"] += outcome["killed"]
        stats["finished_before_kill"] += not outcome["killed"]
        if not outcome["killed"] and outcome["rc"] != 0:
            stats["violations"].append(f"trial {trial}: rag add exited {outcome['rc']}: {outcome['stderr']}")
        seen = inspect(data_dir, restart=True)
        state = seen["restarted"]
        bad = violations(seen["left"], after_restart=False) + violations(state, after_restart=True)
        ready = sum(v["state"] == "ready" for v in state["articles"].values())
        log(f"trial {trial + 1}/{kills}: {'killed' if outcome['killed'] else 'finished'} {outcome['moment']}; "
            f"{ready} ready after restart; {len(bad)} violations")
        stats["moments"].append(outcome["moment"])
        stats["violations"] += [f"trial {trial}: {b}" for b in bad]
    want = expected_counts(folder, state)
    final = rag(["add", str(folder), "--json"], data_dir)
    if final.returncode != 0:
        stats["violations"].append(f"final add exited {final.returncode}: {final.stderr[-2000:]}")
        return stats
    results = json.loads(final.stdout)
    got = {s: sum(r["status"] == s for r in results) for s in want}
    end = inspect(data_dir)
    stats["final_counts"], stats["expected_counts"] = got, want
    if got != want:
        stats["violations"].append(f"final add counts {got} != expected {want}")
    stats["violations"] += [f"final: {b}" for b in violations(end, after_restart=True)]
    current = expected_counts(folder, end)
    if current["unchanged"] != articles:
        stats["violations"].append(f"after the final add only {current['unchanged']} of {articles} articles are current")
    stats["articles_ready"] = sum(v["state"] == "ready" for v in end["articles"].values())
    stats["data_lost"] = articles - current["unchanged"]
    return stats


class CannotMount(RuntimeError):
    """No size-limited filesystem here (mounting needs root and CAP_SYS_ADMIN)."""


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("error:", "warning:"))]


# -- a full disk -----------------------------------------------------------------------------------

def disk_full(workdir: Path, articles: int = 40, size_kb: int = 6144, repeat: int = 12, seed: int = 0, log=print) -> dict:
    """`rag add` into a data dir on a tmpfs too small for it (needs root to mount), then grow the
    tmpfs and finish: one clear error, a consistent store, and nothing lost after the retry."""
    folder, mount = workdir / "articles", workdir / "small"
    write_articles(folder, articles, seed)
    # Long articles (each text repeated) so a few fill the filesystem.
    for path in sorted(folder.iterdir()):
        path.write_text(path.read_text() * repeat, encoding="utf-8")
    mount.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        raise CannotMount(f"cannot mount a tmpfs at {mount}: {mounted.stderr.strip()}")
    try:
        data_dir = mount / "data"
        first = rag(["add", str(folder)], data_dir)
        log(f"disk full: rag add exited {first.returncode}: {error_lines(first.stderr)}")
        while_full = rag(["list"], data_dir)
        log(f"disk full: rag list exited {while_full.returncode}: {error_lines(while_full.stderr)}")
        # Grown before looking: Chroma cannot even open on a full disk; growing changes no data.
        subprocess.run(["mount", "-o", "remount,size=512m", str(mount)], check=True)
        seen = inspect(data_dir, restart=True)
        bad = violations(seen["left"], after_restart=False) + violations(seen["restarted"], after_restart=True)
        again = rag(["add", str(folder), "--json"], data_dir)
        end = inspect(data_dir)
        bad += violations(end, after_restart=True)
        current = expected_counts(folder, end)["unchanged"]
        for name, run_ in (("add", first), ("list", while_full)):
            if "Traceback" in run_.stderr:
                bad.append(f"rag {name} on a full disk printed a traceback: {run_.stderr[-1500:]}")
        return {"first_rc": first.returncode, "first_error": error_lines(first.stderr), "list_rc": while_full.returncode,
                "list_error": error_lines(while_full.stderr), "retry_rc": again.returncode,
                "violations": bad, "current": current, "articles": articles,
                "ready_after_error": sum(v["state"] == "ready" for v in seen["left"]["articles"].values())}
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--disk-full", action="store_true", help="also the full-disk trial (needs root for mount)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        stats = run(args.articles, args.kills, args.seed, Path(tmp) / "kill")
        print(json.dumps({k: v for k, v in stats.items() if k != "moments"}, indent=2))
        print(f"{stats['trials']} trials, {stats['killed']} SIGKILLs, {len(stats['violations'])} violations, "
              f"data lost {stats.get('data_lost')}, {time.monotonic() - t0:.0f} s")
        failed = bool(stats["violations"]) or stats.get("data_lost") != 0
        if args.disk_full:
            full = disk_full(Path(tmp) / "full", seed=args.seed)
            print(json.dumps(full, indent=2))
            failed |= bool(full["violations"]) or full["current"] != full["articles"] or full["first_rc"] == 0
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
