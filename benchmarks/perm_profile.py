"""Where `hungarian`'s time goes, stage by stage, at each point of benchmarks/perm.py.

Usage:
    .venv/bin/python benchmarks/perm_profile.py [--calls 200] [--json PATH]

For B in {1, 32} and N in {10, 50, 100, 200, 400} (random normal float32 scores, as in
benchmarks/perm.py) it times, interleaved call by call (each round runs every stage once, in
turn), the stages that one `hungarian(scores)` call goes through:
  - to_numpy: ``scores.detach().cpu().numpy()`` (the tensor round trip in);
  - costs: ``finite_costs`` (negate into float64 + the one-pass finiteness/magnitude check);
  - costs_forbidden: the same on a copy with 1 % of the pairs set to -inf (the per-matrix
    shift, mask and big-cost path);
  - solve_1t / solve_2t: lapx's kernel on the costs with 1 and 2 native threads;
  - output: flat indices -> dense 0/1 numpy array -> tensor (the round trip out);
  - hungarian: the whole call; scipy: ``linear_sum_assignment`` looped over the batch on the
    numpy array (no torch at all), for scale.
Each number is the median over ``--calls`` rounds, in microseconds.
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
from tracker.perm import hungarian  # noqa: E402
from tracker.perm.lsap import assignment_indices, finite_costs, solve_costs  # noqa: E402

POINTS = [(b, n) for b in (1, 32) for n in (10, 50, 100, 200, 400)]


def median_microseconds(stages: dict, calls: int) -> dict[str, float]:
    """Median wall time (us) of each stage over ``calls`` interleaved rounds (one warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in stages}
    for round_index in range(calls + 1):
        for name, fn in stages.items():
            start = time.perf_counter()
            fn()
            if round_index:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1e6 for name, values in times.items()}


def to_tensor(array: np.ndarray, batch: np.ndarray, rows: np.ndarray, cols: np.ndarray):
    assignment = np.zeros(array.shape, dtype=array.dtype)
    assignment[batch, rows, cols] = 1
    return torch.from_numpy(assignment)


def profile_point(batch: int, n: int, calls: int, seed: int) -> dict:
    scores = torch.randn(batch, n, n, generator=torch.Generator().manual_seed(seed))
    array = scores.numpy()
    forbidden = array.copy()
    forbidden[np.random.default_rng(seed).random(array.shape) < 0.01] = -np.inf
    costs, _ = finite_costs(array)
    index = assignment_indices(array)
    stages = {
        "to_numpy": lambda: scores.detach().cpu().numpy(),
        "costs": lambda: finite_costs(array),
        "costs_forbidden": lambda: finite_costs(forbidden),
        "solve_1t": lambda: solve_costs(costs, 1),
        "solve_2t": lambda: solve_costs(costs, 2),
        "output": lambda: to_tensor(array, *index),
        "hungarian": lambda: hungarian(scores),
        "scipy": lambda: [linear_sum_assignment(s, maximize=True) for s in array],
    }
    us = median_microseconds(stages, calls if n <= 100 else max(5, calls // 10))
    return {"B": batch, "N": n, **{f"{name}_us": value for name, value in us.items()}}


STAGES = ("to_numpy", "costs", "costs_forbidden", "solve_1t", "solve_2t", "output", "hungarian",
          "scipy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--json", type=Path, default=Path("docs/results/perm/profile.json"))
    args = parser.parse_args()
    torch.set_num_threads(2)  # hungarian's default thread count on this 2-core machine
    print(f"{'B':>3} {'N':>4} " + " ".join(f"{name:>15}" for name in STAGES) + "   (us)")
    rows = []
    for seed, (batch, n) in enumerate(POINTS):
        rows.append(profile_point(batch, n, args.calls, seed))
        print(f"{batch:>3} {n:>4} " + " ".join(f"{rows[-1][name + '_us']:>15.1f}"
                                               for name in STAGES), flush=True)
    result = {"command": "python benchmarks/perm_profile.py " + " ".join(sys.argv[1:]),
              "cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0],
              "torch_threads": torch.get_num_threads(), "rows": rows}
    write_text_atomic(args.json, json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
