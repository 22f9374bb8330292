"""Time one training epoch of the MNIST jigsaw (issue 5 target: < 3 min per 60,000 images, 3x3,
HSTE), side by side for the methods, extrapolated from a measured slice of real training.
Wall time and process CPU time are both given: on a shared, loaded machine the CPU time (one
thread) is what an idle core would take.

Also times the batched Hungarian calls alone (the same (samples, batch, N, N) shapes) to show
their share. Prints a table and writes JSON. Run it from the repository root:

    python -m benchmarks.jigsaw_epoch --data-dir ../shared/data/mnist --images 3200 \
        --json docs/results/jigsaw/epoch_time.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from common.atomic import write_text_atomic
from experiments.jigsaw import JigsawConfig, build_scorer, train_epoch
from experiments.mnist import load_split
from tracker.perm import hungarian

FULL_EPOCH = 60_000


def time_hungarian(config: JigsawConfig, steps: int) -> float:
    """CPU seconds for ``steps`` batched Hungarian calls of shape (samples, batch, N, N)."""
    n = config.size * config.size
    scores = torch.randn(config.samples, config.batch_size, n, n,
                         generator=torch.Generator().manual_seed(0))
    start = time.process_time()
    for _ in range(steps):
        hungarian(scores)
    return time.process_time() - start


def share(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--size", type=int, default=3)
    parser.add_argument("--images", type=int, default=3200, help="images timed per method")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images = torch.from_numpy(load_split(args.data_dir, "train").images[: args.images])
    rows = []
    for model, method in (("paper", "hste"), ("paper", "gumbel_sinkhorn"), ("ours", "hste")):
        config = JigsawConfig(size=args.size, method=method, model=model)
        scorer = build_scorer(config)
        optimizer = torch.optim.Adam(scorer.parameters(), lr=config.lr)
        train_epoch(scorer, optimizer, images[: 4 * config.batch_size], config, epoch=0)  # warm-up
        cpu_start = time.process_time()
        wall = train_epoch(scorer, optimizer, images, config, epoch=1)["epoch_time_s"]
        cpu = time.process_time() - cpu_start
        steps = -(-len(images) // config.batch_size)
        hungarian_s = time_hungarian(config, steps) if method == "hste" else None
        rows.append({"model": model, "method": method, "size": args.size,
                     "images_timed": len(images), "wall_s": wall, "cpu_s": cpu,
                     "wall_min_per_60k_epoch": wall * FULL_EPOCH / len(images) / 60,
                     "cpu_min_per_60k_epoch": cpu * FULL_EPOCH / len(images) / 60,
                     "hungarian_cpu_share": None if hungarian_s is None else hungarian_s / cpu})
    print(f"{'model':6} {'method':16} {'M':>2} {'images':>7} {'wall s':>7} {'cpu s':>7} "
          f"{'wall min/60k':>12} {'cpu min/60k':>11} {'hungarian share':>15}")
    for r in rows:
        print(f"{r['model']:6} {r['method']:16} {r['size']:>2} {r['images_timed']:>7} "
              f"{r['wall_s']:>7.1f} {r['cpu_s']:>7.1f} {r['wall_min_per_60k_epoch']:>12.2f} "
              f"{r['cpu_min_per_60k_epoch']:>11.2f} {share(r['hungarian_cpu_share']):>15}")
    if args.json:
        write_text_atomic(args.json, json.dumps({"threads": args.threads, "rows": rows},
                                                indent=1) + "\n")


if __name__ == "__main__":
    main()
