"""Benchmark of the permutation core: `hungarian` against plain scipy loops, HSTE against Sinkhorn.

Usage:
    .venv/bin/python benchmarks/perm.py [--repeats 7] [--json docs/results/perm/bench.json]

For B in {1, 32} and N in {10, 50, 100, 200, 400} (random normal scores, float32), it times in the
same run, taking the best of interleaved rounds:
  - scipy_loop: a Python loop of scipy.optimize.linear_sum_assignment over the batch (reference);
  - scipy_threads: the same loop spread over a 2-thread pool (scipy releases the GIL);
  - hungarian: tracker.perm.hungarian (the library's choice), including tensor conversion;
  - hste_fb: hungarian_ste forward + backward of a linear loss;
  - sinkhorn_fb: log-domain Sinkhorn L=20 forward + backward of the same loss.
Times are the best of `--repeats` interleaved rounds (each round runs every contender once), the
steadiest statistic on a shared machine. torch runs on `--threads` threads (default 1: on a loaded
2-core machine extra torch threads make small batched ops many times slower); lapx and the scipy
pool use 2 threads. It prints a table of times and ratios and writes every number to JSON.
It also measures the
import time of tracker.perm beyond torch in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common.atomic import write_text_atomic  # noqa: E402
from tracker.perm import hungarian, hungarian_ste, sinkhorn  # noqa: E402

BATCHES = (1, 32)
SIZES = (10, 50, 100, 200, 400)


def interleaved_best_seconds(contenders: dict, repeats: int) -> dict[str, float]:
    """Best (minimum) wall time of each contender over `repeats` interleaved rounds.

    Every round runs each contender once, in turn, so slow spells of a shared machine hit all of
    them alike; the minimum is the least disturbed run. One warm-up round comes first.
    """
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for round_index in range(repeats + 1):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            if round_index:
                times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def to_assignment(scores: torch.Tensor, solutions) -> torch.Tensor:
    """0/1 tensor from a list of (rows, cols) solutions, as a hand-written loop would build it."""
    result = torch.zeros_like(scores)
    for b, (rows, cols) in enumerate(solutions):
        result[b, rows, cols] = 1.0
    return result


def scipy_loop(scores: torch.Tensor) -> torch.Tensor:
    """The plain reference: a Python loop of linear_sum_assignment over the batch."""
    solutions = [linear_sum_assignment(s, maximize=True) for s in scores.numpy()]
    return to_assignment(scores, solutions)


def scipy_threads(pool: ThreadPoolExecutor, scores: torch.Tensor) -> torch.Tensor:
    """The same loop spread over a thread pool (scipy releases the GIL)."""
    solve = lambda s: linear_sum_assignment(s, maximize=True)  # noqa: E731
    return to_assignment(scores, list(pool.map(solve, scores.numpy())))


def forward_backward(operator, scores: torch.Tensor, weights: torch.Tensor) -> None:
    leaf = scores.detach().requires_grad_(True)
    (operator(leaf) * weights).sum().backward()


def import_seconds() -> dict[str, float]:
    """Seconds to import torch, and torch + tracker.perm, in fresh interpreters (median of 3)."""

    def timed(code: str) -> float:
        runs = []
        for _ in range(3):
            out = subprocess.run(
                [sys.executable, "-c", f"import time; t=time.perf_counter(); {code}; "
                 "print(time.perf_counter()-t)"],
                capture_output=True, text=True, check=True,
                cwd=Path(__file__).resolve().parents[1],
            )
            runs.append(float(out.stdout.strip().splitlines()[-1]))
        return statistics.median(runs)

    torch_only = timed("import torch")
    with_perm = timed("import torch; import tracker.perm")
    return {"torch_s": torch_only, "torch_and_perm_s": with_perm,
            "perm_extra_s": with_perm - torch_only}


def measure_case(pool: ThreadPoolExecutor, batch: int, n: int, repeats: int, seed: int) -> dict:
    """Times (ms) of every contender on one (B, N) case, plus the ratios the targets use."""
    generator = torch.Generator().manual_seed(seed)
    scores = torch.randn(batch, n, n, generator=generator)
    weights = torch.randn(batch, n, n, generator=generator)
    contenders = {
        "scipy_loop": lambda: scipy_loop(scores),
        "scipy_threads": lambda: scipy_threads(pool, scores),
        "hungarian": lambda: hungarian(scores),
        "hste_fb": lambda: forward_backward(hungarian_ste, scores, weights),
        "sinkhorn_fb": lambda: forward_backward(sinkhorn, scores, weights),
    }
    t = interleaved_best_seconds(contenders, repeats)
    return {
        "B": batch,
        "N": n,
        **{name + "_ms": seconds * 1e3 for name, seconds in t.items()},
        "speedup_vs_scipy_loop": t["scipy_loop"] / t["hungarian"],
        "threads_speedup_vs_loop": t["scipy_loop"] / t["scipy_threads"],
        "hste_over_sinkhorn": t["hste_fb"] / t["sinkhorn_fb"],
    }


HEADER = (f"{'B':>3} {'N':>4} {'scipy loop':>11} {'2 threads':>10} {'hungarian':>10} "
          f"{'speedup':>8} {'HSTE f+b':>9} {'Sinkhorn f+b':>13} {'HSTE/Sinkhorn':>14}")


def format_row(r: dict) -> str:
    return (f"{r['B']:>3} {r['N']:>4} {r['scipy_loop_ms']:>8.2f} ms"
            f" {r['scipy_threads_ms']:>7.2f} ms"
            f" {r['hungarian_ms']:>7.2f} ms {r['speedup_vs_scipy_loop']:>7.2f}x"
            f" {r['hste_fb_ms']:>6.2f} ms {r['sinkhorn_fb_ms']:>10.2f} ms"
            f" {r['hste_over_sinkhorn']:>14.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--json", type=Path, default=Path("docs/results/perm/bench.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(HEADER)
    rows = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for batch in BATCHES:
            for n in SIZES:
                rows.append(measure_case(pool, batch, n, args.repeats, seed=len(rows)))
                print(format_row(rows[-1]), flush=True)
    imports = import_seconds()
    print(f"import tracker.perm beyond torch: {imports['perm_extra_s']:.3f} s "
          f"(torch alone {imports['torch_s']:.3f} s)")
    result = {
        "command": "python benchmarks/perm.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                    "load_average_1min": os.getloadavg()[0]},
        "rows": rows,
        "import": imports,
    }
    write_text_atomic(args.json, json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
