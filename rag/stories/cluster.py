"""Which story an article belongs to: incremental, single-pass assignment.

An article joins the most similar active story or starts one. Similarity combines the MiniLM
cosine of its headline and lead with the story's centroid, and the share of its names (capitalised
word groups, weighted by inverse document frequency so "CNN" or "Monday" weigh nothing) that the
story's articles also name; only stories active within a time window of its publication date are
candidates. Near-copies of one text (syndication, one release republished) are found with MinHash
over word shingles (Broder 1997) and LSH banding, join their original's story, and count as one
source. Constants are fitted on the stories dev split: `python -m evals.stories_eval fit`.
"""

from __future__ import annotations

import hashlib
import math
import re
import zlib
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import numpy as np
from datasketch import MinHash

from rag.models import Article

# The assignment constants: the best BCubed F1 with precision >= 0.9 on the stories dev split
# (P 0.937, R 0.690, F1 0.749; the earlier 0.55 / 0.35 / 30 days without the member term scored
# P 0.836, R 0.776, F1 0.742 on today's gold; 10 days: P 0.857; join 0.45: P 0.888), a staged grid of
# `python -m evals.stories_eval fit-clustering --joins J --member-weights M --windows W` (docs/stories.md).
# JOIN_SCORE is the score an article needs to join a story; NAME_WEIGHT weighs the shared-names
# share; MEMBER_WEIGHT the nearest member's cosine beyond the centroid's (1.0 scored as 0.5).
NAME_WEIGHT = 0.35
JOIN_SCORE = 0.5
MEMBER_WEIGHT = 0.5
# A story stays open this many days after its newest article (and before its oldest, for articles
# added out of date order): 14 and 30 days let topics chain into one story (primaries, abortion).
WINDOW_DAYS = 7
# Near-copies: estimated Jaccard similarity of word 5-shingles at or above this. Reprints are
# edited (new headline, intro, trimmed paragraphs): the gold near-copy pairs outside the test
# stories measure 0.36-1.0 (one live page 0.12), other pairs of one dev story at most 0.17 (one
# pair sharing a whole explainer section 0.66): evals/stories/near_copies.jsonl, see
# `python -m evals.stories_eval copies`. 64 permutations in 32 bands of 2 rows make pairs above
# 0.3 candidates with probability > 0.94.
NEAR_COPY_JACCARD = 0.3
NUM_PERM = 64
BANDS = 32
SHINGLE_WORDS = 5
SIGNATURE_WORDS = 500  # a signature reads the first 500 words: a reprint shares its opening; hashing all took most of clustering time
LEAD_CHARS = 300  # the lead embedded with the headline: about the first two sentences
NAMES_CHARS = 1500  # names are read from the headline and the top of the text, where the story is named
_MIN_SHINGLES = 8  # texts shorter than this many shingles are never called near-copies

_WORD = re.compile(r"\w+")
_CAP = r"(?:[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)*|[A-Z]{2,}|[A-Z]\.)"
_NAME = re.compile(rf"{_CAP}(?:\s+(?:(?:of|de|al|bin|van|von|la|le)\s+)?{_CAP})*")
# Capitalised because a sentence starts with them, or names of days and months: never a story's name.
_NOT_NAMES = frozenset("""
a an the this that these those there here it its he she they we i you his her their our my your
but and or so if as at by in on of for to from with after before when while since during until
what who why how where which mr mrs ms dr
monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec
""".split())


@dataclass(frozen=True)
class Tuning:
    """The assignment constants together (the fit script varies them)."""

    join: float = JOIN_SCORE
    name_weight: float = NAME_WEIGHT
    window_days: int = WINDOW_DAYS
    member_weight: float = MEMBER_WEIGHT


@dataclass
class Features:
    """What assignment needs of one article, computed once when it is added."""

    article_id: str
    sha256: str
    published: date | None
    source: str
    vector: np.ndarray  # unit-length MiniLM vector of headline + lead
    names: dict[str, int]  # name -> mentions in the headline and top of the text
    signature: np.ndarray  # MinHash values (uint64, NUM_PERM)
    shingles: int = 0  # how many shingles the signature summarises


@dataclass
class Candidate:
    """An open story as assignment sees it."""

    story_id: str
    size: int
    centroid: np.ndarray  # unit length
    nearest: float = -1.0  # cosine to the story's nearest original member
    shared: dict[str, int] = field(default_factory=dict)  # the article's names -> members naming them


def lead_text(article: Article) -> str:
    """The headline and the lead, cut at a word boundary near LEAD_CHARS."""
    body = article.text[:LEAD_CHARS * 2]
    cut = body.rfind(" ", 0, LEAD_CHARS) if len(body) > LEAD_CHARS else len(body)
    return f"{article.title}\n{body[:cut if cut > 0 else LEAD_CHARS]}"


def names_in(text: str) -> dict[str, int]:
    """Capitalised word groups and how often they occur, leading function words dropped."""
    found: dict[str, int] = {}
    for match in _NAME.finditer(text):
        words = match.group().replace("’", "'").split()
        while words and words[0].lower().rstrip(".") in _NOT_NAMES:
            words = words[1:]
        if not words:
            continue
        name = " ".join(words)
        if name.endswith("'s"):
            name = name[:-2]
        if len(name) > 1:
            found[name] = found.get(name, 0) + 1
    return found


def article_names(article: Article) -> dict[str, int]:
    return names_in(f"{article.title}\n{article.text[:NAMES_CHARS]}")


@cache
def _template() -> MinHash:
    """datasketch's random permutations for NUM_PERM (seed 1): made once, shared by every signature."""
    return MinHash(num_perm=NUM_PERM)


def _shingle_hashes(text: str) -> np.ndarray:
    """32-bit hashes of the word 5-shingles (lower-cased) of the text's opening, distinct. Each word
    is hashed once (crc32) and a shingle's hash is a polynomial of its words' hashes, computed over
    all shingles at once: hashing every shingle string in Python took 80% of clustering time."""
    words = np.array([zlib.crc32(w.encode()) for w in _WORD.findall(text[:SIGNATURE_WORDS * 8].lower())[:SIGNATURE_WORDS]]
                     or [0], dtype=np.uint64)
    n = max(1, len(words) - SHINGLE_WORDS + 1)
    combined = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(min(SHINGLE_WORDS, len(words))):
            combined = combined * np.uint64(1_000_003) + words[k:k + n]
    return np.unique(combined >> np.uint64(32))


def signature(text: str) -> tuple[np.ndarray, int]:
    """MinHash of the text's word 5-shingles, and how many distinct shingles there were."""
    hashes = _shingle_hashes(text)
    template = _template()
    minhash = MinHash(num_perm=NUM_PERM, hashfunc=int, permutations=template.permutations, scheme=template.scheme)
    minhash.update_batch(hashes.tolist())
    return minhash.hashvalues.astype(np.uint64), len(hashes)


def band_keys(values: np.ndarray) -> list[bytes]:
    """One LSH key per band: texts sharing any key are near-copy candidates."""
    rows = NUM_PERM // BANDS
    return [hashlib.blake2b(values[b * rows:(b + 1) * rows].tobytes(), digest_size=12).digest() for b in range(BANDS)]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """MinHash estimate of the Jaccard similarity of two signatures."""
    return float(np.mean(a == b))


def is_near_copy(a: Features, b_signature: np.ndarray, b_shingles: int) -> bool:
    return min(a.shingles, b_shingles) >= _MIN_SHINGLES and jaccard(a.signature, b_signature) >= NEAR_COPY_JACCARD


def idf(df: int, total: int) -> float:
    return math.log((total + 1) / (df + 1))


def score(features: Features, candidate: Candidate, df: dict[str, int], total: int,
          name_weight: float = NAME_WEIGHT, member_weight: float = MEMBER_WEIGHT) -> float:
    """Cosine to the story's centroid plus `member_weight` times the cosine to its nearest member
    beyond the centroid's (a story that drifted still takes an article close to one of its own) plus
    `name_weight` times the idf-weighted share of the article's names that the story's articles
    name (each shared name counted by the fraction of members that name it)."""
    cosine = float(features.vector @ candidate.centroid)
    cosine += member_weight * max(0.0, candidate.nearest - cosine)
    weights = {n: idf(df.get(n, 0), total) for n in features.names}
    mass = sum(weights.values())
    shared = sum(weights[n] * min(1.0, count / candidate.size) for n, count in candidate.shared.items() if n in weights)
    return cosine + name_weight * (shared / mass if mass > 0 else 0.0)


def choose(features: Features, candidates: list[Candidate], df: dict[str, int], total: int,
           tuning: Tuning = Tuning()) -> str | None:
    """The story the article joins, or None to start a new one."""
    best, best_score = None, tuning.join
    for candidate in candidates:
        value = score(features, candidate, df, total, tuning.name_weight, tuning.member_weight)
        if value >= best_score:
            best, best_score = candidate.story_id, value
    return best


def story_id_for(article_id: str) -> str:
    """A story's id, from the article that started it (stable across rebuilds of the same order)."""
    return "s-" + hashlib.sha1(article_id.encode()).hexdigest()[:10]


def source_of(article: Article) -> str:
    """The outlet: the article's source, else its URL's host without `www.`."""
    if article.source:
        return article.source
    host = re.sub(r"^[a-z]+://", "", article.url).split("/", 1)[0].lower()
    return host.removeprefix("www.") or "unknown"
