"""The sorting benchmark's report: its metrics, timing comparison and target checks, written
through the shared writer :func:`experiments.report.write_report`.

Two Kendall taus (:mod:`tracker.perm.metrics`): ``kendall_tau_list``, the paper's, beside its
Table 5 column, and ``kendall_tau``, ours over misordered pairs. Runs stored before the first
existed lack it; where such a run was retrained by :mod:`experiments.sorting_paper_tau` (and
reproduced its stored metrics), the report takes the recomputed value and lists which runs have
it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from common.atomic import write_text_atomic
from experiments.paper_values import SORTING_TABLE5_NOTE, sorting_table5
from experiments.report import Metric, Summary, summarise, write_report
from experiments.sorting import METHODS, SortingConfig
from experiments.sorting_paper_tau import PAPER_TAU_FOLDER, load_recomputed, run_name

METRICS: tuple[Metric, ...] = (
    Metric("kendall_tau_list", "Kendall tau, list form (the paper's metric)"),
    Metric("kendall_tau", "Kendall tau over misordered pairs (ours)"),
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


def merge_recomputed(rows: Sequence[Mapping], recomputed: Mapping[str, Mapping]
                     ) -> tuple[list[dict], list[str]]:
    """``rows`` with ``kendall_tau_list`` taken from ``recomputed`` (by run name) where a row
    lacks it and the retrained run reproduced the stored metrics. Returns (rows, names of the
    runs that got it)."""
    merged, used = [], []
    for row in rows:
        name = run_name(SortingConfig(**{k: row[k] for k in ("n", "method", "seed")}))
        again = recomputed.get(name)
        if "kendall_tau_list" not in row and again is not None and again["reproduced"]:
            row = {**row, "kendall_tau_list": again["kendall_tau_list"]}
            used.append(name)
        merged.append(dict(row))
    return merged, used


def expected_list_tau(prop_wrong: float) -> float:
    """Expected list-form tau, 1 - 4p/3 + p^2/3, when a fraction p of the positions is wrong in
    swapped pairs of neighbours and the inputs are listed in random order, independent of the
    errors (large N): pairs of two right positions count +1, pairs of one right and one wrong
    position +1/3 on average, other pairs 0 on average."""
    return 1.0 - 4.0 * prop_wrong / 3.0 + prop_wrong**2 / 3.0


def retrained_lines(recomputed: Mapping[str, Mapping]) -> list[str]:
    """One line per retrained run: whether it reproduced its stored metrics, its own Prop. wrong,
    both taus, and the list-form tau :func:`expected_list_tau` predicts from that Prop. wrong."""
    if not recomputed:
        return []
    paper = sorting_table5()
    lines = ["Every retrained run, with its own metrics (a run that did not reproduce its stored "
             "metrics is a valid run of the same settings, but not the stored one, so it stays "
             "out of the tables above), beside the paper's values of its cell:", "",
             "| run | reproduced | Prop. wrong | list-form tau | expected from Prop. wrong "
             "| tau over pairs | paper Prop. wrong | paper tau | retrain s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, run in sorted(recomputed.items(),
                            key=lambda item: (item[1]["method"], item[1]["n"], item[1]["seed"])):
        theirs = paper.get(run["method"], {}).get(run["n"], {})
        printed = [f"{theirs[k]:.2f}" if k in theirs else "-"
                   for k in ("prop_wrong", "kendall_tau_list")]
        lines.append(f"| {name} | {'yes' if run['reproduced'] else 'no'} | "
                     f"{run['prop_wrong']:.4f} | {run['kendall_tau_list']:.4f} | "
                     f"{expected_list_tau(run['prop_wrong']):.4f} | {run['kendall_tau']:.4f} | "
                     f"{' | '.join(printed)} | {run['retrain_seconds']:.0f} |")
    return lines + [""]


def list_tau_lines(summaries: Sequence[Summary], rows: Sequence[Mapping], used: Sequence[str],
                   recomputed: Mapping[str, Mapping], results: Path) -> list[str]:
    """Which runs have the list-form tau (and from where), the N = 400 comparison with the
    paper, and the paper's and our list-form tau beside :func:`expected_list_tau`."""
    paper = sorting_table5()
    methods = [m for m in METHODS if any(s.method == m for s in summaries)]
    sizes = sorted({s.size for s in summaries})
    has = sum("kendall_tau_list" in r for r in rows)
    native = has - len(used)
    lines = ["## The paper's Kendall tau (list form): which runs have it", "",
             f"**{has} of {len(rows)} runs have the list-form tau** ({native} measured in their "
             f"sweep, {len(used)} recomputed by retraining); the cells of the other runs say "
             "\"not measured\", and a cell with fewer seeds than the others is over the seeds "
             "that have it. The runs of this sweep store the mean metrics only, so the list-form "
             "tau needs the predicted permutations: a stored run is retrained (deterministic, "
             "one thread) and kept only if it reproduces its stored Kendall tau over pairs, Prop. "
             "wrong, Prop. any wrong, l1 and l2 exactly, by",
             "", "```", f"python -m experiments.sorting_paper_tau --results {results}", "```",
             "", "(optionally with `--budget-min`, after which it starts no further run)",
             f"(results in `{PAPER_TAU_FOLDER}/`). Seeds with the list-form tau, per cell:", "",
             "| N | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for n in sizes:
        cells = []
        for method in methods:
            seeds = sorted(r["seed"] for r in rows if r["method"] == method and r["n"] == n
                           and "kendall_tau_list" in r)
            cells.append(", ".join(map(str, seeds)) if seeds else "-")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    failed = sorted(name for name, run in recomputed.items() if not run["reproduced"])
    if failed:
        lines += ["", f"Retrained but not reproduced (left out): {', '.join(failed)}."]
    by_key = {(s.method, s.size, s.metric): s for s in summaries}
    lines += ["", "List-form tau at N = 400 against the paper:", ""]
    for method in ("hste-gumbel", "gumbel-sinkhorn"):
        found = by_key.get((method, 400, "kendall_tau_list"))
        value = paper.get(method, {}).get(400, {}).get("kendall_tau_list")
        ours = ("not measured" if found is None or found.seeds == 0 else
                f"{found.mean:.3f} (seeds: {found.seeds}; lowest {found.low:.3f}, highest "
                f"{found.high:.3f})")
        lines.append(f"- {method}: ours {ours}; paper "
                     + ("not given" if value is None else f"{value:.2f}"))
    lines += ["", "### Both list-form taus beside the value Prop. wrong predicts", "",
              "Expected list-form tau 1 - 4p/3 + p^2/3 from Prop. wrong p (errors as swapped "
              "neighbours, input order random; a prediction, not a measurement). Per cell: "
              "paper's printed tau / expected from the paper's Prop. wrong; ours measured "
              "(mean over the seeds that have it) / expected from our mean Prop. wrong.", "",
              "| N | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for n in sizes:
        cells = []
        for method in methods:
            printed = paper.get(method, {}).get(n, {})
            theirs = (f"{printed['kendall_tau_list']:.2f} / "
                      f"{expected_list_tau(printed['prop_wrong']):.2f}"
                      if "kendall_tau_list" in printed else "-")
            measured = by_key.get((method, n, "kendall_tau_list"))
            wrong = by_key.get((method, n, "prop_wrong"))
            ours = ("-" if measured is None or measured.seeds == 0 else f"{measured.mean:.3f}")
            ours += "" if wrong is None else f" / {expected_list_tau(wrong.mean):.3f}"
            cells.append(f"paper {theirs}; ours {ours}")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return [*lines, "", *retrained_lines(recomputed)]


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
    recomputed = load_recomputed(Path(out_dir))
    rows, used = merge_recomputed(rows, recomputed)
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
        *list_tau_lines(summaries, rows, used, recomputed, Path(out_dir)),
        "## Targets (means over seeds; Kendall tau here is ours, over misordered pairs)", "",
        *target_lines(summaries, "hste-gumbel", 120, 200),
        *comparison_lines(summaries, "hste-gumbel", "gumbel-sinkhorn", 80),
    ]
    if "hste-gumbel-plus" in methods:
        notes += target_lines(summaries, "hste-gumbel-plus", 200, 400)
    notes += ["", "## Training time per epoch", "",
              *timing_lines(summaries, [("hste-gumbel", "gumbel-sinkhorn"), ("hste", "sinkhorn")])]
    return write_report(
        out_dir, rows, METRICS, title="Number sorting (paper Table 5)", command=command,
        planned=planned, paper=sorting_table5(), paper_note=SORTING_TABLE5_NOTE,
        notes="\n".join(notes), plots=plots,
    )
