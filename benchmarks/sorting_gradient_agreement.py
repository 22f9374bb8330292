"""How much of a sorting method's training gradient is signal: two independent noise draws.

Usage:
    .venv/bin/python benchmarks/sorting_gradient_agreement.py [--sizes 100] [--methods a,b,...]
        [--json docs/results/operators/gradient_agreement.json]

For every N and method it builds the run exactly as ``hste bench sorting`` does (seed 0, initial
weights, the training batch), computes the gradient of the training loss with respect to the
scores twice, with the noise of two independent generators, and prints the cosine between the
two. 1 = the estimate does not depend on the noise draw; about 0 = the draws' estimates are
unrelated (noise dominates the signal at this sample count).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common.atomic import write_text_atomic  # noqa: E402
from experiments.sorting import (  # noqa: E402
    METHODS,
    SortingConfig,
    noise_scale,
    reconstruct,
    start_run,
    training_permutations,
)

DEFAULT_METHODS = ("hste-gumbel", "gumbel-sinkhorn", "perturbed", "perturbed-gumbel", "blackbox",
                   "blackbox-gumbel", "hste-softmax-gumbel")


def score_gradient(config: SortingConfig, seed: int) -> torch.Tensor:
    """d(training loss)/d(scores) at the initial weights, noise from ``seed``; flattened."""
    run = start_run(config)
    method = METHODS[config.method]
    scores = run.model(run.train.x).detach().requires_grad_()
    perm = training_permutations(scores, config, method, noise_scale(config, method, 0),
                                 torch.Generator().manual_seed(seed))
    loss = (reconstruct(perm, run.train.x) - run.train.x_sorted).square().mean()
    (grad,) = torch.autograd.grad(loss, scores)
    return grad.flatten()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = []
    print(f"{'method':>22} {'N':>4} cosine(two noise draws)")
    for n in [int(s) for s in args.sizes.split(",")]:
        for name in args.methods.split(","):
            config = SortingConfig(n=n, method=name)
            first, second = score_gradient(config, 1), score_gradient(config, 2)
            cosine = torch.nn.functional.cosine_similarity(first, second, dim=0).item()
            results.append({"n": n, "method": name, "cosine": cosine})
            print(f"{name:>22} {n:>4} {cosine:.3f}", flush=True)
    if args.json:
        write_text_atomic(args.json, json.dumps({
            "command": " ".join(["benchmarks/sorting_gradient_agreement.py", *sys.argv[1:]]),
            "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
