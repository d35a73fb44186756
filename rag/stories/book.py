"""The stories' tables, in the registry's database next to the articles' (`SCHEMA`, created when
the registry opens), and keeping them in step with the articles: `sync` assigns articles that are
new or changed and takes out those removed or replaced, so stories follow every add, update and
removal (also another process's). Read and written through the registry's connection and lock.

Kept per story so one assignment stays cheap in a large library: the sum of its members' vectors
(the centroid), how many members name each name (an index of names), and its first and last dates.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timezone

import numpy as np

from rag.models import Article
from rag.store.registry import Registry
from rag.stories import cluster
from rag.stories.models import Story

# New tables only, so opening an older data directory adds them and changes nothing else.
SCHEMA = """
CREATE TABLE IF NOT EXISTS stories (
    id TEXT PRIMARY KEY, size INTEGER NOT NULL, originals INTEGER NOT NULL, vsum BLOB NOT NULL,
    first TEXT, last TEXT
);
CREATE TABLE IF NOT EXISTS story_members (
    article_id TEXT PRIMARY KEY, story_id TEXT NOT NULL, sha256 TEXT NOT NULL, published TEXT,
    source TEXT NOT NULL, copy_of TEXT, vector BLOB NOT NULL, names TEXT NOT NULL, signature BLOB NOT NULL,
    shingles INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS story_members_story ON story_members(story_id);
CREATE TABLE IF NOT EXISTS story_names (
    name TEXT NOT NULL, story_id TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (name, story_id)
);
CREATE INDEX IF NOT EXISTS story_names_story ON story_names(story_id);
CREATE TABLE IF NOT EXISTS story_name_df (name TEXT PRIMARY KEY, df INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS story_bands (band INTEGER NOT NULL, key BLOB NOT NULL, article_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS story_bands_key ON story_bands(band, key);
CREATE INDEX IF NOT EXISTS story_bands_article ON story_bands(article_id);
CREATE TABLE IF NOT EXISTS story_versions (
    article_id TEXT NOT NULL, sha256 TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
    published TEXT, replaced_at TEXT NOT NULL, PRIMARY KEY (article_id, sha256)
);
CREATE TABLE IF NOT EXISTS story_visits (story_id TEXT PRIMARY KEY, visited_at TEXT NOT NULL, seen TEXT NOT NULL);
"""
_CANDIDATES = 50  # stories scored in full per article: the nearest by cosine (enough: see fit)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _vec(blob: bytes, dtype=np.float32) -> np.ndarray:
    return np.frombuffer(blob, dtype=dtype).astype(np.float32)


def _matvec(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """matrix @ vector without BLAS: on a loaded 2-core machine OpenBLAS's threads made one product
    of 2,000 centroids take 40 ms, einsum 0.6 ms (bench/bench_stories.py)."""
    return np.einsum("ij,j->i", matrix, vector)


class _Open:
    """The stories, in memory for one sync: ids, vector sums (and their unit centroids), sizes, date
    ranges, and each story's original members' vectors (for the nearest-member cosine)."""

    def __init__(self, rows: list[tuple], members: list[tuple[str, bytes]], dim: int):
        self.ids = [r[0] for r in rows]
        self.row = {sid: i for i, sid in enumerate(self.ids)}
        n = len(rows)
        capacity = max(64, 2 * n)  # grown by doubling: a new story must not copy every centroid
        self.originals = np.zeros(capacity, np.int64)
        self.vsum = np.zeros((capacity, dim), np.float32)
        self.unit = np.zeros((capacity, dim), np.float32)
        far = date.max.toordinal()
        self.first = np.full(capacity, far, np.int64)
        self.last = np.full(capacity, -far, np.int64)
        for i, r in enumerate(rows):
            self.originals[i] = r[1]
            self.vsum[i] = _vec(r[2])
            self.first[i] = _day(r[3]).toordinal() if r[3] else -far
            self.last[i] = _day(r[4]).toordinal() if r[4] else far
            self._renorm(i)
        self.member_vectors: dict[int, list[np.ndarray]] = {}
        self._stacked: dict[int, np.ndarray] = {}  # member_vectors stacked, kept until the story changes
        for sid, blob in members:
            if sid in self.row:
                self.member_vectors.setdefault(self.row[sid], []).append(_vec(blob, np.float16))

    def _renorm(self, i: int) -> None:
        norm = float(np.linalg.norm(self.vsum[i]))
        self.unit[i] = self.vsum[i] / norm if norm > 0 else 0.0

    def add_story(self, sid: str) -> int:
        i = len(self.ids)
        if i == len(self.originals):
            grow = len(self.originals)
            far = date.max.toordinal()
            self.originals = np.concatenate([self.originals, np.zeros(grow, np.int64)])
            self.vsum = np.concatenate([self.vsum, np.zeros((grow, self.vsum.shape[1]), np.float32)])
            self.unit = np.concatenate([self.unit, np.zeros((grow, self.unit.shape[1]), np.float32)])
            self.first = np.concatenate([self.first, np.full(grow, far, np.int64)])
            self.last = np.concatenate([self.last, np.full(grow, -far, np.int64)])
        self.row[sid] = i
        self.ids.append(sid)
        return i

    def add_member(self, i: int, vector: np.ndarray) -> None:
        self.vsum[i] += vector
        self.originals[i] += 1
        self.member_vectors.setdefault(i, []).append(vector)
        self._stacked.pop(i, None)
        self._renorm(i)

    def nearest_member(self, i: int, vector: np.ndarray) -> float:
        if i not in self._stacked:
            if not self.member_vectors.get(i):
                return -1.0
            self._stacked[i] = np.stack(self.member_vectors[i])
        return float(np.max(_matvec(self._stacked[i], vector)))

    def nearest(self, vector: np.ndarray, published: date | None, floor: float,
                window: int) -> list[tuple[str, int, np.ndarray]]:
        """(story id, originals, unit centroid) of the open stories nearest `vector`, within the window."""
        n = len(self.ids)
        if not n:
            return []
        cosine = _matvec(self.unit[:n], vector)
        ok = self.originals[:n] > 0
        if published is not None:
            day = published.toordinal()
            ok &= (self.last[:n] >= day - window) & (self.first[:n] <= day + window)
        cosine = np.where(ok, cosine, -1.0)
        top = np.argpartition(-cosine, _CANDIDATES)[:_CANDIDATES] if n > _CANDIDATES else np.arange(n)
        top = top[np.argsort(-cosine[top])]
        return [(self.ids[i], int(self.originals[i]), self.unit[i]) for i in top if cosine[i] >= floor]


class StoryBook:
    """Stories of one data directory. Writes happen under the store's write lock (the caller's)."""

    def __init__(self, registry: Registry):
        """`registry`: opened with this module's `SCHEMA` among its schemas."""
        self.registry = registry

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.registry.read(sql, params)

    # -- keeping in step with the articles -----------------------------------------------------

    def out_of_step(self) -> tuple[list[str], list[str]]:
        """(members to take out: removed or replaced articles, ready articles to assign)."""
        ready = dict(self._query("SELECT id, sha256 FROM articles WHERE state='ready'"))
        members = dict(self._query("SELECT article_id, sha256 FROM story_members"))
        gone = [a for a, sha in members.items() if ready.get(a) != sha]
        new = [a for a, sha in ready.items() if members.get(a) != sha]
        return gone, new

    def sync(self, articles_of, embed, previous: dict[str, Article] | None = None,
             tuning: cluster.Tuning = cluster.Tuning()) -> int:
        """Assign new and changed articles, take out removed ones; returns how many were assigned.

        Args:
            articles_of: article ids -> {id: Article} (the registry's `articles`).
            embed: texts -> unit vectors, one row each (the embedder's `embed_array`).
            previous: older versions this add replaced, kept for `revised` changes.
            tuning: assignment constants (the fit script varies them).
        """
        gone, new = self.out_of_step()
        if not gone and not new and not previous:
            return 0
        articles = articles_of(new) if new else {}
        order = sorted(articles.values(), key=lambda a: (a.published or date.min, a.id))
        vectors = embed([cluster.lead_text(a) for a in order]) if order else None
        features = [self._features(a, v) for a, v in zip(order, vectors)] if order else []
        with self.registry.transaction() as db:
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            for article in (previous or {}).values():
                db.execute("INSERT OR IGNORE INTO story_versions VALUES (?, ?, ?, ?, ?, ?)",
                           (article.id, article.sha256, article.title, article.text, _iso(article.published), now))
            ready = {r[0] for r in db.execute("SELECT id FROM articles WHERE state='ready'")}
            for article_id in gone:
                self._take_out(db, article_id)
                if article_id not in ready:
                    db.execute("DELETE FROM story_versions WHERE article_id=?", (article_id,))
            rows = db.execute("SELECT id, originals, vsum, first, last FROM stories").fetchall()
            dim = vectors.shape[1] if vectors is not None else (len(_vec(rows[0][2])) if rows else 0)
            open_ = _Open(rows, db.execute("SELECT story_id, vector FROM story_members WHERE copy_of IS NULL").fetchall(), dim)
            total = db.execute("SELECT count(*) FROM story_members WHERE copy_of IS NULL").fetchone()[0]
            for f in features:
                total += self._assign(db, open_, f, total, tuning)
        return len(features)

    @staticmethod
    def _features(article: Article, vector: np.ndarray) -> cluster.Features:
        values, count = cluster.signature(article.text)
        return cluster.Features(article.id, article.sha256, article.published, cluster.source_of(article),
                                vector.astype(np.float32), cluster.article_names(article), values, count)

    def _assign(self, db: sqlite3.Connection, open_: _Open, f: cluster.Features, total: int,
                tuning: cluster.Tuning) -> int:
        """Put one article in a story; returns 1 when it is an original (not a near-copy)."""
        original = self._original_of(db, f)
        if original is not None:
            sid = db.execute("SELECT story_id FROM story_members WHERE article_id=?", (original,)).fetchone()[0]
        else:
            candidates = [cluster.Candidate(sid, size, centroid, nearest=open_.nearest_member(open_.row[sid], f.vector))
                          for sid, size, centroid in open_.nearest(f.vector, f.published,
                                                                   tuning.join - tuning.name_weight - tuning.member_weight,
                                                                   tuning.window_days)]
            if candidates and f.names:
                marks = ",".join("?" * len(f.names))
                by_id = {c.story_id: c for c in candidates}
                for name, sid, count in db.execute(
                        f"SELECT name, story_id, count FROM story_names WHERE name IN ({marks})", tuple(f.names)):
                    if sid in by_id:
                        by_id[sid].shared[name] = count
            df = dict(db.execute(f"SELECT name, df FROM story_name_df WHERE name IN ({','.join('?' * len(f.names))})",
                                 tuple(f.names))) if f.names else {}
            sid = cluster.choose(f, candidates, df, total, tuning)
            if sid is None:
                sid = cluster.story_id_for(f.article_id)
                while sid in open_.row:  # an id reused after its story emptied and a new one took its name
                    sid = cluster.story_id_for(sid)
                db.execute("INSERT INTO stories (id, size, originals, vsum, first, last) VALUES (?, 0, 0, ?, NULL, NULL)",
                           (sid, np.zeros(len(f.vector), np.float32).tobytes()))
                open_.add_story(sid)
        db.execute("INSERT OR REPLACE INTO story_members VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (f.article_id, sid, f.sha256, _iso(f.published), f.source, original,
                    f.vector.astype(np.float16).tobytes(), json.dumps(f.names), f.signature.tobytes(), f.shingles))
        db.executemany("INSERT INTO story_bands VALUES (?, ?, ?)",
                       [(b, key, f.article_id) for b, key in enumerate(cluster.band_keys(f.signature))])
        row = open_.row[sid]
        if original is None:
            self._count_in(db, sid, f.names, f.vector, +1)
            open_.add_member(row, f.vector.astype(np.float16).astype(np.float32))
        db.execute("UPDATE stories SET size=size+1 WHERE id=?", (sid,))
        if f.published is not None:
            day = f.published.toordinal()
            open_.first[row] = min(open_.first[row], day)
            open_.last[row] = max(open_.last[row], day)
        self._redate(db, sid)
        return 0 if original is not None else 1

    def _original_of(self, db: sqlite3.Connection, f: cluster.Features) -> str | None:
        """The article `f` is a near-copy of (an original, never a copy), if any."""
        keys = cluster.band_keys(f.signature)
        bands = " UNION ".join("SELECT article_id FROM story_bands WHERE band=? AND key=?" for _ in keys)  # each uses the index
        rows = db.execute(
            f"""SELECT m.article_id, m.signature, m.shingles, m.copy_of FROM story_members m WHERE m.article_id IN
                ({bands})""", tuple(x for band, key in enumerate(keys) for x in (band, key))).fetchall()
        best, best_j = None, -1.0
        for other, values, shingles, copy_of in rows:
            values = np.frombuffer(values, dtype=np.uint64)
            if other != f.article_id and cluster.is_near_copy(f, values, shingles):
                j = cluster.jaccard(f.signature, values)
                if j > best_j:
                    best, best_j = copy_of or other, j
        return best

    @staticmethod
    def _count_in(db: sqlite3.Connection, sid: str, names: dict[str, int], vector: np.ndarray, sign: int) -> None:
        """Add (sign=+1) or take out (-1) one original's vector and names from its story."""
        vsum = _vec(db.execute("SELECT vsum FROM stories WHERE id=?", (sid,)).fetchone()[0])
        vsum = vsum + sign * vector.astype(np.float16).astype(np.float32)
        db.execute("UPDATE stories SET vsum=?, originals=originals+? WHERE id=?", (vsum.tobytes(), sign, sid))
        for name in names:
            db.execute("INSERT INTO story_names VALUES (?, ?, ?) ON CONFLICT(name, story_id) DO UPDATE SET count=count+?",
                       (name, sid, max(sign, 0), sign))
            db.execute("INSERT INTO story_name_df VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET df=df+?",
                       (name, max(sign, 0), sign))
        if sign < 0:
            db.execute("DELETE FROM story_names WHERE story_id=? AND count<=0", (sid,))
            db.execute("DELETE FROM story_name_df WHERE df<=0")

    @staticmethod
    def _redate(db: sqlite3.Connection, sid: str) -> None:
        db.execute("""UPDATE stories SET first=(SELECT min(published) FROM story_members WHERE story_id=?),
                      last=(SELECT max(published) FROM story_members WHERE story_id=?) WHERE id=?""", (sid, sid, sid))

    def _take_out(self, db: sqlite3.Connection, article_id: str) -> None:
        """Remove a member; its near-copies re-point to the first of them, which becomes an original."""
        row = db.execute("SELECT story_id, copy_of, vector, names FROM story_members WHERE article_id=?",
                         (article_id,)).fetchone()
        if row is None:
            return
        sid, copy_of, vector, names = row
        db.execute("DELETE FROM story_members WHERE article_id=?", (article_id,))
        db.execute("DELETE FROM story_bands WHERE article_id=?", (article_id,))
        db.execute("UPDATE stories SET size=size-1 WHERE id=?", (sid,))
        if copy_of is None:
            self._count_in(db, sid, json.loads(names), _vec(vector, np.float16), -1)
            copies = db.execute("SELECT article_id, vector, names FROM story_members WHERE copy_of=? ORDER BY published, article_id",
                                (article_id,)).fetchall()
            if copies:
                heir = copies[0][0]
                db.execute("UPDATE story_members SET copy_of=NULL WHERE article_id=?", (heir,))
                db.execute("UPDATE story_members SET copy_of=? WHERE copy_of=?", (heir, article_id))
                self._count_in(db, sid, json.loads(copies[0][2]), _vec(copies[0][1], np.float16), +1)
        if db.execute("SELECT size FROM stories WHERE id=?", (sid,)).fetchone()[0] <= 0:
            for table, column in (("stories", "id"), ("story_names", "story_id"), ("story_visits", "story_id")):
                db.execute(f"DELETE FROM {table} WHERE {column}=?", (sid,))
        else:
            self._redate(db, sid)

    def reset(self) -> None:
        """Forget every story (visits and earlier versions stay); the next sync assigns all articles again."""
        with self.registry.transaction() as db:
            for table in ("stories", "story_members", "story_names", "story_name_df", "story_bands"):
                db.execute(f"DELETE FROM {table}")

    # -- reads ----------------------------------------------------------------------------------

    def stories(self, since: date | None = None, ids: list[str] | None = None) -> list[Story]:
        """Stories (newest last date first, then larger first), optionally only those active since `since`."""
        rows = self._query(
            """SELECT m.story_id, m.article_id, m.copy_of, m.published, m.source, m.vector, a.title, m.sha256
               FROM story_members m JOIN articles a ON a.id=m.article_id ORDER BY m.published, m.article_id""")
        visits = {sid: (datetime.fromisoformat(at), set(json.loads(seen)))
                  for sid, at, seen in self._query("SELECT story_id, visited_at, seen FROM story_visits")}
        groups: dict[str, list[tuple]] = {}
        for row in rows:
            if ids is None or row[0] in ids:
                groups.setdefault(row[0], []).append(row)
        out = []
        for sid, members in groups.items():
            last = max((_day(m[3]) for m in members if m[3]), default=None)
            if since and (last is None or last < since):
                continue
            story = _story(sid, members)
            if sid in visits:
                story.visited_at, seen = visits[sid]
                story.new_articles = [m[1] for m in members if f"{m[1]}@{m[7]}" not in seen]
            out.append(story)
        out.sort(key=lambda s: (-(s.last or date.min).toordinal(), -s.size, s.id))
        return out

    def story_from(self, article_ids: list[str], story_id: str = "given") -> Story | None:
        """A story made of the given articles (as assigned, near-copies known): for evaluating
        timelines and changes on a given set of articles."""
        rows = []
        for i in range(0, len(article_ids), 500):
            part = article_ids[i:i + 500]
            rows += self._query(
                f"""SELECT ?, m.article_id, m.copy_of, m.published, m.source, m.vector, a.title, m.sha256
                    FROM story_members m JOIN articles a ON a.id=m.article_id WHERE m.article_id IN ({",".join("?" * len(part))})""",
                (story_id, *part))
        rows.sort(key=lambda r: (r[3] or "", r[1]))
        members = {r[1] for r in rows}
        rows = [r if r[2] is None or r[2] in members else (*r[:2], None, *r[3:]) for r in rows]
        return _story(story_id, rows) if rows else None

    def story(self, story_id: str) -> Story | None:
        found = self.stories(ids=[story_id])
        return found[0] if found else None

    def story_of(self, article_id: str) -> str | None:
        rows = self._query("SELECT story_id FROM story_members WHERE article_id=?", (article_id,))
        return rows[0][0] if rows else None

    def versions(self, article_id: str) -> list[Article]:
        """Earlier versions of an article that updates replaced, oldest first."""
        rows = self._query("SELECT article_id, title, text, published, sha256 FROM story_versions WHERE article_id=? "
                           "ORDER BY replaced_at", (article_id,))
        return [Article(id=r[0], title=r[1], text=r[2], published=_day(r[3]), sha256=r[4]) for r in rows]

    def replaced_at(self, article_id: str) -> str | None:
        rows = self._query("SELECT max(replaced_at) FROM story_versions WHERE article_id=?", (article_id,))
        return rows[0][0] if rows else None

    def visit(self, story_id: str) -> datetime | None:
        """Record a visit to a story: the article versions it holds now are seen (later ones are
        its `new_articles`). Returns the previous visit's time (None the first time)."""
        with self.registry.transaction() as db:
            row = db.execute("SELECT visited_at FROM story_visits WHERE story_id=?", (story_id,)).fetchone()
            seen = [f"{a}@{sha}" for a, sha in db.execute("SELECT article_id, sha256 FROM story_members WHERE story_id=?",
                                                         (story_id,))]
            db.execute("INSERT OR REPLACE INTO story_visits VALUES (?, ?, ?)",
                       (story_id, datetime.now(timezone.utc).isoformat(timespec="seconds"), json.dumps(seen)))
        return datetime.fromisoformat(row[0]) if row else None



def _story(sid: str, members: list[tuple]) -> Story:
    """A Story from its member rows (story_id, article_id, copy_of, published, source, vector, title, ...)."""
    originals = [m for m in members if m[2] is None] or members
    vectors = np.stack([_vec(m[5], np.float16) for m in originals])
    centroid = vectors.sum(axis=0)
    central = originals[int(np.argmax(vectors @ centroid))]
    sources = sorted({m[4] for m in originals})
    days = [_day(m[3]) for m in members if m[3]]
    return Story(id=sid, title=central[6], articles=[m[1] for m in members], sources=sources,
                 first=min(days) if days else None, last=max(days) if days else None,
                 copies={m[1]: m[2] for m in members if m[2] is not None})

