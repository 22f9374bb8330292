"""Seconds per epoch of one whole sorting run, by window of epochs, and where the last window goes.

Usage:
    .venv/bin/python benchmarks/sorting_epochs_over_training.py [--method hste-gumbel] [--n 200]
        [--window 20] [--json docs/results/sorting/epochs_over_training.json]

``benchmarks/sorting_epoch.py`` times the first epochs of a run; whole runs in the sweep are
several times slower per epoch. This trains one run exactly as ``hste bench sorting`` does (paper
settings, seed 0, one torch thread), prints the mean seconds per epoch of consecutive windows of
``--window`` epochs, and profiles the last window (cProfile) to show the share of its time spent
in the functions that take the most.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import platform
import pstats
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common.atomic import write_text_atomic  # noqa: E402
from experiments.sorting import SortingConfig, start_run, training_step  # noqa: E402


def train_timed(config: SortingConfig, window: int) -> tuple[list[float], pstats.Stats]:
    """Seconds of every epoch of one run, and a profile of its last ``window`` epochs."""
    run = start_run(config)
    profiler = cProfile.Profile()
    seconds = []
    for epoch in range(config.epochs):
        profiling = epoch >= config.epochs - window
        if profiling:
            profiler.enable()
        start = time.perf_counter()
        training_step(run.model, run.optimiser, run.train, config, epoch, run.noise)
        seconds.append(time.perf_counter() - start)
        if profiling:
            profiler.disable()
    return seconds, pstats.Stats(profiler)


def top_functions(stats: pstats.Stats, count: int = 5) -> list[dict]:
    """The ``count`` functions with the most own time, with their share of the profiled time."""
    entries = [(key, value[2]) for key, value in stats.stats.items()]  # value[2]: own time
    total = sum(own for _, own in entries)
    entries.sort(key=lambda entry: -entry[1])
    return [{"function": f"{Path(file).name}:{line}({name})", "seconds": own,
             "share": own / total} for (file, line, name), own in entries[:count]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--method", default="hste-gumbel")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = SortingConfig(n=args.n, method=args.method)
    seconds, stats = train_timed(config, args.window)
    windows = [{"first_epoch": start, "seconds_per_epoch": sum(seconds[start:start + args.window])
                / len(seconds[start:start + args.window])}
               for start in range(0, config.epochs, args.window)]
    print(f"{args.method}, N = {args.n}: seconds per epoch by window of {args.window} epochs")
    for row in windows:
        print(f"  epochs {row['first_epoch']:>4}-{row['first_epoch'] + args.window - 1:<4} "
              f"{row['seconds_per_epoch']:.3f}")
    top = top_functions(stats)
    print(f"last {args.window} epochs, most own time:")
    for row in top:
        print(f"  {row['share']:6.1%}  {row['seconds']:7.3f} s  {row['function']}")
    if args.json:
        write_text_atomic(args.json, json.dumps({
            "command": " ".join(["benchmarks/sorting_epochs_over_training.py", *sys.argv[1:]]),
            "machine": {"platform": platform.platform(), "torch": torch.__version__},
            "method": args.method, "n": args.n, "windows": windows, "last_window_top": top,
        }, indent=1) + "\n")


if __name__ == "__main__":
    main()
