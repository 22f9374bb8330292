"""Training time per epoch of the sorting benchmark: HSTE against Sinkhorn, side by side.

Usage:
    .venv/bin/python benchmarks/sorting_epoch.py [--sizes 100,200,400] [--steps 3] [--repeats 2]
        [--methods hste-gumbel,blackbox-gumbel,...] [--json docs/results/sorting/epoch_bench.json]

For every N it builds the runs of ``hste-gumbel``, ``gumbel-sinkhorn``, ``hste`` and ``sinkhorn``
exactly as ``hste bench sorting`` does (paper settings: 10 sequences, 10 Gumbel samples, L = 20,
one torch thread) and times ``--steps`` training epochs of each, the methods interleaved
(A B C D A B C D ...) ``--repeats`` times so that a change in machine load hits all of them
alike; it reports the median seconds per epoch and the ratios HSTE / Sinkhorn. The epochs are the
first ones of a run (scores from the initial weights), after one untimed warm-up epoch.
With ``--methods`` it times those methods instead, the same way, with ratios to the first.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common.atomic import write_text_atomic  # noqa: E402
from experiments.sorting import SortingConfig, start_run, training_step  # noqa: E402

PAIRS = (("hste-gumbel", "gumbel-sinkhorn"), ("hste", "sinkhorn"))


def time_epochs(config: SortingConfig, run, first_epoch: int, steps: int) -> float:
    """Seconds per epoch over ``steps`` consecutive training epochs of ``run``."""
    start = time.perf_counter()
    for epoch in range(first_epoch, first_epoch + steps):
        training_step(run.model, run.optimiser, run.train, config, epoch, run.noise)
    return (time.perf_counter() - start) / steps


def bench_size(n: int, steps: int, repeats: int, methods: list[str]) -> dict[str, float]:
    """Median seconds per epoch of every method at N = n."""
    configs = {m: SortingConfig(n=n, method=m) for m in methods}
    runs = {m: start_run(configs[m]) for m in methods}
    for m in methods:  # warm-up: first-call allocations, lazy imports
        time_epochs(configs[m], runs[m], 0, 1)
    samples: dict[str, list[float]] = {m: [] for m in methods}
    for repeat in range(repeats):
        for m in methods:
            samples[m].append(time_epochs(configs[m], runs[m], 1 + repeat * steps, steps))
    return {m: statistics.median(v) for m, v in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,200,400")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--methods", help="comma-separated methods instead of the pairs")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    sizes = [int(s) for s in args.sizes.split(",")]
    pairs = (tuple((args.methods.split(",")[0], m) for m in args.methods.split(",")[1:])
             if args.methods else PAIRS)
    methods = list(dict.fromkeys(m for pair in pairs for m in pair))

    results = []
    header = "   N " + "".join(f"{a:>14} {b:>16} {'ratio':>6} " for a, b in pairs)
    print("seconds per training epoch (median), ratio = first / second of each pair", flush=True)
    print(header, flush=True)
    for n in sizes:
        seconds = bench_size(n, args.steps, args.repeats, methods)
        ratios = {f"{a}/{b}": seconds[a] / seconds[b] for a, b in pairs}
        results.append({"n": n, "seconds_per_epoch": seconds, "ratios": ratios})
        print(f"{n:>4} " + "".join(f"{seconds[a]:>14.3f} {seconds[b]:>16.3f} "
                                   f"{ratios[f'{a}/{b}']:>6.2f} " for a, b in pairs), flush=True)
    if args.json:
        write_text_atomic(args.json, json.dumps({
            "command": " ".join(["benchmarks/sorting_epoch.py", *sys.argv[1:]]),
            "machine": {"platform": platform.platform(), "torch": torch.__version__,
                        "torch_threads": torch.get_num_threads()},
            "steps": args.steps, "repeats": args.repeats, "results": results,
        }, indent=1) + "\n")


if __name__ == "__main__":
    main()
