"""The paper's list-form Kendall tau for stored sorting runs, by retraining them (issue 18).

Stored run files (``<results>/runs/*.json``) hold only the mean test metrics, not the predicted
permutations, so the paper's tau (:func:`tracker.perm.metrics.kendall_tau_list`) cannot be
computed from them. Runs are deterministic given their settings (one torch thread), so each one
is trained again, its stored metrics are checked to come out identical, and the full metrics of
:func:`experiments.sorting.evaluate` are written to ``<results>/paper_tau/<run>.json``:

    python -m experiments.sorting_paper_tau --results docs/results/sorting --budget-min 60

Runs go in :func:`priority` order (seed 0 first, cheapest first) and no run is started after
``--budget-min`` minutes, so a partial pass covers seed 0 of every method over a spread of N.
Finished files are kept: running again does the rest. ``--run NAME`` (repeatable) retrains only
the named runs, e.g. the two the paper's N = 400 taus are compared with:

    python -m experiments.sorting_paper_tau --results docs/results/sorting \
        --run hste-gumbel_N400_seed0 --run gumbel-sinkhorn_N400_seed0
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import click
import torch

from common.atomic import write_text_atomic
from common.errors import InputError
from experiments.sorting import SortingConfig, evaluate, train_run
from experiments.sorting_misplaced import config_of
from experiments.sorting_sweep import RUNS_FOLDER

PAPER_TAU_FOLDER = "paper_tau"
# Stored metrics a retrained run must reproduce exactly (``kendall_tau`` is ours, over pairs).
CHECKED = ("kendall_tau", "prop_wrong", "prop_any_wrong", "l1_x100", "l2_x1000")


def run_name(config: SortingConfig) -> str:
    """``<method>_N<n>_seed<seed>``, the stem of a run's files."""
    return f"{config.method}_N{config.n}_seed{config.seed}"


def load_rows(results: Path) -> list[dict]:
    """Every stored run row under ``results/runs``; InputError if none or one is unreadable."""
    rows = []
    for path in sorted((results / RUNS_FOLDER).glob("*_N*_seed*.json")):
        try:
            row = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputError(f"unreadable run file {path}: {error}") from None
        config_of(row)  # every setting present
        rows.append(row)
    if not rows:
        raise InputError(f"no run files in {results / RUNS_FOLDER}")
    return rows


def load_recomputed(results: Path) -> dict[str, dict]:
    """The retrained runs under ``results/paper_tau``, by :func:`run_name` (empty if none)."""
    found = {}
    for path in sorted((results / PAPER_TAU_FOLDER).glob("*_N*_seed*.json")):
        try:
            found[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InputError(f"unreadable recomputed run {path}: {error}") from None
    return found


def priority(row: dict) -> tuple[int, float]:
    """Sort key of a stored run row: by seed, and within a seed cheapest first by the run's
    stored training time, so a partial pass covers seed 0 of every method across N first."""
    return row["seed"], row["train_seconds"]


def recompute(row: dict) -> dict:
    """Train the run of ``row`` again; its test metrics, the stored ones it must reproduce
    (``stored_<key>`` where they differ) and ``reproduced`` (all of :data:`CHECKED` identical)."""
    config = config_of(row)
    trained = train_run(config)
    metrics = evaluate(trained.state.model, trained.state.test)
    differing = {f"stored_{k}": row[k] for k in CHECKED if metrics[k] != row[k]}
    return {**asdict(config), **metrics, "reproduced": not differing, **differing,
            "retrain_seconds": trained.train_seconds}


@click.command()
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="A sorting sweep folder (with runs/*.json).")
@click.option("--budget-min", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Start no run after this many minutes.")
@click.option("--run", "only", multiple=True, metavar="NAME",
              help="Retrain only this run (e.g. hste-gumbel_N400_seed0); repeatable.")
def main(results: Path, budget_min: float, only: tuple[str, ...]) -> None:
    """Retrain the stored runs of RESULTS in priority order and store both Kendall taus."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    try:
        rows = load_rows(results)
    except InputError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)
    rows.sort(key=priority)
    unknown = set(only) - {run_name(config_of(row)) for row in rows}
    if unknown:
        click.echo(f"Error: {results}: no stored run named {', '.join(sorted(unknown))}", err=True)
        sys.exit(2)
    for row in rows:
        if only and run_name(config_of(row)) not in only:
            continue
        out = results / PAPER_TAU_FOLDER / f"{run_name(config_of(row))}.json"
        if out.exists():
            continue
        if time.perf_counter() - start > 60.0 * budget_min:
            click.echo("budget spent; stopping", err=True)
            break
        click.echo(f"retraining {out.stem}", err=True)
        result = recompute(row)
        write_text_atomic(out, json.dumps(result, indent=1) + "\n")
        click.echo(f"{out.stem}: tau list {result['kendall_tau_list']:.4f}, pairs "
                   f"{result['kendall_tau']:.4f}, reproduced {result['reproduced']}, "
                   f"{result['retrain_seconds']:.0f} s", err=True)


if __name__ == "__main__":
    main()
