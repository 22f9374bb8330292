"""Report writer for the paper benchmarks (sorting, jigsaw): our numbers beside the paper's.

Input is a list of per-run rows, each a flat dict with at least ``method``, ``size`` and ``seed``
plus one float per metric. :func:`write_report` writes into one folder:

- ``results.csv``: long format, one line per run: ``method,size,seed,<metric>...``;
- ``results.json``: the runs, the per-(method, size) summary, the paper's values and the status;
- ``report.md``: one table per metric, rows = sizes, for every method our mean +- spread over
  seeds beside the paper's value (a column labelled "paper"), marked "in" when it lies within
  our seed spread and "out" when not (see :func:`within_spread`);
- ``<metric>.png``: the metric against size, one line per method (error bars = spread over
  seeds), the paper's values as dashed lines with hollow markers.

The spread is the sample standard deviation over seeds (0 with one seed). A run may lack a metric
(NaN or absent: not measured for it); the seed count of a cell counts the runs that have it. A
report covering fewer runs than planned says so in its first lines ("PARTIAL: k of K runs").

Typical use::

    metrics = [Metric("kendall_tau", "Kendall tau"), Metric("l2_x1000", "1000 x l2", log_y=True)]
    write_report("docs/results/x", rows, metrics, title="Sorting", command="hste bench sorting",
                 planned=[("hste", 5, 0), ...], paper={"hste": {5: {"kendall_tau": 1.0}}})
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from common.atomic import atomic_path, write_text_atomic

KEY_COLUMNS = ("method", "size", "seed")
MARKERS = ("o", "s", "^", "D", "v", "P")

# method -> size -> metric key -> value, as printed in the paper.
PaperValues = Mapping[str, Mapping[int, Mapping[str, float]]]


@dataclass(frozen=True)
class Metric:
    """One reported quantity: ``key`` (column in the rows), ``label`` (for tables and axes),
    ``log_y`` (plot on a log axis), ``digits`` (decimals in the markdown tables)."""

    key: str
    label: str
    log_y: bool = False
    digits: int = 3


# The paper prints two decimals; half a unit in the last of them is its rounding.
PAPER_DIGITS = 2
PAPER_ROUNDING = 0.005


@dataclass(frozen=True)
class Summary:
    """Mean, spread (sample sd), lowest and highest value of one metric over the seeds of one
    (method, size) that have it (``seeds`` of them; 0: no run measured it, every value NaN)."""

    method: str
    size: int
    metric: str
    seeds: int
    mean: float
    spread: float
    low: float
    high: float


def _mean_and_spread(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value); NaNs are left out."""
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return math.nan, math.nan
    mean = sum(finite) / len(finite)
    if len(finite) == 1:
        return mean, 0.0
    variance = sum((v - mean) ** 2 for v in finite) / (len(finite) - 1)
    return mean, math.sqrt(variance)


def within_spread(found: Summary | None, paper: float | None) -> bool | None:
    """Whether the paper's value lies within our seed spread: between our lowest and highest
    seed, widened by the paper's rounding (:data:`PAPER_ROUNDING`). None (no verdict) without a
    paper value or with fewer than 2 seeds measured (no spread)."""
    if found is None or paper is None or found.seeds < 2:
        return None
    return found.low - PAPER_ROUNDING <= paper <= found.high + PAPER_ROUNDING


def spread_mark(verdict: bool | None) -> str:
    """" (in)", " (out)" or "" for a :func:`within_spread` verdict."""
    return "" if verdict is None else (" (in)" if verdict else " (out)")


def ordered_unique(values: Sequence) -> list:
    """The distinct values in first-seen order."""
    return list(dict.fromkeys(values))


def summarise(rows: Sequence[Mapping], metrics: Sequence[Metric]) -> list[Summary]:
    """Per (method, size, metric): mean and spread over seeds; methods in first-seen order,
    sizes ascending."""
    methods = ordered_unique([row["method"] for row in rows])
    sizes = sorted({int(row["size"]) for row in rows})
    summaries = []
    for method in methods:
        for size in sizes:
            group = [r for r in rows if r["method"] == method and int(r["size"]) == size]
            if not group:
                continue
            for metric in metrics:
                values = [float(r.get(metric.key, math.nan)) for r in group]
                finite = [v for v in values if not math.isnan(v)]
                mean, spread = _mean_and_spread(values)
                summaries.append(Summary(method, size, metric.key, len(finite), mean, spread,
                                         min(finite, default=math.nan),
                                         max(finite, default=math.nan)))
    return summaries


def comparison(summaries: Sequence[Summary], paper: PaperValues) -> list[dict]:
    """Every (method, size, metric) the paper has a value for: ours (mean, spread, low, high,
    seeds; None where not run) beside it, with the :func:`within_spread` verdict."""
    by_key = {(s.method, s.size, s.metric): s for s in summaries}
    entries = []
    for method, table in paper.items():
        for size, values in sorted(table.items()):
            for metric, value in values.items():
                found = by_key.get((method, size, metric))
                ours = None if found is None else {k: getattr(found, k) for k in
                                                   ("seeds", "mean", "spread", "low", "high")}
                entries.append({"method": method, "size": size, "metric": metric,
                                "paper": value, "ours": ours,
                                "within_seed_spread": within_spread(found, value)})
    return entries


def results_csv(rows: Sequence[Mapping], metrics: Sequence[Metric]) -> str:
    """Long-format CSV text: a header ``method,size,seed,<metric keys>`` and one line per run."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*KEY_COLUMNS, *(m.key for m in metrics)])
    for row in sorted(rows, key=lambda r: (r["method"], int(r["size"]), int(r["seed"]))):
        writer.writerow([row["method"], row["size"], row["seed"],
                         *(repr(float(row.get(m.key, math.nan))) for m in metrics)])
    return buffer.getvalue()


def _format(value: float, digits: int) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


def _cell(found: Summary | None, digits: int) -> str:
    """"mean ± sd (k)" over k seeds; one seed has no spread: "value (1)"; "not run" or "not
    measured" (runs without this metric)."""
    if found is None:
        return "not run"
    if found.seeds == 0:
        return "not measured"
    if found.seeds == 1:
        return f"{_format(found.mean, digits)} (1)"
    return f"{_format(found.mean, digits)} ± {_format(found.spread, digits)} ({found.seeds})"


def markdown_tables(
    summaries: Sequence[Summary],
    metrics: Sequence[Metric],
    paper: PaperValues,
    size_label: str = "N",
) -> str:
    """One markdown table per metric: a row per size; per method a column "mean +- spread (k)"
    (k = seeds; just "mean (1)" for one seed) and, when the paper has values for that method and
    metric, a column "<method> (paper)" with the value and its :func:`spread_mark`."""
    methods = ordered_unique([s.method for s in summaries])
    sizes = sorted({s.size for s in summaries} | {n for m in methods for n in paper.get(m, {})})
    by_key = {(s.method, s.size, s.metric): s for s in summaries}
    blocks = []
    for metric in metrics:
        header = [size_label]
        with_paper = {m for m in methods
                      if any(metric.key in v for v in paper.get(m, {}).values())}
        for method in methods:
            header.append(method)
            if method in with_paper:
                header.append(f"{method} (paper)")
        lines = [f"### {metric.label}", "", "| " + " | ".join(header) + " |",
                 "|" + "---|" * len(header)]
        for size in sizes:
            cells = [str(size)]
            for method in methods:
                found = by_key.get((method, size, metric.key))
                cells.append(_cell(found, metric.digits))
                if method in with_paper:
                    value = paper[method].get(size, {}).get(metric.key)
                    cells.append("" if value is None else _format(value, PAPER_DIGITS)
                                 + spread_mark(within_spread(found, value)))
            lines.append("| " + " | ".join(cells) + " |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def verdict_lines(entries: Sequence[Mapping], metrics: Sequence[Metric]) -> list[str]:
    """Per metric, how many paper values of :func:`comparison` ``entries`` lie within our seed
    spread, how many outside, and how many have no verdict (not run, or under 2 seeds)."""
    lines = ["| metric | paper values | within our seed spread | outside | no verdict |",
             "|---|---|---|---|---|"]
    for metric in metrics:
        mine = [e["within_seed_spread"] for e in entries if e["metric"] == metric.key]
        if mine:
            lines.append(f"| {metric.label} | {len(mine)} | {mine.count(True)} | "
                         f"{mine.count(False)} | {mine.count(None)} |")
    return lines if len(lines) > 2 else []


def plot_metric(
    path: str | Path,
    summaries: Sequence[Summary],
    metric: Metric,
    paper: PaperValues,
    size_label: str = "N",
    title: str = "",
    log_x: bool = True,
) -> None:
    """PNG of one metric against size (log x axis): a line per method with error bars (spread
    over seeds); the paper's values, where given, dashed with hollow markers in the same colour."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = [s for s in summaries if s.metric == metric.key]
    methods = ordered_unique([s.method for s in chosen])
    figure, axes = plt.subplots(figsize=(7.0, 4.5), dpi=120)
    sizes = sorted({s.size for s in chosen})
    for index, method in enumerate(methods):
        style = dict(color=f"C{index}", marker=MARKERS[index % len(MARKERS)])
        points = sorted((s for s in chosen if s.method == method), key=lambda s: s.size)
        means, spreads = [s.mean for s in points], [s.spread for s in points]
        # A log axis holds non-negative metrics: clip the lower error bar at zero.
        lower = [min(d, m) for m, d in zip(means, spreads, strict=True)] if metric.log_y \
            else spreads
        axes.errorbar([s.size for s in points], means, yerr=[lower, spreads], markersize=5,
                      capsize=3, alpha=0.85, label=method, **style)
        table = paper.get(method, {})
        paper_points = sorted((n, v[metric.key]) for n, v in table.items() if metric.key in v)
        if paper_points:
            axes.plot(*zip(*paper_points, strict=True), linestyle="--", markerfacecolor="none",
                      label=f"{method} (paper)", **style)
            sizes = sorted(set(sizes) | {n for n, _ in paper_points})
    if log_x:
        axes.set_xscale("log")
    axes.set_xticks(sizes, [str(n) for n in sizes])
    axes.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    if metric.log_y:
        axes.set_yscale("symlog", linthresh=1e-3)
        axes.set_ylim(bottom=0.0)
    axes.set_xlabel(f"{size_label} (log scale)" if log_x else size_label)
    axes.set_ylabel(metric.label)
    seeds = sorted({s.seeds for s in chosen})
    seed_text = "/".join(str(k) for k in seeds)
    axes.set_title(f"{title}: {metric.label} (mean ± sd over {seed_text} seeds)", fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, ncols=2)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp)
    plt.close(figure)


def coverage_line(done: int, planned: int) -> str:
    """First line of a report: complete, or PARTIAL with the counts."""
    if done >= planned:
        return f"Complete: all {planned} planned runs are in this report."
    return (f"**PARTIAL: {done} of {planned} planned runs are in this report**; "
            "the missing runs are listed at the end.")


def write_report(
    out_dir: str | Path,
    rows: Sequence[Mapping],
    metrics: Sequence[Metric],
    *,
    title: str,
    command: str,
    planned: Sequence[tuple[str, int, int]],
    paper: PaperValues | None = None,
    paper_note: str = "",
    notes: str = "",
    size_label: str = "N",
    plots: bool = True,
) -> dict[str, Path]:
    """Write results.csv, results.json, report.md and (if ``plots``) one PNG per metric.

    Args:
        out_dir: folder (created if needed).
        rows: one flat dict per finished run with ``method``, ``size``, ``seed`` and every
            metric key (extra keys are kept in the JSON).
        metrics: what to tabulate and plot, in order.
        title: report heading.
        command: the command line that produced the runs (printed in the report).
        planned: every (method, size, seed) the sweep asked for; the report says how many of them
            it covers and lists the missing ones.
        paper: the paper's values (method -> size -> metric key -> value); may be empty.
        paper_note: where the paper's values come from, or why there are none.
        notes: extra markdown placed after the tables (settings, findings, timings).
        size_label: name of the size axis ("N", "grid").
        plots: draw the PNGs (slow-ish; skip for intermediate reports).

    Returns:
        name -> path of every file written.
    """
    out = Path(out_dir)
    paper = paper or {}
    done = {(r["method"], int(r["size"]), int(r["seed"])) for r in rows}
    missing = [key for key in planned if key not in done]
    summaries = summarise(rows, metrics)
    compared = comparison(summaries, paper)
    paths = {"csv": out / "results.csv", "json": out / "results.json", "md": out / "report.md"}

    write_text_atomic(paths["csv"], results_csv(rows, metrics))
    write_text_atomic(paths["json"], json.dumps({
        "title": title,
        "command": command,
        "planned_runs": len(planned),
        "completed_runs": len(planned) - len(missing),
        "complete": not missing,
        "missing": [list(key) for key in missing],
        "metrics": [asdict(m) for m in metrics],
        "summary": [asdict(s) for s in summaries],
        "paper": {m: {str(n): v for n, v in table.items()} for m, table in paper.items()},
        "paper_note": paper_note,
        "comparison": compared,
        "runs": list(rows),
    }, indent=1) + "\n")

    markdown = [f"# {title}", "", coverage_line(len(planned) - len(missing), len(planned)), "",
                "Command:", "", "```", command, "```", "",
                "Ours: mean ± sample standard deviation over seeds (number of seeds in brackets; "
                "a single seed has no spread, so it shows the value alone).",
                f"Paper: {paper_note or 'no values given.'}",
                "Beside a paper value, \"(in)\": it lies within our seed spread (between our "
                "lowest and highest seed, widened by the paper's rounding, "
                f"± {PAPER_ROUNDING}); \"(out)\": it does not; no mark: fewer than 2 seeds "
                "measured, so no spread to compare with.", "",
                markdown_tables(summaries, metrics, paper, size_label)]
    verdicts = verdict_lines(compared, metrics)
    if verdicts:
        markdown += ["## The paper's values against our seed spread", "", *verdicts, ""]
    if notes:
        markdown += [notes.rstrip(), ""]
    if missing:
        markdown += ["## Missing runs (method, size, seed)", "",
                     ", ".join(f"({m}, {n}, {s})" for m, n, s in missing), ""]
    if plots:
        markdown += ["## Plots", ""]
        for metric in metrics:
            paths[metric.key] = out / f"{metric.key}.png"
            plot_metric(paths[metric.key], summaries, metric, paper, size_label, title)
            markdown.append(f"![{metric.label}]({metric.key}.png)")
        markdown.append("")
    write_text_atomic(paths["md"], "\n".join(markdown))
    return paths
