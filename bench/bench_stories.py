"""Stories speed: clustering all RealTimeQA docs, one article's assignment in a 10k library, and
the timeline of a 50-article story. Each time is printed with the model time it sits beside in
the same run (the machine is shared: ratios travel, seconds do not).

    python -m bench.bench_stories                 # all three
    python -m bench.bench_stories --skip-timeline # no indexing (the timeline needs sentence vectors)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bench.common import machine, rtqa_articles, write_result
from evals.stories_eval import ClusterRun
from rag.embeddings import make_embedder
from rag.settings import Settings
from rag.stories.cluster import Tuning, lead_text


def copies_for_size(articles, size: int):
    """The docs repeated under new ids, each round shifted 120 days (other stories, same text
    shape), until there are `size` of them."""
    out, round_ = [], 0
    while len(out) < size:
        for a in articles:
            if len(out) >= size:
                break
            published = a.published + timedelta(days=120 * round_) if a.published else None
            out.append(a.model_copy(update={"id": f"{a.id}-r{round_}", "published": published}) if round_ else a)
        round_ += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000, help="library size for the one-article assignment")
    parser.add_argument("--skip-timeline", action="store_true")
    parser.add_argument("--skip-large", action="store_true", help="no one-article assignment in a large library")
    args = parser.parse_args()
    embedder = make_embedder(Settings())
    docs = rtqa_articles()
    result = {"machine_before": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        run = ClusterRun(docs, Path(tmp) / "all", embedder)
        assigned, copies, seconds = run.run(Tuning())
        sizes = sorted((sum(1 for s in assigned.values() if s == sid) for sid in set(assigned.values())), reverse=True)
        result["cluster_all_docs"] = {"docs": len(docs), "seconds_beyond_embedding": round(seconds, 2),
                                      "lead_embedding_seconds": round(run.embed_seconds, 2),
                                      "ratio_to_embedding": round(seconds / max(run.embed_seconds, 1e-9), 3),
                                      "stories": len(set(assigned.values())), "largest": sizes[:10],
                                      "near_copies": len(copies), "target_s": 60}
        print(result["cluster_all_docs"], flush=True)

        if not args.skip_large:
            big = ClusterRun(copies_for_size(docs, args.size), Path(tmp) / "big", embedder)
            big.run(Tuning())
            one = docs[len(docs) // 2].model_copy(update={"id": "bench-new-article"})
            big.registry.write_pending(one, [], run.embed([]), [])
            big.registry.set_state([one.id], "ready")
            start = time.perf_counter()
            embed_before = big.embed_seconds
            big.book.sync(big.registry.articles, big.embed)
            total = time.perf_counter() - start
            t0 = time.perf_counter()
            embedder.embed_array([lead_text(one)])
            lead = time.perf_counter() - t0
            result["assign_one_in_large_library"] = {"library": args.size + 1, "seconds": round(total, 3),
                                                     "of_which_embedding": round(big.embed_seconds - embed_before, 3),
                                                     "ratio_to_one_lead_embedding": round(total / max(lead, 1e-9), 1),
                                                     "target_s": 1.0}
            print(result["assign_one_in_large_library"], flush=True)

        if not args.skip_timeline:
            from rag.library import Library

            # the largest story's articles, topped up from the next largest to 50 (no story here has 50)
            by_size = [sid for sid, _ in Counter(assigned.values()).most_common()]
            rank = {sid: i for i, sid in enumerate(by_size)}
            members = sorted((a for a in docs if a.id in assigned), key=lambda a: (rank[assigned[a.id]], a.id))[:50]
            library = Library(Settings(RAG_DATA_DIR=Path(tmp) / "lib", RAG_LLM="none"))
            library.add_articles(members)
            story = library.story_from([a.id for a in members])
            start = time.perf_counter()
            timeline = library.timeline(story)
            seconds = time.perf_counter() - start
            t0 = time.perf_counter()
            library.ask(story.title)
            ask = time.perf_counter() - t0
            result["timeline_of_a_story"] = {"articles": len(members), "entries": len(timeline.entries),
                                             "seconds": round(seconds, 3), "ratio_to_one_ask": round(seconds / ask, 2),
                                             "target_s": 2.0}
            print(result["timeline_of_a_story"], flush=True)
    result["machine_after"] = machine()
    write_result("stories", result)


if __name__ == "__main__":
    main()
