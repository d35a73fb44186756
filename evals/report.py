"""Writes a run to disk: results.jsonl, report.json, report.md, PNG plots and a self-contained
report.html (plots inlined, per-question browser with the cited spans highlighted)."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

PLOTS = ("metrics.png", "support.png", "latency.png")


def write(out: Path, results: list[dict], summary: dict, kind: str = "qa") -> list[Path]:
    """Write every report file into `out`; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh:
        for row in results:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    (out / "report.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    plots = _plot_rates(out / "metrics.png", summary)
    plots += _plot_support(out / "support.png", results, kind)
    if kind == "qa":
        plots += _plot_latency(out / "latency.png", results)
    (out / "report.md").write_text(markdown(summary, plots), encoding="utf-8")
    (out / "report.html").write_text(html_report(summary, results, plots, kind), encoding="utf-8")
    return [out / "results.jsonl", out / "report.json", out / "report.md", out / "report.html", *plots]


def _rates(summary: dict) -> list[tuple[str, float, list[float] | None]]:
    ci = summary.get("ci", {})
    return [(k, v, ci.get(k)) for k, v in summary.items()
            if isinstance(v, float) and 0.0 <= v <= 1.0 and not k.startswith("latency")]


def _save(fig, path: Path) -> list[Path]:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def _plot_rates(path: Path, summary: dict) -> list[Path]:
    rates = _rates(summary)
    if not rates:
        return []
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rates) + 1.2))
    names = [r[0] for r in rates][::-1]
    values = [r[1] for r in rates][::-1]
    errs = [[v - (ci[0] if ci else v) for _, v, ci in rates][::-1], [(ci[1] if ci else v) - v for _, v, ci in rates][::-1]]
    ax.barh(names, values, xerr=errs, color="#4c78a8", capsize=3)
    ax.set_xlim(0, 1)
    ax.set_xlabel("rate (bars: 95% bootstrap interval)")
    ax.set_title(f"n = {summary.get('n')}")
    return _save(fig, path)


def _plot_support(path: Path, results: list[dict], kind: str) -> list[Path]:
    """Support scores, split by the human label (judge runs) or by answer correctness (QA)."""
    if kind == "judge":
        groups = {"consistent (label 1)": [r["score"] for r in results if r["label"]],
                  "inconsistent (label 0)": [r["score"] for r in results if not r["label"]]}
        title = "judge score by human label"
    else:
        groups = {"answer contains gold": [], "answer lacks gold": []}
        for r in results:
            key = "answer contains gold" if r["verdicts"].get("contains_gold") else "answer lacks gold"
            groups[key].extend(r["verdicts"].get("support_scores", []))
        title = "support score of answer statements"
    if not any(groups.values()):
        return []
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for label, scores in groups.items():
        if scores:
            ax.hist(scores, bins=20, range=(0, 1), alpha=0.6, label=f"{label} (n={len(scores)})")
    ax.set_xlabel("support score")
    ax.set_ylabel("count")
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)


def _plot_latency(path: Path, results: list[dict]) -> list[Path]:
    latencies = [r["latency_ms"] for r in results]
    if not latencies:
        return []
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(latencies, bins=30, color="#f58518")
    ax.set_xlabel("latency per question (ms)")
    ax.set_ylabel("questions")
    return _save(fig, path)


def summary_rows(summary: dict) -> list[tuple[str, str, str]]:
    """(metric, value, 95% interval) rows of a summary, for tables and the terminal."""
    ci = summary.get("ci", {})
    rows = []
    for key, value in summary.items():
        if key in ("ci", "config"):
            continue
        if key.startswith("by_") and isinstance(value, dict):  # per intent / category: one row per rate
            rows += [(f"{key}.{group}.{metric}", f"{v}", "") for group, rates in value.items() for metric, v in rates.items()]
            continue
        interval = ci.get(key)
        rows.append((key, f"{value}", f"[{interval[0]:.3f}, {interval[1]:.3f}]" if interval else ""))
    return rows


def markdown(summary: dict, plots: list[Path]) -> str:
    """report.md: the summary table, the config and links to the plots."""
    lines = ["# Eval report", "", "| metric | value | 95% CI |", "|---|---|---|"]
    lines += [f"| {k} | {v} | {c} |" for k, v, c in summary_rows(summary)]
    lines += ["", "## Config", "", "```json", json.dumps(summary.get("config", {}), indent=2, default=str), "```", ""]
    lines += [f"![{p.stem}]({p.name})" for p in plots]
    return "\n".join(lines) + "\n"


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{path.stem}" src="data:image/png;base64,{data}">'


def _highlight(quote: str) -> str:
    return f"<mark>{html.escape(quote)}</mark>"


def _question_html(i: int, r: dict) -> str:
    a, v = r["answer"], r["verdicts"]
    shown = {k: val for k, val in v.items() if k not in ("support_scores",)}
    cites = "".join(
        f"<li>[{c['n']}] <b>{html.escape(c['title'])}</b> <code>{html.escape(c['article_id'])} "
        f"{c['start']}-{c['end']}</code> support {c['support']}<br>{_highlight(c['quote'])}</li>"
        for c in a["citations"])
    ok = "ok" if v.get("contains_gold", 1.0 if v["abstained"] != r["answerable"] else 0.0) else "miss"
    history = "".join(f"<div class=hist>Q: {html.escape(t['question'])}<br>A: {html.escape(t['answer'])}</div>"
                      for t in r.get("history", []))
    return (f'<details class="{ok}"><summary>#{i} {html.escape(r["question"])}'
            f'{"" if r["answerable"] else " <i>(unanswerable)</i>"}</summary>{history}'
            f"<p><b>Answer</b> ({a['mode']}, {r['latency_ms']} ms): {html.escape(a['answer'])}</p>"
            f"<p><b>Gold</b>: {html.escape('; '.join(r['gold']['answers']) or '-')}</p>"
            f"<ol class=cites>{cites}</ol><pre>{html.escape(json.dumps(shown, default=str))}</pre></details>")


def _judge_row_html(i: int, r: dict) -> str:
    ok = "ok" if r["supported"] == r["label"] else "miss"
    return (f'<details class="{ok}"><summary>#{i} label {int(r["label"])} · judged '
            f'{"supported" if r["supported"] else "unsupported"} ({r["score"]})</summary>'
            f"<p>{html.escape(r['summary'])}</p><pre>{html.escape('; '.join(r['reasons']))}</pre></details>")


def html_report(summary: dict, results: list[dict], plots: list[Path], kind: str) -> str:
    """A single HTML file with no external resources: summary, plots and a question browser."""
    table = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td><td>{c}</td></tr>"
                    for k, v, c in summary_rows(summary))
    rows = [(_judge_row_html if kind == "judge" else _question_html)(i, r) for i, r in enumerate(results, 1)]
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Eval report</title><style>
body{{font:14px system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}}
table{{border-collapse:collapse}}td{{border:1px solid #ccc;padding:2px 8px}}
img{{max-width:100%;display:block;margin:1em 0}}mark{{background:#ffe58a}}
details{{border-left:4px solid #999;padding:2px 8px;margin:4px 0}}details.ok{{border-color:#2a9d4b}}
details.miss{{border-color:#d1495b}}pre{{white-space:pre-wrap;font-size:12px;color:#555}}
.hist{{color:#666;font-size:12px}}#filter{{width:100%;padding:4px}}
</style></head><body><h1>Eval report</h1><table><tr><th>metric</th><th>value</th><th>95% CI</th></tr>{table}</table>
<h2>Config</h2><pre>{html.escape(json.dumps(summary.get('config', {}), indent=2, default=str))}</pre>
<h2>Plots</h2>{''.join(_img(p) for p in plots)}
<h2>Questions ({len(results)})</h2><input id=filter placeholder="filter by text">
<div id=rows>{''.join(rows)}</div>
<script>document.getElementById('filter').oninput=e=>{{const q=e.target.value.toLowerCase();
for(const d of document.querySelectorAll('#rows details'))d.style.display=d.textContent.toLowerCase().includes(q)?'':'none'}}</script>
</body></html>"""
