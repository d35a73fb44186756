"""Ingestion speed: newsground against the textbook LlamaIndex pipeline, in one run, plus the levers.

For each article set (the 24 SQuAD v1.1 dev half-a articles; RealTimeQA news docs) it times, in
this order and in this process:
  1. textbook: LlamaIndex `SentenceSplitter(256, 51)` + `VectorStoreIndex` on `ChromaVectorStore`,
     embedding with a plain onnxruntime embedder of the same MiniLM model file;
  2. embedding the textbook's chunk texts alone with that embedder;
  3. newsground `Library.add_articles` (default settings: RAG_EMBED_ENGINE=auto, sentence vectors
     pooled from the chunk's pass), and again with RAG_SENTENCE_VECTORS=separate (a second pass);
  4. embedding newsground's chunk texts alone with newsground's embedder.
Every ratio comes from numbers of the same run; the load average is recorded with each.

Levers (`--levers`): on a fixed sample of chunk texts, embedding time per engine / precision,
batch size, threads, OpenVINO performance hint (THROUGHPUT runs async infer requests), and length
bucketing; query-embedding latency per engine; then whole-ingest variants: sentence vectors late
vs. a second pass, pipelining off, and the per-batch chunk count (= Chroma add size).

    python -m bench.bench_ingest --quick            # 3 SQuAD articles, 12 RealTimeQA docs, 3 engines, 2 ingest variants
    python -m bench.bench_ingest --levers           # everything: 24 SQuAD articles, 500 RealTimeQA docs
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import SQUAD, machine, rtqa_articles, timed, write_result
from evals.datasets import load_squad
from rag.embeddings import LocalMiniLMEmbedding
from rag.library import Library
from rag.settings import Settings
from rag.store import chunk_context


def textbook(articles, embedder, tmp: Path) -> dict:
    """The pipeline LlamaIndex's docs show, with Chroma as the vector store."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import MetadataMode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    client = chromadb.PersistentClient(path=str(tmp / "textbook"), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("textbook", embedding_function=None)
    documents = [Document(text=a.text, id_=a.id, metadata={"title": a.title}) for a in articles]
    splitter = SentenceSplitter(chunk_size=256, chunk_overlap=51)
    context = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    ingest_s = timed(lambda: VectorStoreIndex.from_documents(documents, storage_context=context, embed_model=embedder,
                                                             transformations=[splitter]))
    texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in splitter(documents)]
    load = machine()
    embed_s = timed(lambda: embedder.get_text_embedding_batch(texts))
    return {"ingest_s": round(ingest_s, 2), "embed_alone_s": round(embed_s, 2), "chunks": len(texts), "machine": load,
            "ratio_to_embed_alone": round(ingest_s / embed_s, 3)}


def ours(articles, tmp: Path, name: str, **overrides) -> tuple[dict, Library]:
    library = Library(Settings(RAG_DATA_DIR=tmp / name, RAG_LLM="none").with_overrides(**overrides))
    library.embed(["warm up"])
    load = machine()
    ingest_s = timed(lambda: library.add_articles(articles))
    segments = {a.id: library.segments(a.id) for a in articles}
    chunks = [(a, c) for a in articles for c in segments[a.id][1]]
    texts = [chunk_context(a.title, a.text[c.start:c.end]) for a, c in chunks]
    embed_s = timed(lambda: library.embed(texts))
    return {"ingest_s": round(ingest_s, 2), "embed_alone_s": round(embed_s, 2), "chunks": len(chunks),
            "sentences": sum(len(sentences) for sentences, _ in segments.values()),
            "engine": library.embedding_engine(), "machine": load,
            "ratio_to_embed_alone": round(ingest_s / embed_s, 3)}, library


def compare(label: str, articles, tmp: Path, with_separate: bool = True) -> dict:
    chars = sum(len(a.text) for a in articles)
    plain = LocalMiniLMEmbedding(engine="onnxruntime")
    plain.embed_array(["warm up"])
    print(f"[{label}] {len(articles)} articles, {chars / 1e6:.2f} M chars; textbook pipeline ...", flush=True)
    book = textbook(articles, plain, tmp)
    print(f"[{label}] textbook {book['ingest_s']} s; newsground ...", flush=True)
    mine, _ = ours(articles, tmp, f"ours-{label}")
    print(f"[{label}] newsground {mine['ingest_s']} s; with second-pass sentence vectors ...", flush=True)
    separate = ours(articles, tmp, f"ours-separate-{label}", sentence_vectors="separate")[0] if with_separate else None
    for result in filter(None, (book, mine, separate)):
        result["k_chars_per_s"] = round(chars / result["ingest_s"] / 1000, 1)
        result["chunks_per_s"] = round(result["chunks"] / result["ingest_s"], 1)
    out = {"articles": len(articles), "chars": chars, "textbook": book, "newsground": mine,
           "newsground_vs_textbook": round(mine["ingest_s"] / book["ingest_s"], 3)}
    if separate:
        out |= {"newsground_separate": separate,
                "newsground_separate_vs_textbook": round(separate["ingest_s"] / book["ingest_s"], 3)}
    print(f"[{label}] newsground {mine['ingest_s']} s = {out['newsground_vs_textbook']}x textbook "
          f"({mine['k_chars_per_s']} k chars/s, {mine['chunks_per_s']} chunks/s; "
          f"{mine['ratio_to_embed_alone']}x its embedding alone; textbook {book['ratio_to_embed_alone']}x its own)", flush=True)
    if separate:
        print(f"[{label}] second-pass sentence vectors {separate['ingest_s']} s = {out['newsground_separate_vs_textbook']}x textbook, "
              f"{separate['ratio_to_embed_alone']}x its embedding alone", flush=True)
    return out


def embedding_levers(texts: list[str], questions: list[str], quick: bool) -> list[dict]:
    """Embedding time of the same texts under each setting (one embedder per setting, warmed up)."""
    # The default (bf16, THROUGHPUT, single texts on onnxruntime) against the previous one (LATENCY,
    # single texts on OpenVINO too): `query_ms_p50` is one short question's latency.
    variants = [dict(engine="onnxruntime"), dict(engine="openvino", precision="f32", single_engine="same"),
                dict(engine="openvino", precision="bf16"),
                dict(engine="openvino", precision="bf16", hint="LATENCY", single_engine="same")]
    if not quick:
        variants += [dict(engine="openvino", precision="bf16", embed_batch_size=b) for b in (8, 32, 64)]
        variants += [dict(engine="openvino", precision="bf16", threads=1),
                     dict(engine="openvino", precision="bf16", bucketing=False),
                     dict(engine="onnxruntime", bucketing=False)]
    rows = []
    for variant in variants:
        bucketing = variant.pop("bucketing", True)
        embedder = LocalMiniLMEmbedding(**variant)
        embedder.embed_array(texts[:8])
        embedder.embed_array(texts[:1])  # a single text may have its own session (single_engine)
        if bucketing:
            seconds = [timed(lambda: embedder.embed_array(texts)) for _ in range(2)]
        else:  # batches in arrival order: each batch padded to its longest text
            size = embedder.embed_batch_size
            seconds = [timed(lambda: [embedder.embed_array(texts[b:b + size]) for b in range(0, len(texts), size)])
                       for _ in range(2)]
        query_ms = []
        for q in questions:
            start = time.perf_counter()
            embedder.embed_array([q])
            query_ms.append((time.perf_counter() - start) * 1000)
        row = {**variant, "bucketing": bucketing, "engine_used": embedder.describe(), "texts": len(texts),
               "seconds": [round(s, 2) for s in seconds], "query_ms_p50": round(statistics.median(query_ms), 2),
               "machine": machine()}
        rows.append(row)
        print(f"  lever {row}", flush=True)
    return rows


def ingest_levers(articles, tmp: Path, quick: bool) -> list[dict]:
    """Whole-ingest variants against the default, alternated so load drifts hit both alike."""
    variants: list[tuple[str, dict]] = [("default", {}),
                                        ("sentence vectors: second pass", {"sentence_vectors": "separate"})]
    if not quick:
        variants += [("no pipelining", {"segment_ahead": 0}),
                     ("batch 64 chunks", {"embed_batch_chunks": 64}),
                     ("batch 1024 chunks", {"embed_batch_chunks": 1024}),
                     ("default (repeat)", {})]
    rows = []
    for label, settings in variants:
        result, _ = ours(articles, tmp, f"lever-{len(rows)}", **settings)
        result["variant"] = label
        rows.append(result)
        print(f"  ingest lever {label}: {result['ingest_s']} s ({result['ratio_to_embed_alone']}x embedding alone)", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few minutes: small article sets, few levers")
    parser.add_argument("--levers", action="store_true", help="also measure the levers")
    parser.add_argument("--squad", default=str(SQUAD))
    parser.add_argument("--rtqa-docs", type=int, default=500)
    parser.add_argument("--only-levers", action="store_true", help="skip the pipeline comparison")
    parser.add_argument("--lever-texts", type=int, default=128, help="chunk texts for the embedding levers")
    parser.add_argument("--lever-docs", type=int, default=150, help="RealTimeQA docs for the whole-ingest levers")
    parser.add_argument("--sets", default="squad,realtimeqa", help="which article sets to compare")
    parser.add_argument("--no-separate", action="store_true", help="skip the second-pass sentence-vector run")
    parser.add_argument("--out", default="ingest")
    args = parser.parse_args()

    squad = load_squad(args.squad)
    squad_articles = squad.articles[:3] if args.quick else squad.articles
    rtqa = rtqa_articles(12 if args.quick else args.rtqa_docs)
    result: dict = {"command": " ".join(sys.argv), "start": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        if not args.only_levers:
            sets = args.sets.split(",")
            if "squad" in sets:
                result["squad"] = compare("squad", squad_articles, tmp_path, not args.no_separate)
            if "realtimeqa" in sets:
                result["realtimeqa"] = compare("realtimeqa", rtqa, tmp_path, not args.no_separate)
        if args.levers or args.quick:
            sample = [chunk_context(a.title, a.text[i:i + 900]) for a in squad.articles for i in range(0, len(a.text), 2000)]
            sample = random.Random(0).sample(sample, 32 if args.quick else args.lever_texts)
            questions = [q.question for q in random.Random(0).sample(squad.questions, 30)]
            result["embedding_levers"] = embedding_levers(sample, questions, args.quick)
            result["ingest_levers"] = ingest_levers(rtqa_articles(10 if args.quick else args.lever_docs), tmp_path, args.quick)
    result["end"] = machine()
    write_result(args.out, result)


if __name__ == "__main__":
    main()
