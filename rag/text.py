"""Canonical text -> sentences (character offsets) -> sentence-aligned chunks."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from rag.models import Chunk, Sentence

# Abbreviations common in news copy that Punkt's English model does not all know; without them
# "Mr. Peskov" or "the U.S. envoy" would end a sentence.
NEWS_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "lt", "col", "maj", "capt",
    "sgt", "adm", "cmdr", "rev", "st", "jr", "sr", "u.s", "u.k", "u.n", "e.u", "u.s.a", "d.c",
    "inc", "corp", "co", "ltd", "no", "vs", "approx", "dept", "est", "fig", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "ft", "pres", "atty",
    "a.m", "p.m", "e.g", "i.e", "etc", "al", "ave", "blvd", "sgt", "supt", "messrs",
}
_CLOSERS = "”’\"')]»"
_LEADING_CLOSERS = re.compile(rf"^[{re.escape(_CLOSERS)}]+")
_WORDS = re.compile(r"\w+|[^\w\s]")


@lru_cache(maxsize=1)
def _punkt():
    import nltk
    from nltk.tokenize.punkt import PunktTokenizer
    import llama_index.core

    cache = Path(llama_index.core.__file__).parent / "_static" / "nltk_cache"
    if str(cache) not in nltk.data.path:
        nltk.data.path.append(str(cache))
    tokenizer = PunktTokenizer("english")
    tokenizer._params.abbrev_types.update(NEWS_ABBREVIATIONS)
    return tokenizer


def split_sentences(text: str, article_id: str = "") -> list[Sentence]:
    """Sentences of `text` as offsets. Line breaks always end a sentence (headings, bullets)."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        base = line.start()
        for start, end in _punkt().span_tokenize(line.group()):
            spans.append((base + start, base + end))
    spans = _reattach_closers(text, spans)
    out = []
    for start, end in spans:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append(Sentence(article_id, len(out), start, end))
    return out


def _reattach_closers(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Punkt leaves a closing curly quote after '.' at the start of the next sentence."""
    fixed: list[tuple[int, int]] = []
    for start, end in spans:
        match = _LEADING_CLOSERS.match(text[start:end])
        gap = text[fixed[-1][1]:start] if fixed else ""
        if match and fixed and gap.strip() == "" and "\n" not in gap:  # a line break ends a sentence
            prev_start, _ = fixed[-1]
            fixed[-1] = (prev_start, start + match.end())
            start += match.end()
        if text[start:end].strip():
            fixed.append((start, end))
    return fixed


def approx_token_count(text: str) -> int:
    """Word pieces are ~1.3 per word-or-punctuation token in news English."""
    return int(len(_WORDS.findall(text)) * 1.3) + 1


def chunk_sentences(
    text: str,
    sentences: list[Sentence],
    *,
    article_id: str,
    id_prefix: str,
    max_tokens: int = 200,
    overlap: int = 1,
    count_tokens: Callable[[str], int] = approx_token_count,
) -> list[Chunk]:
    """Greedy sentence-aligned windows of at most `max_tokens`, sharing `overlap` sentences."""
    counts = [count_tokens(text[s.start:s.end]) for s in sentences]
    chunks: list[Chunk] = []
    first = 0
    while first < len(sentences):
        last, total = first, counts[first]
        while last + 1 < len(sentences) and total + counts[last + 1] <= max_tokens:
            last += 1
            total += counts[last]
        chunks.append(
            Chunk(
                id=f"{id_prefix}#{len(chunks)}",
                article_id=article_id,
                index=len(chunks),
                start=sentences[first].start,
                end=sentences[last].end,
                first_sentence=first,
                last_sentence=last,
            )
        )
        if last + 1 >= len(sentences):
            break
        # Overlap only when the window holds more than the overlapping sentences, so it advances.
        first = max(last + 1 - overlap, first + 1)
    return chunks
