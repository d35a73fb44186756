"""Validate the hand-labelled stories gold in evals/stories/ against the articles it cites.

Invariant checked everywhere: every cited quote equals ``text[start:end]`` of its article.
Also: every labelled id exists, splits are set, each story has at least 6 members and either
3 outlets (the url's host) or an ``outlet_shortfall`` saying why the data has no more.

Usage: ``python evals/stories/check_gold.py ../shared/datasets/realtimeqa/gcs_2024Q1_docs.jsonl``
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlparse

GOLD = Path(__file__).resolve().parent
CORPUS = GOLD.parents[1] / "corpus"
MIN_MEMBERS = 6  # issue 20: "at least 8 stories of at least 6 articles each"
MIN_OUTLETS = 3  # issue 20: "from at least 3 outlets"
SPLITS = {"dev", "test"}
DISAGREEMENT_LABELS = {"disagree", "update", "same", "different_thing"}


def outlet(url: str) -> str:
    """The outlet of an article: its url's host without ``www.``."""
    return urlparse(url).netloc.lower().removeprefix("www.")


def load_docs(path: Path) -> dict[str, dict]:
    """The dataset's articles by doc_id."""
    with path.open(encoding="utf-8") as f:
        return {d["doc_id"]: d for d in map(json.loads, f)}


def corpus_ids(corpus: Path = CORPUS) -> set[str]:
    """Article ids in corpus/: a file's stem, or each line's ``id`` in a .jsonl file."""
    ids: set[str] = set()
    for p in corpus.iterdir():
        if p.name.lower().startswith("readme"):
            continue
        if p.suffix == ".jsonl":
            ids.update(json.loads(line)["id"] for line in p.read_text(encoding="utf-8").splitlines() if line.strip())
        else:
            ids.add(p.stem)
    return ids


def read_jsonl(name: str) -> list[dict]:
    """The rows of one gold file; a file not written yet has none."""
    path = GOLD / name
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cited_spans(rows: Iterable[dict], file: str) -> Iterator[tuple[str, str, dict]]:
    """(story_id, where, cited span) for every span a gold file cites."""
    for row in rows:
        sid = row["story_id"]
        where = f"{file} {sid}"
        if file == "timelines.jsonl":
            for s in row["support"]:
                yield sid, f"{where} {row['date']}", s
        elif file == "changes.jsonl":
            for fact in row["new_facts"]:
                for s in fact["support"]:
                    yield sid, f"{where} '{fact['fact'][:40]}'", s
        else:
            yield sid, f"{where} a", row["a"]
            yield sid, f"{where} b", row["b"]


def check(docs: dict[str, dict]) -> list[str]:
    """Every problem found in the gold files, as one line each (empty when the gold is sound)."""
    errors: list[str] = []
    stories = read_jsonl("stories.jsonl")
    by_id = {s["story_id"]: s for s in stories}
    if len(by_id) != len(stories):
        errors.append("stories.jsonl: duplicate story_id")
    corpus = corpus_ids()
    for s in stories:
        sid = s["story_id"]
        known = corpus if s.get("source") == "corpus" else docs
        if s.get("split") not in SPLITS:
            errors.append(f"{sid}: split {s.get('split')!r} is not dev or test")
        labelled = s["members"] + s["hard_negatives"] + s.get("ambiguous", []) + [i for p in s["near_copies"] for i in p]
        errors += [f"{sid}: unknown article {i}" for i in labelled if i not in known]
        if len(set(s["members"])) < MIN_MEMBERS:
            errors.append(f"{sid}: {len(set(s['members']))} members, fewer than {MIN_MEMBERS}")
        if overlap := set(s["members"]) & (set(s["hard_negatives"]) | set(s.get("ambiguous", []))):
            errors.append(f"{sid}: {sorted(overlap)} both member and negative/ambiguous")
        errors += [f"{sid}: near-copy {p} is not two members" for p in s["near_copies"] if len(p) != 2 or not set(p) <= set(s["members"])]
        if s.get("source") != "corpus":
            outlets = {outlet(docs[i]["url"]) for i in s["members"] if i in docs}
            if len(outlets) < MIN_OUTLETS and not s.get("outlet_shortfall"):
                errors.append(f"{sid}: {len(outlets)} outlets and no outlet_shortfall reason")
    members = {}
    for s in stories:
        for i in s["members"]:
            if i in members:
                errors.append(f"{i} is a member of both {members[i]} and {s['story_id']}")
            members[i] = s["story_id"]

    timelines, changes, disagreements = (read_jsonl(n) for n in ("timelines.jsonl", "changes.jsonl", "disagreements.jsonl"))
    for row in timelines + changes + disagreements:
        if row["story_id"] not in by_id:
            errors.append(f"unknown story {row['story_id']}")
    for file, rows in (("timelines.jsonl", timelines), ("changes.jsonl", changes), ("disagreements.jsonl", disagreements)):
        for sid, where, s in cited_spans(rows, file):
            doc = docs.get(s["doc_id"])
            if doc is None:
                errors.append(f"{where}: unknown article {s['doc_id']}")
            elif doc.get("text", "")[s["start"] : s["end"]] != s["quote"]:
                errors.append(f"{where}: quote != text[{s['start']}:{s['end']}] of {s['doc_id']}")
            elif members.get(s["doc_id"]) != sid:
                errors.append(f"{where}: {s['doc_id']} is not a member of the story")
    for row in timelines:
        if len(row["date"]) != 10 or not row["support"]:
            errors.append(f"timelines.jsonl {row['story_id']}: bad date or no support")
    for row in changes:
        cutoff = row["cutoff"]
        for fact in row["new_facts"]:
            for s in fact["support"]:
                published = str(docs.get(s["doc_id"], {}).get("publish_date", "")).replace("/", "-")
                if published < cutoff:
                    errors.append(f"changes.jsonl {row['story_id']}: {s['doc_id']} published {published}, before the cutoff {cutoff}")
    for row in disagreements:
        if row["label"] not in DISAGREEMENT_LABELS:
            errors.append(f"disagreements.jsonl {row['story_id']}: label {row['label']!r}")
        if row["a"]["doc_id"] == row["b"]["doc_id"]:
            errors.append(f"disagreements.jsonl {row['story_id']}: a pair within one article")
    return errors


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    errors = check(load_docs(Path(argv[1])))
    for e in errors:
        print(e)
    stories = read_jsonl("stories.jsonl")
    print(f"{len(stories)} stories, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
