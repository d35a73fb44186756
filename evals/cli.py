"""`rag eval`: run a QA benchmark (or the grounding-judge benchmark) through `rag.Library`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from evals import datasets, report, runner
from rag.cli.common import emit_json, settings_from
from rag.errors import InputError


def _bar(total: int, desc: str, unit: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=total < 2, leave=False)


@click.command(name="eval")
@click.option("--dataset", required=True, type=click.Path(path_type=Path), help="Dataset file (or CLAP NQ folder).")
@click.option("--format", "fmt", required=True, type=click.Choice(datasets.FORMATS), help="Dataset format.")
@click.option("--corpus", type=click.Path(path_type=Path), default=None,
              help="Articles for jsonl (folder/files as for `rag add`) or RealTimeQA (docs jsonl).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Ask a seeded sample of N questions.")
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option("--mode", type=click.Choice(["extractive", "llm"]), default=None, help="Answerer (default: llm if configured).")
@click.option("-k", "--top-k", "k", type=click.IntRange(1, 50), default=None, help="Chunks to retrieve (default RAG_TOP_K).")
@click.option("--judge", "judge_kind", type=click.Choice(["offline", "llm"]), default=None,
              help="Support judge for the citation metrics and summedits (default: llm with --mode llm, else offline).")
@click.option("--heldout", is_flag=True, help="summedits: only the documents the judges were not tuned on (odd index).")
@click.option("--with-choices", is_flag=True, help="RealTimeQA: append the multiple-choice options to the question.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Report folder (default evals/runs/<timestamp>).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Index into this data dir instead of the isolated .eval-cache/<corpus hash>/.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_context
def command(ctx, dataset, fmt, corpus, limit, seed, mode, k, judge_kind, heldout, with_choices, out, data_dir, as_json):
    """Measure answers, citations and abstention on a dataset, or the grounding judge (summedits)."""
    settings = settings_from(ctx)
    if mode == "llm" and settings.llm != "openai":
        raise InputError("--mode llm needs an LLM: set RAG_LLM=openai with OPENAI_API_KEY or OPENAI_BASE_URL")
    if data_dir is None and ctx.find_root().get_parameter_source("data_dir") == click.core.ParameterSource.COMMANDLINE:
        data_dir = settings.data_dir  # `rag --data-dir DIR eval ...`: the user asked for that dir
    out = out or Path("evals/runs") / time.strftime("%Y%m%d-%H%M%S")
    use_llm = judge_kind == "llm" if judge_kind else (mode == "llm" or (mode is None and settings.llm == "openai"))
    if use_llm and settings.llm != "openai":
        raise InputError("--judge llm needs an LLM: set RAG_LLM=openai with OPENAI_API_KEY or OPENAI_BASE_URL")
    if fmt == "summedits":
        summary, results = _judge_run(settings, dataset, limit, seed, use_llm, heldout)
        kind = "judge"
    else:
        summary, results = _qa_run(settings, fmt, dataset, corpus, limit, seed, mode, k, with_choices, data_dir, use_llm)
        kind = "qa"
    written = report.write(out, results, summary, kind)
    if as_json:
        emit_json(summary)
        return
    for key, value, interval in report.summary_rows(summary):
        click.echo(f"{key:32} {value:>10}  {interval}")
    click.echo(f"report: {written[3]}")


def _qa_run(settings, fmt, dataset, corpus, limit, seed, mode, k, with_choices, data_dir, use_llm):
    evalset = datasets.load(fmt, dataset, corpus)
    questions = datasets.sample(evalset.questions, limit, seed)
    articles = datasets.corpus_for(evalset, questions)
    bar = None

    def progress(done, total):
        nonlocal bar
        bar = bar or _bar(total, "indexing", "article")
        bar.update(done - bar.n)

    library, key = runner.open_index(articles, settings, data_dir, progress)
    if bar is not None:
        bar.close()
    k = k or settings.top_k
    config = runner.RunConfig(mode=mode or ("llm" if library.llm_configured else "extractive"), k=k, with_choices=with_choices)
    judge = library.support_judge(llm=use_llm)
    results = []
    with _bar(len(questions), "asking", "question") as qbar:
        for question in questions:
            answer, latency = runner.ask(library, question, config)
            results.append(runner.score(library, question, answer, latency, judge, k))
            qbar.update(1)
    summary = runner.summarize(results, {
        "format": fmt, "dataset": str(dataset), "corpus": str(corpus) if corpus else None, "limit": limit,
        "seed": seed, "mode": config.mode, "k": k, "with_choices": with_choices, "articles": len(articles),
        "corpus_hash": key, "data_dir": str(library.settings.data_dir), "embed_model": settings.embed_model,
        "embed_engine": library.embedding_engine(),
        "llm_model": settings.llm_model if library.llm_configured else None,
        "judge": type(judge).__name__,
    })
    return summary, results


def _judge_run(settings, dataset, limit, seed, use_llm, heldout=False):
    from rag.embeddings import make_embedder
    from rag.verify.judge import TUNED_ON

    from evals.fit_judge import is_tuning_group

    pairs = [p for p in datasets.load_summedits(dataset) if not (heldout and is_tuning_group(p.group))]
    pairs = datasets.sample(pairs, limit, seed)
    judge = _judge(settings, make_embedder(settings), use_llm)
    with _bar(len(pairs), "judging", "pair") as bar:
        results = runner.judge_pairs(pairs, judge, progress=bar.update)
    summary = runner.summarize_judge(results, {
        "format": "summedits", "dataset": str(dataset), "limit": limit, "seed": seed, "heldout_only": heldout,
        "judge": type(judge).__name__, "embed_model": settings.embed_model,
        "llm_model": settings.llm_model if use_llm else None, "offline_judge_tuned_on": TUNED_ON,
    })
    return summary, results


def _judge(settings, embedder, use_llm: bool):
    from rag.verify.judge import make_judge

    if not use_llm:
        return make_judge(settings, embedder)
    from rag.llm.client import ChatLLM

    return make_judge(settings, embedder, ChatLLM(settings, max_tokens=1))
