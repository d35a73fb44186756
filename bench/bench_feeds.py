"""Refreshing a 50-entry feed from a local HTTP server: nothing changed, and 5 new entries.

Speed on a shared machine is noisy, so each time is also printed as a ratio to a baseline
measured in the same run: one plain httpx GET of the feed (for the unchanged refreshes) and
adding the same 5 pages from local files (for the refresh with new entries, which must fetch and
index them). Requests the server received are counted, to show what a refresh costs the site.

    python -m bench.bench_feeds [--entries 50] [--new 5] [--rounds 5] [--delay 0]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.support.news_site import NewsSite, handler  # (the same local news site the tests use)

from rag.library import Library
from rag.net import free_port
from rag.settings import Settings

TOWNS = ["Alder", "Brannock", "Kestrel", "Lund", "Vellan", "Wendel", "Hazel", "Marsh", "Edgeley", "Tarn"]
TOPICS = ["bridge repairs", "school budget", "harbour dredging", "bus timetable", "library hours",
          "market rules", "flood defences", "cycle lanes", "water prices", "park lighting"]


def page(n: int) -> tuple[str, str]:
    """A synthetic local-news page (generated; no real text) with numbers that make it unique."""
    town, topic = TOWNS[n % len(TOWNS)], TOPICS[(n // len(TOWNS)) % len(TOPICS)]
    title = f"{town} council settles dispute over {topic} (report {n})"
    body = "".join(
        f"<p>The {town} council voted {5 + n % 4} to {n % 3} on item {n}.{k} about {topic}, after a debate "
        f"that lasted {20 + (n * 7 + k) % 90} minutes and drew {n * 13 % 400 + k} residents to the town hall.</p>"
        for k in range(6))
    html = (f"<!doctype html><html><head><title>{title}</title><meta property=\"og:site_name\" content=\"Bench Gazette\">"
            f"<meta property=\"article:published_time\" content=\"2025-11-{1 + n % 28:02d}\"></head>"
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")
    return title, html


def feed_xml(base: str, count: int) -> str:
    items = "".join(f"<item><title>{page(n)[0]}</title><link>{base}/p/{n}</link><guid>p{n}</guid>"
                    f"<pubDate>Mon, 03 Nov 2025 08:00:00 GMT</pubDate></item>" for n in range(count))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench Gazette</title>{items}</channel></rss>'


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--new", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.0, help="RAG_FETCH_DELAY for the run (per-host politeness)")
    args = parser.parse_args()

    site = NewsSite()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    total_pages = args.entries + args.new * (args.rounds + 1)
    for n in range(total_pages):
        site.set(f"/p/{n}", page(n)[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    count = args.entries
    feed_url = site.url("/feed.xml")

    def publish(n_entries: int, etag: bool = True) -> None:
        site.set("/feed.xml", feed_xml(site.base, n_entries), content_type="application/rss+xml",
                 etag=f'"{n_entries}"' if etag else None)

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(RAG_DATA_DIR=Path(tmp) / "data", RAG_LLM="none").with_overrides(
            fetch_allow_private=True, fetch_delay_s=args.delay)
        library = Library(settings)
        publish(count)
        t0 = time.perf_counter()
        first = library.feeds.add(feed_url, "30m")
        initial_s = time.perf_counter() - t0
        assert first.summary() == f"{count} added, 0 updated, 0 unchanged, 0 failed", first.summary()

        baseline_get = []
        with httpx.Client() as client:
            for _ in range(args.rounds):
                t = time.perf_counter()
                client.get(feed_url).raise_for_status()
                baseline_get.append(time.perf_counter() - t)

        def refresh_times(expect: str) -> tuple[list[float], int]:
            times, requests = [], 0
            for _ in range(args.rounds):
                before = site.count()
                t = time.perf_counter()
                [result] = library.feeds.refresh([feed_url])
                times.append(time.perf_counter() - t)
                requests = site.count() - before
                assert result.summary().startswith(expect), result.summary()
            return times, requests

        not_modified, nm_requests = refresh_times("not modified")
        publish(count, etag=False)  # a server without validators: 200 with the same entries
        library.feeds.refresh([feed_url])
        same_200, same_requests = refresh_times("no new or changed entries")

        new_times, new_requests = [], 0
        for _ in range(args.rounds):
            publish(count + args.new)
            before = site.count()
            t = time.perf_counter()
            [result] = library.feeds.refresh([feed_url])
            new_times.append(time.perf_counter() - t)
            new_requests = site.count() - before
            assert result.summary() == f"{args.new} added, 0 updated, 0 unchanged, 0 failed", result.summary()
            count += args.new

        # Baseline for new entries: the same amount of indexing from local files (no HTTP).
        files_dir = Path(tmp) / "files"
        files_dir.mkdir()
        local_times = []
        for r in range(args.rounds):
            batch = []
            for k in range(args.new):
                path = files_dir / f"r{r}-{k}.html"
                path.write_text(page(total_pages + r * args.new + k)[1], encoding="utf-8")
                batch.append(path)
            t = time.perf_counter()
            results = library.add(batch)
            local_times.append(time.perf_counter() - t)
            assert all(x.status == "added" for x in results), results

    get_ms = median_ms(baseline_get)
    local_ms = median_ms(local_times)
    print(f"feed of {args.entries} entries on 127.0.0.1, RAG_FETCH_DELAY={args.delay:g}, {args.rounds} rounds (median)")
    print(f"| case | time (ms) | ratio to baseline | requests to the site |")
    print(f"|---|---|---|---|")
    print(f"| first refresh: {args.entries} new entries | {initial_s * 1000:.0f} | - | {args.entries + 2} |")
    print(f"| nothing changed (304 to the conditional GET) | {median_ms(not_modified):.1f} | "
          f"{median_ms(not_modified) / get_ms:.1f}x one plain GET ({get_ms:.1f} ms) | {nm_requests} |")
    print(f"| nothing changed, server without ETag/Last-Modified (200) | {median_ms(same_200):.1f} | "
          f"{median_ms(same_200) / get_ms:.1f}x one plain GET | {same_requests} |")
    print(f"| {args.new} new entries | {median_ms(new_times):.0f} | {median_ms(new_times) / local_ms:.2f}x adding the same "
          f"{args.new} pages from files ({local_ms:.0f} ms) | {new_requests} |")
    server.shutdown()


if __name__ == "__main__":
    main()
