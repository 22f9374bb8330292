"""Data-parallel training throughput: ``hste train`` with 1 rank x 1 thread against K ranks x 1
thread (gloo), side by side in one run (target: 2 ranks >= 1.6x the scenes/s of 1 rank).

Each configuration runs the real command, ``hste train --nproc K --threads 1``, on the same
training config (same global batch, same scenes; validation off), and its scenes per second
are read from the run's ``log.csv`` (rank 0's wall time per epoch: simulating and recording the
rank's scenes, forward, backward, gradient all-reduce and optimiser steps; process start-up and
imports excluded). The first epoch is a warm-up and is left out when there are several. The
machine's load average is printed with the numbers: on a shared machine they are noisy.

    .venv/bin/python -m benchmarks.distributed [--ranks 1 2] [--epochs 3] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common.atomic import write_text_atomic

TRAINING = ["--preset", "crossing", "--frames", "40", "--scenes-per-epoch", "8",
            "--batch-scenes", "4", "--passes", "1", "--validation-scenes", "0", "--seed", "0"]


def scenes_per_second(ranks: int, epochs: int, folder: Path) -> list[float]:
    """Per-epoch scenes/s of ``hste train --nproc ranks --threads 1`` (all epochs)."""
    out = folder / f"ranks{ranks}"
    command = [sys.executable, "-m", "tracker.commands.train", *TRAINING, "--epochs", str(epochs),
               "--nproc", str(ranks), "--threads", "1", "--out", str(out)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    with open(out / "log.csv", newline="") as handle:
        return [float(row["scenes_per_s"]) for row in csv.DictReader(handle)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("docs/results/learned"))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for ranks in args.ranks:
            per_epoch = scenes_per_second(ranks, args.epochs, Path(folder))
            timed = per_epoch[1:] if len(per_epoch) > 1 else per_epoch
            rows.append({"ranks": ranks, "threads_per_rank": 1, "epochs_timed": len(timed),
                         "scenes_per_s": sum(timed) / len(timed), "per_epoch": per_epoch})
    base = rows[0]["scenes_per_s"]
    for row in rows:
        row["speedup"] = row["scenes_per_s"] / base
    result = {"command": "python -m benchmarks.distributed " + " ".join(sys.argv[1:]),
              "training_options": TRAINING, "cpu_count": os.cpu_count(),
              "load_average_before": load_before, "load_average_after": os.getloadavg()[0],
              "rows": rows}
    print(f"load average before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    print(f"{'ranks':>5} {'threads':>7} {'scenes/s':>9} {'speedup':>8}")
    for row in rows:
        print(f"{row['ranks']:>5} {row['threads_per_rank']:>7} {row['scenes_per_s']:>9.3f} "
              f"{row['speedup']:>8.2f}")
    write_text_atomic(args.out / "distributed.json", json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out / 'distributed.json'}")


if __name__ == "__main__":
    main()
