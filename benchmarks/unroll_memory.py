"""Time and peak memory of one unrolled training step (:mod:`tracker.unroll`) against the
window K, on a 50-target radar scene (the default preset with 50 initial targets, no births).

Each configuration runs in its own process (peak RSS is per process): simulate a K-frame scene,
unroll it with the gnn-initialised network (HSTE, noise 1) over one window of K frames, so the
whole window's graph is alive at once, and backpropagate. Prints a table and writes JSON.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.unroll_memory --out docs/results/unroll
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from common.atomic import write_text_atomic

CONFIGS = [(5, 1), (10, 1), (20, 1), (20, 4)]
"""(K frames, rollouts) per measurement."""


def child(window: int, rollouts: int, mode: str) -> dict:
    """One measurement in this process."""
    import torch

    from sim import generate
    from sim.presets import get_preset
    from tracker.training import TrainingConfig, new_state
    from tracker.unroll import Unroll

    torch.set_num_threads(1)
    base = get_preset("default")
    scenario = base.replace(frames=window, motion=dataclasses.replace(
        base.motion, initial_targets=50, birth_rate=0.0))
    scene = generate(scenario, 7)
    config = TrainingConfig(mode=mode, unroll=window, samples=1, noise=1.0)
    model = new_state(config).model
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    Unroll(model, [scene] * rollouts, config.unroll_config(),
           torch.Generator().manual_seed(0)).run()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    targets = int(len(scene.frame_truth(0)))
    return {"window": window, "rollouts": rollouts, "mode": mode, "targets": targets,
            "seconds_per_step": seconds, "peak_rss_mib": peak, "rss_before_step_mib": before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/results/unroll"))
    parser.add_argument("--mode", default="end-to-end")
    parser.add_argument("--child", nargs=2, type=int, metavar=("K", "ROLLOUTS"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.mode)))
        return
    rows = []
    print(f"{'K':>3} {'rollouts':>8} {'targets':>7} {'s/step':>8} {'peak RSS MiB':>12}")
    for window, rollouts in CONFIGS:
        output = subprocess.run([sys.executable, "-m", "benchmarks.unroll_memory", "--mode",
                                 args.mode, "--child", str(window), str(rollouts)],
                                check=True, capture_output=True, text=True).stdout
        row = json.loads(output.strip().splitlines()[-1])
        rows.append(row)
        print(f"{window:>3} {rollouts:>8} {row['targets']:>7} {row['seconds_per_step']:>8.1f} "
              f"{row['peak_rss_mib']:>12.0f}")
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "memory.json", json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
