"""Stories evaluation against the hand-labelled gold in evals/stories/ (written before any system
output was seen; dev and test split by story).

    python -m evals.stories_eval run --docs ../shared/datasets/realtimeqa/gcs_2024Q1_docs.jsonl --split dev
    python -m evals.stories_eval fit --docs ../shared/datasets/realtimeqa/gcs_2024Q1_docs.jsonl   # dev split only
    python -m evals.stories_eval copies --docs ...   # the near-copy threshold's evidence

Measures, each with a bootstrap interval over stories (macro over stories):
- clustering: BCubed precision/recall/F1 (Bagga & Baldwin 1998; Amigó et al. 2009) of the system's
  assignment of ALL RealTimeQA docs plus corpus/, scored on the gold stories' members (near-copy
  groups collapsed to one item) and their hard negatives (each its own gold cluster); baseline:
  headline word overlap; also the share of gold near-copy pairs the system collapsed;
- timelines on the gold members: Date-F1 against the gold event dates, vs the publication-count and
  recency baselines; the share of entries whose quotes verify; entry date accuracy (entries whose
  sentence is a gold support sentence: is the date the gold one);
- changes at the gold cutoff: bullets that are gold new facts (precision), gold facts covered, and
  citations before the cutoff (must be 0 besides `before`); baseline: lead sentences after the cutoff;
- disagreements: precision of the top 5 flags per story against the gold "disagree" pairs, flags
  between gold near-copies, updates told from disagreements on the gold pairs; baseline: number
  mismatch alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from evals.datasets import _host, _safe_date
from evals.metrics import bootstrap_ci
from rag.ingest.canonical import make_article, slugify
from rag.ingest.files import iter_inputs, load_file
from rag.models import Article
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "evals" / "stories"
CORPUS = ROOT / "corpus"
_WORD = re.compile(r"[a-z][a-z'-]{3,}")
_STOP = frozenset("that this with from have were will what when after their about more than into over says said "
                  "could would there been they them your just also year years news live update updates".split())


# -- data ------------------------------------------------------------------------------------------

def doc_id(raw: str) -> str:
    return slugify(raw, 120)


def load_docs(path: Path) -> list[Article]:
    """The RealTimeQA docs as articles (ids slugged as `rag add` slugs them; outlet from the URL)."""
    out = []
    with path.open() as fh:
        for line in fh:
            doc = json.loads(line)
            if doc.get("text", "").strip():
                out.append(make_article(id=doc["doc_id"], title=doc.get("title") or doc["doc_id"], text=doc["text"],
                                        source=_host(doc.get("url", "")), url=doc.get("url", ""),
                                        published=_safe_date(doc.get("publish_date"))))
    return out


def load_corpus() -> list[Article]:
    out = []
    for found in iter_inputs([CORPUS]):
        for loaded in load_file(found, 20_000_000) if isinstance(found, Path) else [found]:
            if loaded.article is not None:
                out.append(loaded.article)
    return out


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


@dataclass
class Gold:
    stories: list[dict]
    timelines: dict[str, list[dict]]
    changes: dict[str, dict]
    disagreements: dict[str, list[dict]]


def load_gold(folder: Path, split: str) -> Gold:
    stories = [s for s in _jsonl(folder / "stories.jsonl") if split == "all" or s["split"] == split]
    for s in stories:
        s["members"] = [doc_id(d) for d in s["members"]]
        s["hard_negatives"] = [doc_id(d) for d in s.get("hard_negatives", [])]
        s["near_copies"] = [[doc_id(d) for d in pair] for pair in s.get("near_copies", [])]
    wanted = {s["story_id"] for s in stories}
    timelines, disagreements = defaultdict(list), defaultdict(list)
    for row in _jsonl(folder / "timelines.jsonl"):
        if row["story_id"] in wanted:
            timelines[row["story_id"]].append(row)
    for row in _jsonl(folder / "disagreements.jsonl"):
        if row["story_id"] in wanted:
            disagreements[row["story_id"]].append(row)
    changes = {row["story_id"]: row for row in _jsonl(folder / "changes.jsonl") if row["story_id"] in wanted}
    return Gold(stories, timelines, changes, disagreements)


def locate(span: dict, articles: dict[str, Article]) -> tuple[str, int, int] | None:
    """A gold span in our canonical text: (article id, start, end), found by its quote (canonical
    text normalises whitespace, so raw offsets can shift)."""
    aid = doc_id(span["doc_id"])
    article = articles.get(aid)
    if article is None:
        return None
    quote = " ".join(span["quote"].split())
    at = article.text.find(quote)
    if at < 0:
        at = " ".join(article.text.split()).find(quote)  # rare: a line break inside the quote
        if at < 0:
            return None
        return aid, max(0, span.get("start", at) - 50), span.get("start", at) + len(quote) + 50
    return aid, at, at + len(quote)


def _overlaps(a: tuple[str, int, int] | None, aid: str, start: int, end: int) -> bool:
    return a is not None and a[0] == aid and a[1] < end and start < a[2]


def _ci(values: list[float]) -> dict:
    return {"mean": round(float(np.mean(values)), 3) if values else None, "ci95": bootstrap_ci(values) if len(values) > 1 else None,
            "stories": len(values)}


# -- clustering ------------------------------------------------------------------------------------

class ClusterRun:
    """All docs clustered by the stories code over a registry holding only the articles (no
    chunks: clustering reads headlines, leads, names and text, never the chunk index)."""

    def __init__(self, articles: list[Article], work: Path, embedder):
        from rag.store.registry import Registry
        from rag.stories.book import SCHEMA, StoryBook

        self._embedder = embedder
        self._cache = work / "lead_vectors.npz"  # lead vectors kept across runs: embedding is most of a run
        self._vectors: dict[str, np.ndarray] = {}
        if self._cache.exists():
            saved = np.load(self._cache)
            self._vectors = dict(zip(saved["keys"].tolist(), saved["vectors"]))
        self.embed_seconds = 0.0
        # The vectors' length, from the embedder itself (it loads the model before any timing).
        self.dim = embedder.embed_array(["dimension"]).shape[1]
        self.registry = Registry(Settings(RAG_DATA_DIR=work).registry_path, (SCHEMA,))
        have = self.registry.ready_ids()
        missing = [a for a in articles if a.id not in have]
        for article in missing:
            self.registry.write_pending(article, [], self.embed([]), [])
        self.registry.set_state([a.id for a in missing], "ready")
        self.book = StoryBook(self.registry)

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def embed(self, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if self._key(t) not in self._vectors]
        if todo:
            start = time.perf_counter()
            for text, vec in zip(todo, self._embedder.embed_array(todo)):
                self._vectors[self._key(text)] = vec
            self.embed_seconds += time.perf_counter() - start
            np.savez(self._cache, keys=np.array(list(self._vectors)), vectors=np.stack(list(self._vectors.values())))
        return np.stack([self._vectors[self._key(t)] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def run(self, tuning) -> tuple[dict[str, str], dict[str, str], float]:
        """(article -> story, near-copy -> original, seconds spent beyond embedding)."""
        self.book.reset()
        before = self.embed_seconds
        start = time.perf_counter()
        self.book.sync(self.registry.articles, self.embed, tuning=tuning)
        seconds = time.perf_counter() - start - (self.embed_seconds - before)
        assigned, copies = {}, {}
        for story in self.book.stories():
            for aid in story.articles:
                assigned[aid] = story.id
            copies.update(story.copies)
        return assigned, copies, seconds


def headline_baseline(articles: list[Article], threshold: float, window: int = 30) -> dict[str, str]:
    """Baseline: greedy single pass; an article joins the story of the earlier article (within the
    window) whose headline words overlap its own most (Jaccard >= threshold)."""
    words = {a.id: {w for w in _WORD.findall(a.title.lower()) if w not in _STOP} for a in articles}
    order = sorted(articles, key=lambda a: (a.published or date.min, a.id))
    assigned: dict[str, str] = {}
    seen: list[Article] = []
    for article in order:
        best, best_j = None, threshold
        mine = words[article.id]
        for other in reversed(seen):
            if article.published and other.published and (article.published - other.published).days > window:
                break
            theirs = words[other.id]
            union = len(mine | theirs)
            j = len(mine & theirs) / union if union else 0.0
            if j >= best_j:
                best, best_j = other, j
        assigned[article.id] = assigned[best.id] if best else article.id
        seen.append(article)
    return assigned


def bcubed(gold: Gold, assigned: dict[str, str]) -> dict:
    """BCubed P/R/F1 per story over its members (near-copy groups as one item) and its hard
    negatives, macro over stories with bootstrap intervals."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for story in gold.stories:
        for a, b in story["near_copies"]:
            parent[root(b)] = root(a)
    items: dict[str, str] = {}  # item -> gold label
    for story in gold.stories:
        for m in story["members"]:
            items[root(m)] = story["story_id"]
    for story in gold.stories:
        for n in story["hard_negatives"]:
            items.setdefault(root(n), "neg:" + n)
    sys_of = {i: assigned.get(i, "missing:" + i) for i in items}
    per_p, per_r, per_f = [], [], []
    for story in gold.stories:
        mine = [i for i, g in items.items() if g == story["story_id"]]
        ps, rs = [], []
        for i in mine:
            same_sys = [j for j in items if sys_of[j] == sys_of[i]]
            correct = sum(items[j] == items[i] for j in same_sys)
            ps.append(correct / len(same_sys))
            rs.append(correct / len(mine))
        p, r = float(np.mean(ps)), float(np.mean(rs))
        per_p.append(p)
        per_r.append(r)
        per_f.append(2 * p * r / (p + r) if p + r else 0.0)
    return {"precision": _ci(per_p), "recall": _ci(per_r), "f1": _ci(per_f)}


def copies_collapsed(gold: Gold, copies: dict[str, str]) -> dict:
    pairs = [p for s in gold.stories for p in s["near_copies"]]

    def original(x: str) -> str:
        return copies.get(x, x)

    hit = sum(original(a) == original(b) for a, b in pairs)
    return {"pairs": len(pairs), "collapsed": hit}


# -- timelines, changes, disagreements (on the gold members, in a small library) -------------------

def small_library(gold: Gold, docs: dict[str, Article], work: Path):
    """A library of the gold stories' members and hard negatives (cached in `work`)."""
    from rag.library import Library

    library = Library(Settings(RAG_DATA_DIR=work, RAG_LLM="none"))
    wanted = {a for s in gold.stories for a in s["members"] + s["hard_negatives"]}
    have = {s.id for s in library.articles()}
    todo = [docs[a] for a in sorted(wanted - have) if a in docs]
    if todo:
        print(f"indexing {len(todo)} articles into {work} ...", file=sys.stderr)
        library.add_articles(todo)
    return library


def date_f1(system: list[date], gold: list[date]) -> float:
    s, g = set(system), set(gold)
    if not s or not g:
        return 0.0
    p, r = len(s & g) / len(s), len(s & g) / len(g)
    return 2 * p * r / (p + r) if p + r else 0.0


def eval_timelines(library, gold: Gold, articles: dict[str, Article], per_article: float | None = None) -> dict:
    from rag.stories import timeline as timeline_mod

    f1s, pub, rec, verified, dated = [], [], [], [], []
    for story in gold.stories:
        rows = gold.timelines.get(story["story_id"], [])
        if not rows:
            continue
        gold_dates = sorted({date.fromisoformat(r["date"]) for r in rows})
        given = library.story_from([m for m in story["members"] if m in articles])
        read = library.story_material(given)
        built = library.timeline(given) if per_article is None else timeline_mod.build(read, per_article=per_article)
        f1s.append(date_f1([e.date for e in built.entries], gold_dates))
        baseline = timeline_mod.publication_baseline(read)
        pub.append(date_f1(baseline, gold_dates))
        days = sorted({a.published for a in read.originals() if a.published}, reverse=True)[:len(baseline)]
        rec.append(date_f1(days, gold_dates))
        ok = [library.article(c.article_id).text[c.start:c.end] == c.quote for e in built.entries for c in e.citations]
        verified.append(float(np.mean(ok)) if ok else 1.0)
        spans = [(locate(s, articles), date.fromisoformat(r["date"])) for r in rows for s in r["support"]]
        right = [any(_overlaps(span, c.article_id, c.start, c.end) and day == e.date for span, day in spans)
                 for e in built.entries for c in e.citations[:1]
                 if any(_overlaps(span, c.article_id, c.start, c.end) for span, _ in spans)]
        if right:
            dated.append(float(np.mean(right)))
    return {"date_f1": _ci(f1s), "baseline_publication_count": _ci(pub), "baseline_recency": _ci(rec),
            "entries_verified": _ci(verified), "entry_date_accuracy": _ci(dated)}


def _matches_fact(aid: str, start: int, end: int, quote: str, facts: list[list], texts: list[list[str]]) -> int | None:
    from rapidfuzz import fuzz

    for n, (spans, quotes) in enumerate(zip(facts, texts)):
        if any(_overlaps(s, aid, start, end) for s in spans) or any(fuzz.ratio(quote, q) >= 85 for q in quotes):
            return n
    return None


def eval_changes(library, gold: Gold, articles: dict[str, Article], threshold: float | None = None) -> dict:
    from rag.stories import changes as changes_mod

    precision, coverage, base_p, base_c, early = [], [], [], [], 0
    for story in gold.stories:
        row = gold.changes.get(story["story_id"])
        if not row or not row.get("new_facts"):
            continue
        cutoff = date.fromisoformat(row["cutoff"])
        facts = [[locate(s, articles) for s in f["support"]] for f in row["new_facts"]]
        texts = [[" ".join(s["quote"].split()) for s in f["support"]] for f in row["new_facts"]]
        given = library.story_from([m for m in story["members"] if m in articles])
        read = library.story_material(given)
        built = changes_mod.build(read, cutoff, {}, threshold) if threshold is not None else library.changes(given, cutoff)
        hits, covered = [], set()
        for bullet in built.bullets:
            cited = [c.citation for c in bullet.citations if not c.before]
            early += sum((library.article(c.article_id).published or date.min) < cutoff for c in cited)
            found = [_matches_fact(c.article_id, c.start, c.end, c.quote, facts, texts) for c in cited]
            hits.append(any(f is not None for f in found))
            covered |= {f for f in found if f is not None}
        precision.append(float(np.mean(hits)) if hits else 0.0)
        coverage.append(len(covered) / len(facts))
        leads = []
        for article in read.originals():
            if article.published and article.published >= cutoff:
                first = next((l for l in read.lines.get(article.id, []) if len(l.text) >= 40), None)
                if first:
                    leads.append(_matches_fact(article.id, first.start, first.end, first.text, facts, texts))
        base_p.append(float(np.mean([f is not None for f in leads])) if leads else 0.0)
        base_c.append(len({f for f in leads if f is not None}) / len(facts))
    return {"precision": _ci(precision), "coverage": _ci(coverage), "citations_before_cutoff": early,
            "baseline_leads_precision": _ci(base_p), "baseline_leads_coverage": _ci(base_c)}


def _line_at(read, span) -> object | None:
    if span is None:
        return None
    aid, start, end = span
    return next((l for l in read.lines.get(aid, []) if l.start < end and start < l.end), None)


def eval_disagreements(library, gold: Gold, articles: dict[str, Article]) -> dict:
    from rag.stories import disagree
    from rag.stories.numbers import claims_in

    precision, base_precision, told = [], [], []
    near_copy_flags = 0
    for story in gold.stories:
        pairs = gold.disagreements.get(story["story_id"], [])
        given = library.story_from([m for m in story["members"] if m in articles])
        read = library.story_material(given)
        located = [(locate(p["a"], articles), locate(p["b"], articles), p["label"]) for p in pairs]
        positives = [(a, b) for a, b, label in located if label == "disagree"]
        copies = {frozenset(p) for p in story["near_copies"]}

        def correct(ca, cb) -> bool:
            return any((_overlaps(a, ca.article_id, ca.start, ca.end) and _overlaps(b, cb.article_id, cb.start, cb.end))
                       or (_overlaps(b, ca.article_id, ca.start, ca.end) and _overlaps(a, cb.article_id, cb.start, cb.end))
                       for a, b in positives)

        flags = disagree.find(read)
        near_copy_flags += sum(frozenset((f.a.article_id, f.b.article_id)) in copies for f in flags)
        if flags:
            precision.append(float(np.mean([correct(f.a, f.b) for f in flags])))
        baseline = _number_mismatch(read, claims_in)[:disagree.TOP_FLAGS]
        if baseline:
            base_precision.append(float(np.mean([correct(a, b) for a, b in baseline])))
        for a, b, label in located:
            if label in ("disagree", "update"):
                la, lb = _line_at(read, a), _line_at(read, b)
                verdict = disagree.judge_lines(la, lb) if la and lb else None
                told.append(float(verdict == label))
    return {"precision_top5": _ci(precision), "near_copy_flags": near_copy_flags,
            "updates_told_from_disagreements": {"accuracy": round(float(np.mean(told)), 3) if told else None, "pairs": len(told)},
            "baseline_number_mismatch_precision_top5": _ci(base_precision)}


def _number_mismatch(read, claims_in) -> list:
    """Baseline: sentences of different articles whose numbers differ (nothing else checked)."""
    from rag.verify.citations import make_citation

    lines = [(l, {c.value for c in claims_in(l.text)}) for a in read.originals() for l in read.lines.get(a.id, [])]
    lines = [(l, v) for l, v in lines if v]
    out = []
    for i, (la, va) in enumerate(lines):
        for lb, vb in lines[i + 1:]:
            if la.article.id != lb.article.id and va != vb and float(la.vector @ lb.vector) >= 0.55:
                out.append((make_citation(0, la.article, la.start, la.end, 1.0), make_citation(0, lb.article, lb.start, lb.end, 1.0)))
    return out


# -- commands --------------------------------------------------------------------------------------

def _setup(args):
    from rag.embeddings import make_embedder

    gold = load_gold(Path(args.gold), args.split)
    if not gold.stories:
        sys.exit(f"no gold stories for split {args.split!r} in {args.gold} (merge the stories gold first)")
    docs = load_docs(Path(args.docs)) + load_corpus()
    articles = {a.id: a for a in docs}
    embedder = make_embedder(Settings())
    return gold, docs, articles, embedder


def run(args) -> dict:
    from rag.stories.cluster import Tuning

    gold, docs, articles, embedder = _setup(args)
    work = Path(args.work)
    clustering = ClusterRun(docs, work / "cluster", embedder)
    assigned, copies, seconds = clustering.run(Tuning())
    report = {
        "split": args.split, "stories": len(gold.stories), "docs": len(docs),
        "clustering": bcubed(gold, assigned) | {"near_copies": copies_collapsed(gold, copies),
                                                "seconds_beyond_embedding": round(seconds, 1),
                                                "embed_seconds": round(clustering.embed_seconds, 1)},
        "clustering_baseline_headline_overlap": bcubed(gold, headline_baseline(docs, args.headline_threshold)),
    }
    library = small_library(gold, articles, work / f"library-{args.split}")
    report["timelines"] = eval_timelines(library, gold, articles)
    report["changes"] = eval_changes(library, gold, articles)
    report["disagreements"] = eval_disagreements(library, gold, articles)
    return report


def fit(args) -> dict:
    """Grid search on the dev split only: assignment constants, the headline baseline's threshold,
    and the changes novelty threshold."""
    from rag.stories.cluster import Tuning

    args.split = "dev"
    gold, docs, articles, embedder = _setup(args)
    clustering = ClusterRun(docs, Path(args.work) / "cluster", embedder)
    results = []

    def trial(join: float, name_weight: float, window: int) -> dict:
        assigned, _, _ = clustering.run(Tuning(join, name_weight, window))
        scores = bcubed(gold, assigned)
        results.append({"join": join, "name_weight": name_weight, "window_days": window,
                        "p": scores["precision"]["mean"], "r": scores["recall"]["mean"], "f1": scores["f1"]["mean"]})
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
        return results[-1]

    def best() -> dict:
        ok = [r for r in results if r["p"] >= 0.9] or results  # the precision floor first
        return max(ok, key=lambda r: r["f1"])

    for join in args.joins:  # a staged grid: a run over all docs takes a minute on a loaded machine
        for name_weight in (0.2, 0.35, 0.5):
            trial(join, name_weight, 30)
    top = best()
    for window in (14, 60):
        trial(top["join"], top["name_weight"], window)
    headline = [(t, bcubed(gold, headline_baseline(docs, t))["f1"]["mean"]) for t in (0.15, 0.2, 0.25, 0.3, 0.4, 0.5)]
    library = small_library(gold, articles, Path(args.work) / "library-dev")
    novelty = [(t, eval_changes(library, gold, articles, t)) for t in (0.7, 0.75, 0.8, 0.85, 0.9)]
    dates = [(t, eval_timelines(library, gold, articles, t)["date_f1"]["mean"]) for t in (0.3, 0.45, 0.6, 0.8, 1.0)]
    return {"clustering_best": best(), "clustering_grid": results,
            "headline_baseline": headline, "timeline_dates_per_article": dates,
            "changes_new_below": [(t, r["precision"]["mean"], r["coverage"]["mean"]) for t, r in novelty]}


def fit_clustering(args) -> dict:
    """Grid search of the assignment constants on the dev split only (BCubed F1 with precision >= 0.9
    first), with the number of stories and the largest story of each run as a sanity check."""
    import itertools

    from rag.stories.cluster import Tuning

    args.split = "dev"
    gold, docs, articles, embedder = _setup(args)
    clustering = ClusterRun(docs, Path(args.work) / "cluster", embedder)
    results = []
    for join, name_weight, member_weight, window in itertools.product(
            args.joins, args.name_weights, args.member_weights, args.windows):
        tuning = Tuning(join, name_weight, window, member_weight)
        assigned, _, seconds = clustering.run(tuning)
        scores = bcubed(gold, assigned)
        sizes = sorted(Counter(assigned.values()).values(), reverse=True)
        results.append({"join": join, "name_weight": name_weight, "member_weight": member_weight,
                        "window_days": window, "p": scores["precision"]["mean"], "r": scores["recall"]["mean"],
                        "f1": scores["f1"]["mean"], "stories": len(sizes), "largest": sizes[:3], "seconds": round(seconds, 1)})
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    ok = [r for r in results if r["p"] >= 0.9] or results
    return {"best": max(ok, key=lambda r: r["f1"]), "grid": results}


def fit_changes(args) -> dict:
    """Grid search of the changes constants (novelty threshold, new sentences per article and per
    answer) on the dev split only: gold new facts covered, and bullets that are gold facts."""
    import itertools

    from rag.stories import changes as changes_mod

    args.split = "dev"
    gold, docs, articles, embedder = _setup(args)
    library = small_library(gold, articles, Path(args.work) / "library-dev")
    saved = changes_mod.PER_ARTICLE, changes_mod.MAX_NEW
    results = []
    for threshold, per_article, max_new in itertools.product((0.8, 0.85, 0.9), (5, 8, 12), (20, 30, 45)):
        changes_mod.PER_ARTICLE, changes_mod.MAX_NEW = per_article, max_new
        r = eval_changes(library, gold, articles, threshold)
        results.append({"new_below": threshold, "per_article": per_article, "max_new": max_new,
                        "coverage": r["coverage"]["mean"], "precision": r["precision"]["mean"]})
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    changes_mod.PER_ARTICLE, changes_mod.MAX_NEW = saved
    return {"grid": results}


def fit_timelines(args) -> dict:
    """Grid search of the timeline constants (dates kept per article, weight of an undated lead's
    publication date) on the dev split only: Date-F1 against the gold event dates."""
    import itertools

    from rag.stories import timeline as timeline_mod

    args.split = "dev"
    gold, docs, articles, embedder = _setup(args)
    library = small_library(gold, articles, Path(args.work) / "library-dev")
    saved = timeline_mod.PUBLISHED_WEIGHT
    results = []
    for published_weight, per_article in itertools.product((0.25, 0.5, 1.0, 2.0), (0.45, 0.6, 0.8)):
        timeline_mod.PUBLISHED_WEIGHT = published_weight
        r = eval_timelines(library, gold, articles, per_article)
        results.append({"published_weight": published_weight, "per_article": per_article, "date_f1": r["date_f1"]["mean"],
                        "baseline_publication_count": r["baseline_publication_count"]["mean"]})
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    timeline_mod.PUBLISHED_WEIGHT = saved
    return {"grid": results}


def copies(args) -> dict:
    """The near-copy threshold's evidence: estimated Jaccard of the gold near-copy pairs (those in
    test stories left out) and of the other member pairs of each dev story."""
    import itertools

    from rag.stories.cluster import jaccard, signature

    dev, test = load_gold(Path(args.gold), "dev"), load_gold(Path(args.gold), "test")
    docs = {a.id: a for a in load_docs(Path(args.docs))}
    held_out = {a for s in test.stories for a in s["members"] + s["hard_negatives"]}
    sig = {}

    def j(a: str, b: str) -> float:
        for x in (a, b):
            if x not in sig:
                sig[x] = signature(docs[x].text)[0]
        return round(jaccard(sig[a], sig[b]), 3)

    pairs = [(doc_id(r["a"]), doc_id(r["b"])) for r in _jsonl(Path(args.gold) / "near_copies.jsonl")]
    positives = sorted(j(a, b) for a, b in pairs if a in docs and b in docs and not {a, b} & held_out)
    negatives = []
    for story in dev.stories:
        marked = {frozenset(p) for p in story["near_copies"]}
        members = [m for m in story["members"] if m in docs]
        negatives += [j(a, b) for a, b in itertools.combinations(members, 2) if frozenset((a, b)) not in marked]
    return {"near_copy_pairs": positives, "other_pairs_top": sorted(negatives)[-5:], "other_pairs": len(negatives)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "fit", "fit-clustering", "fit-changes", "fit-timelines", "copies"])
    parser.add_argument("--docs", required=True, help="RealTimeQA docs jsonl (gcs_2024Q1_docs.jsonl)")
    parser.add_argument("--gold", default=str(GOLD))
    parser.add_argument("--split", default="dev", choices=["dev", "test", "all"])
    parser.add_argument("--work", default=".stories-eval", help="cache: the clustering registry and the small library")
    parser.add_argument("--headline-threshold", type=float, default=0.25, help="the baseline's (fitted on dev by `fit`)")
    parser.add_argument("--out", default=None, help="write the report JSON here too")
    parser.add_argument("--joins", type=float, nargs="+", default=[0.45, 0.5, 0.55, 0.6], help="fit: join scores tried")
    parser.add_argument("--name-weights", type=float, nargs="+", default=[0.35], help="fit-clustering: name weights tried")
    parser.add_argument("--member-weights", type=float, nargs="+", default=[0.0, 0.5], help="fit-clustering: nearest-member weights")
    parser.add_argument("--windows", type=int, nargs="+", default=[30], help="fit-clustering: windows in days")
    args = parser.parse_args(argv)
    report = {"run": run, "fit": fit, "fit-clustering": fit_clustering, "fit-changes": fit_changes, "fit-timelines": fit_timelines,
              "copies": copies}[args.command](args)
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
