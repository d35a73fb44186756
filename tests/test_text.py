"""Sentence splitting and chunking on news text: offsets are exact and windows are bounded."""

from rag.ingest.canonical import normalize_text
from rag.text import approx_token_count, chunk_sentences, split_sentences

NEWS = normalize_text(
    """Kremlin spokesperson Dmitry Peskov said Mr. Witkoff met the U.S. team in Geneva. “We are open,” Mr. Peskov told reporters Friday. The U.S. Army said so.
Then J. R. Smith spoke at 3 p.m. on Friday. “I provided no assessments.” He said Dr. Jones of the U.N. agreed!
- First bullet without a period
- Second bullet
Is this a question? Yes, it is."""
)


def texts(text):
    return [text[s.start:s.end] for s in split_sentences(text)]


def test_sentences_survive_abbreviations_quotes_and_initials():
    assert texts(NEWS) == [
        "Kremlin spokesperson Dmitry Peskov said Mr. Witkoff met the U.S. team in Geneva.",
        "“We are open,” Mr. Peskov told reporters Friday.",
        "The U.S. Army said so.",
        "Then J. R. Smith spoke at 3 p.m. on Friday.",
        "“I provided no assessments.”",
        "He said Dr. Jones of the U.N. agreed!",
        "- First bullet without a period",
        "- Second bullet",
        "Is this a question?",
        "Yes, it is.",
    ]


def test_sentence_offsets_index_the_canonical_text():
    sentences = split_sentences(NEWS, "a1")
    assert [s.index for s in sentences] == list(range(len(sentences)))
    for s in sentences:
        assert s.article_id == "a1"
        piece = NEWS[s.start:s.end]
        assert piece == piece.strip() and piece
    # Sentences are ordered and never overlap.
    assert all(a.end <= b.start for a, b in zip(sentences, sentences[1:]))


def test_closing_curly_quote_stays_with_its_sentence():
    text = "He said: “It is over.” Then he left."
    assert texts(text) == ["He said: “It is over.”", "Then he left."]


def test_chunks_are_sentence_aligned_bounded_and_overlap_by_one_sentence():
    text = normalize_text(" ".join(f"Sentence number {i} talks about topic {i} in some detail." for i in range(40)))
    sentences = split_sentences(text, "a")
    chunks = chunk_sentences(text, sentences, article_id="a", id_prefix="a@x", max_tokens=60, overlap=1)
    assert len(chunks) > 3
    starts = {s.start for s in sentences}
    ends = {s.end for s in sentences}
    for c in chunks:
        assert c.start in starts and c.end in ends
        assert approx_token_count(text[c.start:c.end]) <= 60 + c.last_sentence - c.first_sentence + 1
    for a, b in zip(chunks, chunks[1:]):
        assert b.first_sentence == a.last_sentence  # one sentence of overlap
    assert chunks[0].first_sentence == 0 and chunks[-1].last_sentence == len(sentences) - 1
    assert [c.id for c in chunks] == [f"a@x#{i}" for i in range(len(chunks))]


def test_a_sentence_longer_than_the_budget_becomes_its_own_chunk():
    text = "Short one. " + "word " * 300 + "end. Last one."
    text = normalize_text(text)
    sentences = split_sentences(text, "a")
    chunks = chunk_sentences(text, sentences, article_id="a", id_prefix="a", max_tokens=50, overlap=1)
    assert [(c.first_sentence, c.last_sentence) for c in chunks] == [(0, 0), (1, 1), (2, 2)]
