"""Peaky (trained-like) sorting scores against random ones, in the batched exact solve.

Usage:
    .venv/bin/python benchmarks/perm_peaky.py [--n 400] [--batch 20] [--repeats 5]
        [--trained-epochs 0] [--json PATH]

Score batches (B, N, N), float32, each solved by ``tracker.perm.hungarian`` (with the rank-one
potentials of tracker/perm/potentials.py) and by the solver call ``hungarian`` made before them
(``lap.lapjvr_batch(-scores)`` in float64, no potentials):
  - random: standard normal entries;
  - synthetic: ``1000 * z(x_i a_j) + Gumbel`` with x ~ U(0, 1) shuffled (the inputs), a sorted
    normal (the positions), z standardising to std 1 (x 1000: the std of trained scores after
    150 epochs, docs/results/sorting/README.md), plus unit Gumbel noise as hste-gumbel adds it;
  - trained (with ``--trained-epochs K > 0``): the scores of a real hste-gumbel sorting model
    after K epochs (paper settings, seed 0, one thread), on its 10 training sequences, each with
    fresh unit Gumbel noise, repeated to B problems.
Contenders alternate within every round (A B C ...); each time is the best of ``--repeats``
rounds, per problem; ratios are to random scores with the same solver.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import lap
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common.atomic import write_text_atomic  # noqa: E402
from tracker.perm import hungarian  # noqa: E402
from tracker.perm.potentials import rank_one_fit  # noqa: E402


def synthetic_scores(batch: int, n: int, generator: np.random.Generator) -> np.ndarray:
    """(batch, n, n) float32 near-rank-one scores with std ~1000 plus unit Gumbel noise."""
    out = np.empty((batch, n, n), dtype=np.float32)
    for b in range(batch):
        x, a = generator.permutation(generator.random(n)), np.sort(generator.normal(size=n))
        outer = np.outer(x, a)
        out[b] = 1000 * (outer - outer.mean()) / outer.std() + generator.gumbel(size=(n, n))
    return out


def trained_scores(batch: int, n: int, epochs: int, seed: int) -> np.ndarray:
    """(batch, n, n) float32 scores of a hste-gumbel sorting model after ``epochs`` epochs."""
    from experiments.sorting import SortingConfig, start_run, training_step

    config = SortingConfig(n=n, method="hste-gumbel", epochs=epochs)
    run = start_run(config)
    for epoch in range(epochs):
        training_step(run.model, run.optimiser, run.train, config, epoch, run.noise)
    with torch.no_grad():
        clean = run.model(run.train.x).numpy()
    rng = np.random.default_rng(seed)
    picks = clean[np.arange(batch) % len(clean)]
    return (picks + rng.gumbel(size=picks.shape)).astype(np.float32)


def previous_solver(scores: np.ndarray) -> None:
    """What ``hungarian`` called before the potentials: JV on -scores, float64, 2 threads."""
    lap.lapjvr_batch(np.negative(scores, dtype=np.float64), extend_cost=True,
                     return_cost=False, n_threads=2, precision="float64")


def describe(scores: np.ndarray) -> dict:
    """Std and rank-one share (of the centred matrix) of a score batch."""
    share = rank_one_fit(np.negative(scores, dtype=np.float64))[3]
    return {"std": float(scores.std()), "rank_one_share_median": float(np.median(share))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--trained-epochs", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=Path("docs/results/perm/peaky.json"))
    args = parser.parse_args()
    torch.set_num_threads(2)  # hungarian's solver threads; training below uses one
    generator = np.random.default_rng(args.seed)
    kinds = {"random": generator.normal(size=(args.batch, args.n, args.n)).astype(np.float32),
             "synthetic": synthetic_scores(args.batch, args.n, generator)}
    if args.trained_epochs:
        torch.set_num_threads(1)
        start = time.perf_counter()
        kinds["trained"] = trained_scores(args.batch, args.n, args.trained_epochs, args.seed)
        print(f"trained {args.trained_epochs} epochs in {time.perf_counter() - start:.0f} s")
        torch.set_num_threads(2)
    contenders = {}
    for kind, scores in kinds.items():
        tensor = torch.from_numpy(scores)
        contenders[f"hungarian/{kind}"] = lambda t=tensor: hungarian(t)
        contenders[f"previous/{kind}"] = lambda s=scores: previous_solver(s)
    best = {name: float("inf") for name in contenders}
    for _ in range(args.repeats):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], (time.perf_counter() - start) / args.batch)
    rows = []
    print(f"N = {args.n}, B = {args.batch}; ms per problem (best of {args.repeats} rounds)")
    print(f"{'scores':>10} {'std':>8} {'rank-1 share':>13} {'hungarian':>10} {'x random':>9} "
          f"{'previous':>9} {'x random':>9}")
    for kind, scores in kinds.items():
        row = {"scores": kind, **describe(scores)}
        for solver in ("hungarian", "previous"):
            row[f"{solver}_ms"] = best[f"{solver}/{kind}"] * 1e3
            row[f"{solver}_vs_random"] = best[f"{solver}/{kind}"] / best[f"{solver}/random"]
        rows.append(row)
        print(f"{kind:>10} {row['std']:>8.1f} {row['rank_one_share_median']:>13.3f} "
              f"{row['hungarian_ms']:>10.2f} {row['hungarian_vs_random']:>8.2f}x "
              f"{row['previous_ms']:>9.2f} {row['previous_vs_random']:>8.2f}x")
    result = {"command": "python benchmarks/perm_peaky.py " + " ".join(sys.argv[1:]),
              "cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0], "rows": rows}
    write_text_atomic(args.json, json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
