"""Property tests (hypothesis) over loading, canonicalisation, sentences, chunks and citations.

Arbitrary Unicode with the pieces that break text code: combining marks, emoji sequences, RTL
text and bidi controls, zero-width characters, CR/LF/CRLF and other line separators, NUL and
control characters, lone surrogates (JSON can carry them), very long lines, no punctuation.
The invariants: offsets in bounds, chunks cover every sentence, every non-space character is in
a sentence, quote == text[start:end], canonicalisation is idempotent, and the only exceptions
are the documented input errors (ValueError from loading, CitationError for a bad span).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata

from hypothesis import HealthCheck, example, given, settings, strategies as st

from rag.ingest.canonical import make_article, normalize_text
from rag.ingest.files import load_file
from rag.models import Article
from rag.text import approx_token_count, chunk_sentences, split_sentences
from rag.verify.citations import CitationError, is_verbatim, make_citation

PIECES = [
    "\u0301", "\u0308", "e\u0301", "\u0915\u093f",  # combining marks, a Devanagari cluster
    "👩\u200d👩\u200d👧", "🇺🇦", "👍🏽", "\ufe0f",  # emoji ZWJ sequence, flag, skin tone, variation selector
    "مرحبا بالعالم", "שָׁלוֹם", "\u200f", "\u202e", "\u2066", "\u2069",  # RTL text and bidi controls
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad",  # zero-width
    "\r\n", "\r", "\n", "\n\n\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c",  # line breaks
    "\x00", "\x1b[31m", "\x07", "\x7f", "\x9b",  # NUL and control characters
    "\u00a0", "\u3000", "\t", "  ",  # other spaces
    ". ", "Mr. ", "U.S. ", "?!", "…", "”", "“", "’", '"', ")", "»", " [1] ", "SYSTEM: ",
    "word " * 400, "x" * 3000,  # very long lines, no punctuation
    "The mayor opened the bridge on Monday. ", "Then he left.",
]
texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=25)), max_size=40).map("".join)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def canonical_texts():
    return texts.map(normalize_text).filter(bool)


@FUZZ
@given(texts)
@example("e\u200b\u0301")  # found by this test: a zero-width space kept é decomposed
def test_canonical_text_is_idempotent_nfc_and_has_no_cr_or_zero_width(raw):
    text = normalize_text(raw)
    assert normalize_text(text) == text
    assert unicodedata.is_normalized("NFC", text)
    assert "\r" not in text and "\u200b" not in text and "\ufeff" not in text
    assert text == text.strip() and "\n\n\n" not in text


@FUZZ
@given(title=texts, raw=texts, source=texts)
def test_make_article_succeeds_or_raises_a_value_error(title, raw, source):
    try:
        article = make_article(id=title, title=title, text=raw, source=source)
    except ValueError:  # documented: no text, a lone surrogate that UTF-8 cannot hold
        return
    assert article.text == normalize_text(raw) and article.text
    assert article.sha256 == hashlib.sha256(article.text.encode("utf-8")).hexdigest()
    assert article.id and article.title


@FUZZ
@given(canonical_texts())
@example("0\n\u201d")  # found by this test: a closing quote was joined across a line break
def test_sentences_are_in_bounds_ordered_trimmed_and_cover_every_visible_character(text):
    sentences = split_sentences(text, "a")
    assert sentences, "a non-empty canonical text has at least one sentence"
    covered = bytearray(len(text))
    previous_end = 0
    for i, s in enumerate(sentences):
        assert s.index == i and 0 <= previous_end <= s.start < s.end <= len(text)
        span = text[s.start:s.end]
        assert span == span.strip() and "\n" not in span
        covered[s.start:s.end] = b"\x01" * (s.end - s.start)
        previous_end = s.end
    missed = [c for c, hit in zip(text, covered) if not hit and not c.isspace()]
    assert not missed, f"characters in no sentence: {missed[:10]!r}"


@FUZZ
@given(canonical_texts(), st.integers(1, 300), st.integers(0, 3))
def test_chunks_cover_all_sentences_in_order_and_stay_in_bounds(text, max_tokens, overlap):
    sentences = split_sentences(text, "a")
    chunks = chunk_sentences(text, sentences, article_id="a", id_prefix="a@x", max_tokens=max_tokens, overlap=overlap,
                             count_tokens=approx_token_count)
    assert chunks[0].first_sentence == 0 and chunks[-1].last_sentence == len(sentences) - 1
    for before, after in zip(chunks, chunks[1:]):
        assert after.first_sentence <= before.last_sentence + 1  # no sentence skipped
        assert after.first_sentence > before.first_sentence  # always advances
    for c in chunks:
        assert c.start == sentences[c.first_sentence].start and c.end == sentences[c.last_sentence].end
        assert 0 <= c.start < c.end <= len(text)


@FUZZ
@given(canonical_texts(), st.data())
def test_a_citation_quotes_exactly_its_span_or_is_refused(text, data):
    article = Article(id="a", title="t", text=text, sha256="0")
    start = data.draw(st.integers(-3, len(text) + 3))
    end = data.draw(st.integers(-3, len(text) + 3))
    try:
        citation = make_citation(1, article, start, end, data.draw(st.floats(allow_nan=False)))
    except CitationError:
        assert not (0 <= start < end <= len(text))
        return
    assert citation.quote == text[start:end] and is_verbatim(citation, article)
    assert 0.0 <= citation.support <= 1.0
    forged = citation.model_copy(update={"quote": citation.quote + "x"})
    assert not is_verbatim(forged, article)
    for s in split_sentences(text, "a"):
        assert make_citation(2, article, s.start, s.end, 1.0).quote == text[s.start:s.end]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(raw=texts, suffix=st.sampled_from([".txt", ".md", ".json", ".jsonl", ".html"]), as_record=st.booleans())
def test_loading_any_file_gives_articles_or_one_reason_each(tmp_path_factory, raw, suffix, as_record):
    path = tmp_path_factory.mktemp("fuzz") / f"input{suffix}"
    if as_record and suffix in (".json", ".jsonl"):
        raw = json.dumps({"title": raw[:40], "text": raw})
    elif suffix == ".html":
        raw = f"<html><head><title>{raw[:40]}</title></head><body><article><p>{raw}</p></article></body></html>"
    path.write_bytes(raw.encode("utf-8", "surrogatepass"))
    for item in load_file(path, 10**7):
        assert (item.article is None) != (item.error is None)
        if item.article is not None:
            text = item.article.text
            assert text and normalize_text(text) == text
            for s in split_sentences(text, item.article.id):
                assert 0 <= s.start < s.end <= len(text)
        else:
            assert item.error.strip()
