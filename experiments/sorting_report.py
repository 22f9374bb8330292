"""The sorting benchmark's report: its metrics, timing comparison and target checks, written
through the shared writer :func:`experiments.report.write_report`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from common.atomic import write_text_atomic
from experiments.paper_values import SORTING_TABLE5, SORTING_TABLE5_NOTE
from experiments.report import Metric, Summary, summarise, write_report
from experiments.sorting import METHODS, SortingConfig

METRICS: tuple[Metric, ...] = (
    Metric("kendall_tau", "Kendall tau"),
    Metric("prop_wrong", "Prop. wrong"),
    Metric("prop_any_wrong", "Prop. any wrong"),
    Metric("l1_x100", "100 x l1", log_y=True),
    Metric("l2_x1000", "1000 x l2", log_y=True),
    Metric("constraint_error_row", "training constraint error Err_r", log_y=True, digits=4),
    Metric("constraint_error_col", "training constraint error Err_c", log_y=True, digits=4),
    Metric("seconds_per_epoch", "training time per epoch [s]", log_y=True, digits=4),
)
SWEEP_LOG = "sweep_log.json"


def record_invocation(out_dir: str | Path, started_utc: str, wall_seconds: float, new_runs: int,
                      jobs: int) -> list[dict]:
    """Create or update this sweep call's entry (keyed by its start time) in
    ``<out>/sweep_log.json``, so that a killed sweep keeps its time up to its last finished run.
    Calls that finished no run are not logged. Returns the whole log."""
    path = Path(out_dir) / SWEEP_LOG
    log = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    if new_runs:
        entry = {"started_utc": started_utc, "wall_seconds": round(wall_seconds, 1),
                 "new_runs": new_runs, "jobs": jobs}
        log = [e for e in log if e.get("started_utc") != started_utc] + [entry]
        write_text_atomic(path, json.dumps(log, indent=1) + "\n")
    return log


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the microsecond (it keys a sweep call in the log, and two
    calls can start within the same second)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _means(summaries: Sequence[Summary], metric: str) -> dict[tuple[str, int], float]:
    return {(s.method, s.size): s.mean for s in summaries if s.metric == metric}


def _verdict(checks: Sequence[bool | None]) -> str:
    if not checks or any(c is None for c in checks):
        return "not measured (runs missing)"
    return "**met**" if all(checks) else "**not met**"


def target_lines(summaries: Sequence[Summary], method: str, any_wrong_up_to: int,
                 tau_at: int) -> list[str]:
    """Checks "Prop. any wrong = 0 for every N <= any_wrong_up_to" and "Kendall tau >= 0.95 at
    N = tau_at" for ``method`` (means over seeds)."""
    any_wrong = _means(summaries, "prop_any_wrong")
    tau = _means(summaries, "kendall_tau")
    sizes = sorted({s.size for s in summaries if s.size <= any_wrong_up_to})
    zero = [any_wrong[(method, n)] == 0.0 if (method, n) in any_wrong else None for n in sizes]
    tau_ok = tau.get((method, tau_at))
    return [
        f"- {method}: Prop. any wrong = 0 for every N <= {any_wrong_up_to} "
        f"(N run: {sizes}): {_verdict(zero)}",
        f"- {method}: Kendall tau >= 0.95 at N = {tau_at}: "
        f"{_verdict([None if tau_ok is None else tau_ok >= 0.95])}"
        + ("" if tau_ok is None else f" (mean {tau_ok:.3f})"),
    ]


def comparison_lines(summaries: Sequence[Summary], ours: str, baseline: str,
                     from_size: int) -> list[str]:
    """Is ``baseline`` worse (lower mean Kendall tau) than ``ours`` at every N >= from_size?"""
    tau = _means(summaries, "kendall_tau")
    sizes = sorted({s.size for s in summaries if s.size >= from_size})
    checks = [tau[(baseline, n)] < tau[(ours, n)]
              if (baseline, n) in tau and (ours, n) in tau else None for n in sizes]
    return [f"- {baseline} worse (lower Kendall tau) than {ours} at every N >= {from_size}: "
            f"{_verdict(checks)}"]


def timing_lines(summaries: Sequence[Summary], pairs: Sequence[tuple[str, str]],
                 from_size: int = 100) -> list[str]:
    """Per-epoch training time of HSTE methods against their Sinkhorn counterparts at
    N >= from_size, as a markdown table with a verdict line."""
    per_epoch = _means(summaries, "seconds_per_epoch")
    sizes = sorted({s.size for s in summaries if s.size >= from_size})
    lines = ["| N | " + " | ".join(f"{a} / {b}" for a, b in pairs) + " |",
             "|---|" + "---|" * len(pairs)]
    checks = []
    for n in sizes:
        cells = []
        for a, b in pairs:
            if (a, n) in per_epoch and (b, n) in per_epoch:
                ratio = per_epoch[(a, n)] / per_epoch[(b, n)]
                checks.append(ratio <= 1.0)
                cells.append(f"{per_epoch[(a, n)]:.3g} s / {per_epoch[(b, n)]:.3g} s = {ratio:.2f}")
            else:
                cells.append("not run")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    verdict = _verdict(checks if sizes else [None])
    return [f"HSTE per-epoch training time no worse than Sinkhorn's at N >= {from_size}: {verdict}",
            "", *lines]


def write_sorting_report(
    out_dir: str | Path,
    rows: Sequence[Mapping],
    planned: Sequence[tuple[str, int, int]],
    base: SortingConfig,
    command: str,
    log: Sequence[Mapping],
    plots: bool = True,
) -> dict[str, Path]:
    """The sorting report: tables and plots of :data:`METRICS` beside the paper's Table 5,
    settings, sweep wall time, timing ratios and the issue's targets."""
    order = list(METHODS)
    rows = sorted(rows, key=lambda r: (order.index(r["method"]), r["n"], r["seed"]))
    summaries = summarise(rows, METRICS)
    methods = {r["method"] for r in rows}
    wall = sum(entry["wall_seconds"] for entry in log)
    settings = {k: v for k, v in asdict(base).items() if k not in ("n", "method", "seed")}
    notes = [
        "## Settings", "",
        "Shared by every run (N, method and seed vary): "
        + ", ".join(f"{k} = {v}" for k, v in settings.items()) + ".",
        "The paper reports one run per entry; ours are over the seeds shown in brackets. "
        "Test: exact Hungarian on noise-free scores for every method. "
        "Training times are wall-clock on a shared 2-core machine (other jobs ran beside): noisy.",
        "",
        "## Sweep wall time", "",
        f"{wall:.0f} s ({wall / 60:.1f} min) over {len(log)} invocation(s) of the sweep "
        f"(jobs per invocation: {[e['jobs'] for e in log]}).", "",
        "## Targets (means over seeds)", "",
        *target_lines(summaries, "hste-gumbel", 120, 200),
        *comparison_lines(summaries, "hste-gumbel", "gumbel-sinkhorn", 80),
    ]
    if "hste-gumbel-plus" in methods:
        notes += target_lines(summaries, "hste-gumbel-plus", 200, 400)
    notes += ["", "## Training time per epoch", "",
              *timing_lines(summaries, [("hste-gumbel", "gumbel-sinkhorn"), ("hste", "sinkhorn")])]
    return write_report(
        out_dir, rows, METRICS, title="Number sorting (paper Table 5)", command=command,
        planned=planned, paper=SORTING_TABLE5, paper_note=SORTING_TABLE5_NOTE,
        notes="\n".join(notes), plots=plots,
    )
