"""Small assignment problems: `hungarian` and its numpy entry points against scipy timed directly.

Usage:
    .venv/bin/python benchmarks/perm_small.py [--rounds 41] [--calls 200] [--dtype float32]
        [--json PATH]

Single problems (B = 1, N x N, random normal ``--dtype``, N in {5, 10, 20, 30, 50, 100}),
contenders:
  - scipy: ``scipy.optimize.linear_sum_assignment(array, maximize=True)`` on the numpy array;
  - indices: ``tracker.perm.assignment_indices(array)`` (index arrays, like scipy's output);
  - numpy: ``tracker.perm.hungarian_numpy(array)`` (dense 0/1 array);
  - hungarian: ``tracker.perm.hungarian(tensor)`` (tensor in, tensor out).
Many small problems (a tracker scan: ``--clusters`` matrices of random sizes 2..8 x 2..8, 20 %
of the pairs forbidden), contenders: a scipy loop (on each matrix's finite part, after forbidden
pairs are given a large cost), ``hungarian_many`` on the list, and a loop of ``hungarian``.

Each round runs every contender ``--calls`` times in a row, contenders alternating (A B C A B C),
so a busy spell of a shared machine hits all of them; every call is timed on its own, a
contender's time is the median of its calls, and its ratio to scipy is scipy's median over the
contender's (> 1 = faster than scipy).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common.atomic import write_text_atomic  # noqa: E402
from tracker.perm import assignment_indices, hungarian, hungarian_many, hungarian_numpy  # noqa: E402

SIZES = (5, 10, 20, 30, 50, 100)


def alternate(contenders: dict, rounds: int, calls: int) -> dict[str, dict[str, float]]:
    """Median microseconds per call of each contender, and scipy's median over it.

    Every call is timed on its own: on a loaded machine a block of calls would catch the
    scheduler's time slices in proportion to its length, while single short calls mostly do not.
    """
    per_call: dict[str, list[float]] = {name: [] for name in contenders}
    clock = time.perf_counter
    for round_index in range(rounds + 1):
        for name, fn in contenders.items():
            times = per_call[name]
            for _ in range(calls):
                start = clock()
                fn()
                if round_index:  # round 0 warms up
                    times.append(clock() - start)
    medians = {name: statistics.median(times) for name, times in per_call.items()}
    return {name: {"us": value * 1e6, "vs_scipy": medians["scipy"] / value}
            for name, value in medians.items()}


def single_problems(rounds: int, calls: int, dtype: torch.dtype) -> list[dict]:
    rows = []
    for seed, n in enumerate(SIZES):
        tensor = torch.randn(n, n, generator=torch.Generator().manual_seed(seed), dtype=dtype)
        array = tensor.numpy()
        result = alternate({
            "scipy": lambda a=array: linear_sum_assignment(a, maximize=True),
            "indices": lambda a=array: assignment_indices(a),
            "numpy": lambda a=array: hungarian_numpy(a),
            "hungarian": lambda t=tensor: hungarian(t),
        }, rounds, max(1, calls * 10 // n))
        rows.append({"N": n, **result})
        print(f"N={n:>4}  " + "  ".join(f"{name} {r['us']:7.1f} us ({r['vs_scipy']:.2f}x)"
                                        for name, r in result.items()), flush=True)
    return rows


def tracker_scan(clusters: int, seed: int) -> list[np.ndarray]:
    """``clusters`` score matrices of random sizes 2..8 x 2..8, 20 % of pairs forbidden."""
    rng = np.random.default_rng(seed)
    matrices = []
    for _ in range(clusters):
        matrix = rng.normal(size=tuple(rng.integers(2, 9, size=2)))
        matrix[rng.random(matrix.shape) < 0.2] = -np.inf
        matrices.append(matrix)
    return matrices


def scipy_scan(matrices: list[np.ndarray]) -> list:
    """What a scipy user writes: forbidden pairs get a large cost, matches on them dropped."""
    solutions = []
    for matrix in matrices:
        finite = np.where(np.isfinite(matrix), matrix, -1e9)
        rows, cols = linear_sum_assignment(finite, maximize=True)
        keep = np.isfinite(matrix[rows, cols])
        solutions.append((rows[keep], cols[keep]))
    return solutions


def many_problems(clusters: int, rounds: int, calls: int) -> dict:
    matrices = tracker_scan(clusters, seed=0)
    tensors = [torch.from_numpy(matrix) for matrix in matrices]
    result = alternate({
        "scipy": lambda: scipy_scan(matrices),
        "hungarian_many": lambda: hungarian_many(matrices),
        "hungarian_loop": lambda: [hungarian(tensor) for tensor in tensors],
    }, rounds, max(1, calls // 20))
    print(f"scan of {clusters} clusters  " + "  ".join(
        f"{name} {r['us']:8.1f} us ({r['vs_scipy']:.2f}x)" for name, r in result.items()))
    return {"clusters": clusters, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--json", type=Path, default=Path("docs/results/perm/small.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = {"command": "python benchmarks/perm_small.py " + " ".join(sys.argv[1:]),
              "cpus": os.cpu_count(), "load_average_1min_start": os.getloadavg()[0],
              "dtype": args.dtype,
              "single": single_problems(args.rounds, args.calls, getattr(torch, args.dtype)),
              "scan": many_problems(args.clusters, args.rounds, args.calls),
              "load_average_1min_end": os.getloadavg()[0]}
    write_text_atomic(args.json, json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
