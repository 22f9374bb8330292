"""Which numbers does a trained sorter misplace? The near-tie analysis of a sorting sweep.

For every finished run of one method (N <= ``--max-n``) whose test sequences are not all sorted
exactly, the run is trained again (runs are deterministic given their settings, and the stored
metrics are checked to reproduce) and each misplaced group of positions is listed with the gap
between the numbers it confuses. The test sequences of every run, with or without errors, come
from the seeds alone, so the report also counts how many sequences hold a near-tie at all.

    python -m experiments.sorting_misplaced --results docs/results/sorting \\
        --method hste-gumbel --max-n 120 --out docs/results/sorting/misplaced.md

Gaps are in the units of the numbers (U(0, 1) draws). For N i.i.d. U(0, 1) numbers the smallest
gap between sorted neighbours is below g with probability 1 - (1 - (N - 1) g)^N.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, fields
from pathlib import Path

import click
import torch

from common.atomic import write_text_atomic
from common.errors import InputError
from experiments.sorting import SortingConfig, evaluate, start_run, train_run
from experiments.sorting_sweep import RUNS_FOLDER
from tracker.perm import hungarian
from tracker.perm.metrics import perm_to_indices


@dataclass(frozen=True)
class Misplacement:
    """The wrong positions of one test sequence: ``values`` are the true sorted numbers at
    ``positions``; ``gap`` = max - min of them; ``min_gap`` / ``median_gap``: smallest and median
    gap between sorted neighbours of the whole sequence."""

    sequence: int
    positions: tuple[int, ...]
    values: tuple[float, ...]
    gap: float
    min_gap: float
    median_gap: float


def prob_min_gap_below(n: int, gap: float) -> float:
    """P(smallest neighbour gap of n i.i.d. U(0, 1) numbers < gap) = 1 - (1 - (n-1) gap)^n."""
    return 1.0 - max(0.0, 1.0 - (n - 1) * gap) ** n


def misplacements(model: torch.nn.Module, test) -> list[Misplacement]:
    """Every test sequence the exact Hungarian on ``model``'s scores does not sort exactly."""
    with torch.no_grad():
        predicted = perm_to_indices(hungarian(model(test.x)))
    found = []
    for b in range(test.x.shape[0]):
        wrong = (predicted[b] != test.order[b]).nonzero().flatten().tolist()
        if not wrong:
            continue
        values = test.x_sorted[b, wrong].double()
        gaps = test.x_sorted[b].double().diff()
        found.append(Misplacement(b, tuple(wrong), tuple(values.tolist()),
                                  (values.max() - values.min()).item(),
                                  gaps.min().item(), gaps.median().item()))
    return found


def load_runs(results: Path, method: str, max_n: int) -> list[dict]:
    """The stored run rows of ``method`` with N <= ``max_n``, by (N, seed)."""
    rows = []
    for path in sorted((results / RUNS_FOLDER).glob(f"{method}_N*_seed*.json")):
        try:
            row = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputError(f"unreadable run file {path}: {error}") from None
        if row.get("method") == method and row.get("n", 0) <= max_n:
            config_of(row)  # every setting present
            rows.append(row)
    if not rows:
        raise InputError(f"no finished {method} runs with N <= {max_n} in {results / RUNS_FOLDER}")
    return sorted(rows, key=lambda r: (r["n"], r["seed"]))


def config_of(row: dict) -> SortingConfig:
    """The settings of a stored run row; InputError when the row lacks some."""
    missing = [f.name for f in fields(SortingConfig) if f.name not in row]
    if missing:
        raise InputError(f"run file without {', '.join(missing)} (not a sorting run?)")
    return SortingConfig(**{f.name: row[f.name] for f in fields(SortingConfig)})


def reproduce(row: dict) -> list[Misplacement]:
    """Train the run of ``row`` again and return its misplacements; its stored test metrics must
    come out identical."""
    config = config_of(row)
    state = train_run(config).state
    metrics = evaluate(state.model, state.test)
    for name in ("prop_wrong", "prop_any_wrong"):
        if metrics[name] != row[name]:
            raise InputError(f"{config.method} N={config.n} seed={config.seed} does not reproduce: "
                             f"{name} {metrics[name]} vs stored {row[name]}")
    return misplacements(state.model, state.test)


def near_tie_counts(rows: list[dict], threshold: float) -> tuple[int, int]:
    """(test sequences in all ``rows``' runs, those whose smallest neighbour gap < threshold)."""
    total = near = 0
    for row in rows:
        x_sorted = start_run(config_of(row)).test.x_sorted.double()
        total += x_sorted.shape[0]
        near += int((x_sorted.diff(dim=-1).min(dim=-1).values < threshold).sum())
    return total, near


def report(rows: list[dict], found: dict[tuple[int, int], list[Misplacement]]) -> str:
    """Markdown: one line per misplaced group, then the near-tie count over every run."""
    method = rows[0]["method"]
    sizes = sorted({r["n"] for r in rows})
    lines = [f"# Misplaced numbers of `{method}` (N <= {sizes[-1]})", "",
             f"Runs: {len(rows)} finished ({', '.join(map(str, sizes))} x seeds); with errors: "
             f"{len(found)}. Exact Hungarian on noise-free scores.", "",
             "| N | seed | test seq | wrong positions | true values there | gap | gap / median gap "
             "| smallest gap of the sequence? |", "|---|---|---|---|---|---|---|---|"]
    for (n, seed), groups in sorted(found.items()):
        for m in groups:
            values = ", ".join(f"{v:.6f}" for v in m.values)
            lines.append(f"| {n} | {seed} | {m.sequence} | {', '.join(map(str, m.positions))} | "
                         f"{values} | {m.gap:.2e} | {m.gap / m.median_gap:.1e} | "
                         f"{'yes' if m.gap <= m.min_gap else 'no'} |")
    gaps = [m.gap for groups in found.values() for m in groups]
    if gaps:
        threshold = max(gaps)
        total, near = near_tie_counts(rows, threshold * (1 + 1e-9))
        wrong_sequences = len(gaps)
        lines += ["", f"Test sequences of all {len(rows)} runs: {total}; with a neighbour gap <= "
                  f"{threshold:.2e} (the largest misplaced gap): {near}; misplaced: "
                  f"{wrong_sequences}, all among those {near}.", "",
                  "Chance that one sequence holds such a near-tie, 1 - (1 - (N-1) g)^N at g = "
                  f"{threshold:.2e}: " + ", ".join(
                      f"N = {n}: {prob_min_gap_below(n, threshold):.3f}"
                      for n in sizes)]
    return "\n".join(lines) + "\n"


@click.command()
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="A sorting sweep folder (with runs/*.json).")
@click.option("--method", default="hste-gumbel", show_default=True)
@click.option("--max-n", type=click.IntRange(min=1), default=120, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Markdown report to write.")
def main(results: Path, method: str, max_n: int, out: Path) -> None:
    """Retrain the runs of METHOD that misplace numbers and report the gaps they confuse."""
    torch.set_num_threads(1)
    try:
        rows = load_runs(results, method, max_n)
        found = {}
        for row in rows:
            if row["prop_any_wrong"] > 0:
                click.echo(f"retraining {method} N={row['n']} seed={row['seed']}", err=True)
                found[(row["n"], row["seed"])] = reproduce(row)
        text = report(rows, found)
    except InputError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    write_text_atomic(out, text)
    click.echo(text)


if __name__ == "__main__":
    main()
