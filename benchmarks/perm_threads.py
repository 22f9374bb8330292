"""Per-core speed and thread scaling of `hungarian` against a plain scipy loop, measured apart.

Usage:
    .venv/bin/python benchmarks/perm_threads.py [--sizes 100,200,400] [--batch 32]
        [--repeats 7] [--json PATH]

For B x N x N random normal float32 scores, contenders alternate within every round:
  - scipy_loop: ``linear_sum_assignment`` looped over the batch on the numpy array (one core);
  - hungarian_1t / hungarian_2t: ``tracker.perm.hungarian`` with ``torch.set_num_threads(1)``
    / ``(2)`` (the native solver threads follow it).
Per round it records the per-core ratio (scipy_loop / hungarian_1t), the thread scaling
(hungarian_1t / hungarian_2t) and the overall ratio (scipy_loop / hungarian_2t); the reported
value of each is its median over rounds (ratios from the same round share the machine's state,
which matters on a shared machine), beside each contender's best time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common.atomic import write_text_atomic  # noqa: E402
from tracker.perm import hungarian  # noqa: E402


def with_threads(threads: int, scores: torch.Tensor) -> None:
    torch.set_num_threads(threads)
    hungarian(scores)


def measure(batch: int, n: int, repeats: int, seed: int) -> dict:
    scores = torch.randn(batch, n, n, generator=torch.Generator().manual_seed(seed))
    array = scores.numpy()
    contenders = {
        "scipy_loop": lambda: [linear_sum_assignment(s, maximize=True) for s in array],
        "hungarian_1t": lambda: with_threads(1, scores),
        "hungarian_2t": lambda: with_threads(2, scores),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for round_index in range(repeats + 1):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            if round_index:  # round 0 warms up
                times[name].append(time.perf_counter() - start)
    ratios = {
        "per_core": [s / h for s, h in zip(times["scipy_loop"], times["hungarian_1t"],
                                           strict=True)],
        "scaling": [a / b for a, b in zip(times["hungarian_1t"], times["hungarian_2t"],
                                          strict=True)],
        "overall": [s / h for s, h in zip(times["scipy_loop"], times["hungarian_2t"],
                                          strict=True)],
    }
    return {"B": batch, "N": n, **{f"{k}_best_ms": min(v) * 1e3 for k, v in times.items()},
            **{f"{k}_median": statistics.median(v) for k, v in ratios.items()},
            **{f"{k}_rounds": v for k, v in ratios.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,200,400")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", type=Path, default=Path("docs/results/perm/threads.json"))
    args = parser.parse_args()
    print(f"{'B':>3} {'N':>4} {'scipy loop':>11} {'1 thread':>9} {'2 threads':>10} "
          f"{'per core':>9} {'scaling':>8} {'overall':>8}")
    rows = []
    for seed, n in enumerate(int(s) for s in args.sizes.split(",")):
        row = measure(args.batch, n, args.repeats, seed)
        rows.append(row)
        print(f"{row['B']:>3} {row['N']:>4} {row['scipy_loop_best_ms']:>8.1f} ms "
              f"{row['hungarian_1t_best_ms']:>6.1f} ms {row['hungarian_2t_best_ms']:>7.1f} ms "
              f"{row['per_core_median']:>8.2f}x {row['scaling_median']:>7.2f}x "
              f"{row['overall_median']:>7.2f}x", flush=True)
    result = {"command": "python benchmarks/perm_threads.py " + " ".join(sys.argv[1:]),
              "cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0], "rows": rows}
    write_text_atomic(args.json, json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
