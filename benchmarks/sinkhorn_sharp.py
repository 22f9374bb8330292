"""Sinkhorn forward+backward time against the sharpness of the scores, both backward paths.

Usage:
    .venv/bin/python benchmarks/sinkhorn_sharp.py [--scales 1,10,30] [--repeats 3]
        [--json docs/results/perm/sinkhorn_sharp.json]

Training sharpens score matrices; once most normalised log entries lie below float32's normal
range (about -87), ``torch.exp`` (and ``torch.logsumexp``) on CPU take a slow path. The plain
autograd path (``low_memory=False``) uses them as they are; the low-memory path clamps exponents
at that bound and flushes subnormal products to zero. A third path, the low-memory one with
subnormals kept, shows what the flushing alone is worth. For each shape (the jigsaw's 32 images
x 10 samples at 3x3 and 6x6, the sorting task's 10 x 10 matrices at N = 100 and 250) and each
scale s, scores are s x N(0, 1); the paths run interleaved ``--repeats`` times (one torch
thread) and the median seconds are reported, with each path's time relative to the plain path's
and to its own time at the first scale.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common.atomic import write_text_atomic  # noqa: E402
from tracker.perm import sinkhorn  # noqa: E402

sinkhorn_module = sys.modules["tracker.perm.sinkhorn_operator"]  # the package exports the function

SHAPES = {"jigsaw 3x3": (320, 9, 9), "jigsaw 6x6": (320, 36, 36),
          "sorting N=100": (100, 100, 100), "sorting N=250": (100, 250, 250)}
# path name -> (low_memory, subnormals flushed)
PATHS = {"plain": (False, False), "low_memory": (True, True),
         "low_memory_subnormals_kept": (True, False)}


def forward_backward_seconds(scores: torch.Tensor, weights: torch.Tensor,
                             low_memory: bool, flushed: bool) -> float:
    """Seconds of one sinkhorn(L = 20) forward and backward of sum(P * weights)."""
    x = scores.clone().requires_grad_()
    flushing = sinkhorn_module._denormals_flushed
    sinkhorn_module._denormals_flushed = flushing if flushed else contextlib.nullcontext
    try:
        start = time.perf_counter()
        (sinkhorn(x, n_iters=20, low_memory=low_memory) * weights).sum().backward()
        return time.perf_counter() - start
    finally:
        sinkhorn_module._denormals_flushed = flushing


def measure(scales: list[float], repeats: int) -> list[dict]:
    generator = torch.Generator().manual_seed(0)
    rows = []
    for shape_name, shape in SHAPES.items():
        base = {}
        for scale in scales:
            scores = scale * torch.randn(shape, generator=generator)
            weights = torch.randn(shape, generator=generator)
            times = {name: [] for name in PATHS}
            for _ in range(repeats):
                for name, path in PATHS.items():
                    times[name].append(forward_backward_seconds(scores, weights, *path))
            median = {name: statistics.median(values) for name, values in times.items()}
            base = base or median
            rows.append({"shape": shape_name, "scale": scale,
                         **{f"{n}_s": median[n] for n in PATHS},
                         **{f"{n}_over_plain": median[n] / median["plain"] for n in PATHS},
                         **{f"{n}_vs_first_scale": median[n] / base[n] for n in PATHS}})
            print(f"{shape_name:14s} scale {scale:5g}: " + "  ".join(
                f"{n} {median[n]:7.3f} s (x plain {median[n] / median['plain']:4.2f}, "
                f"x first scale {median[n] / base[n]:4.1f})" for n in PATHS), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,30")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = measure([float(s) for s in args.scales.split(",")], args.repeats)
    if args.json:
        write_text_atomic(args.json, json.dumps({
            "command": " ".join(["python", *sys.argv]), "torch": torch.__version__,
            "machine": platform.platform(), "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
