"""A resumable sweep of sorting runs over methods x N x seeds, optionally in parallel processes.

Each finished run is written at once to ``<out>/runs/<method>_N<n>_seed<seed>.json`` (atomically),
so a sweep killed half-way keeps what it finished; running the same sweep again skips those runs
and does the rest. A run file whose settings differ from the requested ones is an error (a folder
holds one set of settings), never silently mixed in. Runs go by N ascending, and within one N
cheapest method first, so a sweep stopped early has complete table rows (every method and seed)
for the smaller N.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, fields, replace
from pathlib import Path

import torch
from tqdm import tqdm

from common.atomic import write_text_atomic
from common.errors import InputError
from experiments.sorting import METHODS, SortingConfig, run_sorting

RUNS_FOLDER = "runs"


def plan_sweep(
    base: SortingConfig, methods: Sequence[str], sizes: Sequence[int], seeds: Sequence[int]
) -> list[SortingConfig]:
    """Every (method, N, seed) as a config derived from ``base``; by N, then costliest first (so
    that parallel workers finish together and an interrupted sweep leaves whole rows of small N)."""
    configs = [replace(base, method=m, n=n, seed=s) for m in methods for n in sizes for s in seeds]
    return sorted(configs, key=lambda c: (c.n, -estimated_cost(c), c.method, c.seed))


def estimated_cost(config: SortingConfig) -> float:
    """Relative cost of a run, for ordering only: epochs x matrices x N^3, Sinkhorn x 4 (measured
    ratio of Gumbel-Sinkhorn to HSTE + Gumbel per epoch at N = 100 to 400, epoch_bench.json)."""
    method = METHODS[config.method]
    matrices = config.train_sequences * ((method.samples or config.samples) if method.noisy else 1)
    factor = 4.0 if method.operator == "sinkhorn" else 1.0
    return factor * config.epochs * matrices * float(config.n) ** 3


def run_path(out_dir: str | Path, config: SortingConfig) -> Path:
    """Where the result of ``config`` is stored."""
    return Path(out_dir) / RUNS_FOLDER / f"{config.method}_N{config.n}_seed{config.seed}.json"


def load_finished(out_dir: str | Path, config: SortingConfig) -> dict | None:
    """The stored result of ``config``, or None if it has not finished.

    Raises:
        InputError: the file is unreadable, or was made with other settings.
    """
    path = run_path(out_dir, config)
    if not path.exists():
        return None
    try:
        row = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"unreadable run file {path}: {error}; delete it to redo it") from None
    if not isinstance(row, dict):
        raise InputError(f"{path}: not a run record (a JSON {type(row).__name__}, not an "
                         "object); delete it to redo it")
    wanted = asdict(config)
    stored = {f.name: row.get(f.name) for f in fields(SortingConfig)}
    if stored != wanted:
        differing = sorted(k for k in wanted if stored[k] != wanted[k])
        raise InputError(
            f"{path} was made with other settings ({', '.join(differing)} differ); "
            "use another --out folder or delete the old runs"
        )
    return row


def _init_worker() -> None:
    torch.set_num_threads(1)


def run_and_store(config: SortingConfig, out_dir: str | Path) -> dict:
    """Run one config and write its result file; returns the result row (with ``size`` = N)."""
    row = {"size": config.n, **run_sorting(config)}
    write_text_atomic(run_path(out_dir, config), json.dumps(row, indent=1) + "\n")
    return row


def run_sweep(
    configs: Iterable[SortingConfig],
    out_dir: str | Path,
    jobs: int = 1,
    on_result: Callable[[list[dict], int, float], None] | None = None,
) -> tuple[list[dict], float, int]:
    """Run every config not finished yet.

    Returns (rows of all finished runs, earlier and new; wall seconds of this call; number of new
    runs). ``on_result(rows, new_runs, wall_seconds)`` is called after each new run with all rows
    so far, the new runs so far and this call's wall time so far. Every run uses one torch
    thread: worker processes (``jobs`` > 1) set it, and with ``jobs`` = 1 this process does."""
    configs = list(configs)
    rows, todo = [], []
    for config in configs:
        finished = load_finished(out_dir, config)
        if finished is None:
            todo.append(config)
        else:
            rows.append(finished)
    start = time.perf_counter()
    progress = tqdm(total=len(configs), initial=len(rows), desc="sorting runs", unit="run")
    with progress:
        if jobs <= 1:
            _init_worker()
            results = (run_and_store(config, out_dir) for config in todo)
            _collect(results, rows, progress, on_result, start)
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker) as pool:
                futures = [pool.submit(run_and_store, config, out_dir) for config in todo]
                _collect((f.result() for f in as_completed(futures)), rows, progress, on_result,
                         start)
    return rows, time.perf_counter() - start, len(todo)


def _collect(results, rows: list[dict], progress: tqdm, on_result, start: float) -> None:
    for new_runs, row in enumerate(results, start=1):
        rows.append(row)
        progress.update()
        progress.set_postfix_str(f"last: {row['method']} N={row['n']} seed={row['seed']}")
        if on_result is not None:
            on_result(rows, new_runs, time.perf_counter() - start)
