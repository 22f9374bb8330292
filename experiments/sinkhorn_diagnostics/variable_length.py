"""Part 3: Sinkhorn run to a tolerance (the paper's remark on Cuturi et al. 2019).

Running Sinkhorn "until converged" instead of a fixed L makes the cost input dependent. Measured
here with ``tracker.perm.sinkhorn(log_alpha, tol=...)``: the iterations each matrix needs until
max(Err_r, Err_c) < tol, for

(a) random log scores X / tau, X ~ N(0, 1) of size N x N, over N and the temperature tau;
(b) the plateau matrices of part 2 (3x3 non-converging patterns with zeros replaced by e).

Matrices still above tol after ``max_iters`` are counted as not converged (their true count is
larger than the cap). All computations are float64.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from experiments.sinkhorn_diagnostics.config import (
    PatternsConfig,
    PlateausConfig,
    VariableLengthConfig,
)
from experiments.sinkhorn_diagnostics.figures import plt, save_figure, styled
from experiments.sinkhorn_diagnostics.patterns import never_converging
from experiments.sinkhorn_diagnostics.plateaus import PATTERN_SIZE, stacked_log_scores
from tracker.perm import sinkhorn

USUAL_ITERS = 20
"""The fixed L of Mena et al. (2018), drawn for comparison."""


def iterations_to_tolerance(log_alpha: torch.Tensor, config: VariableLengthConfig) -> np.ndarray:
    """(..., N, N) log scores -> (...,) iterations to reach ``config.tol``; -1 if not reached."""
    _, iterations = sinkhorn(log_alpha, tol=config.tol, max_iters=config.max_iters)
    return iterations.numpy()


def statistics(iterations: np.ndarray) -> dict:
    """Summary of iteration counts; -1 entries (cap reached) are counted apart."""
    converged = iterations[iterations >= 0]
    quantiles = np.percentile(converged, [0, 50, 90, 100]) if converged.size else [None] * 4
    names = ("min", "median", "p90", "max")
    return {
        "matrices": int(iterations.size),
        "not_converged": int((iterations < 0).sum()),
        **{name: None if q is None else float(q) for name, q in zip(names, quantiles, strict=True)},
        "iterations": iterations.tolist(),
    }


def measure(
    config: VariableLengthConfig,
    plateaus_config: PlateausConfig,
    patterns_config: PatternsConfig,
    seed: int,
    progress=None,
) -> dict:
    """Iterations to tolerance for random Gaussian log scores and for the plateau matrices.

    ``progress`` (optional) is called with a short label before each (N, tau) cell.
    """
    if len(config.matrices) != len(config.sizes):
        raise ValueError("variable_length.matrices needs one count per size")
    rng = np.random.default_rng(seed)
    gaussian = []
    for n, count in zip(config.sizes, config.matrices, strict=True):
        scores = torch.from_numpy(rng.standard_normal((count, n, n)))
        for tau in config.taus:
            if progress is not None:
                progress(f"N={n} tau={tau}")
            cell = statistics(iterations_to_tolerance(scores / tau, config))
            gaussian.append({"n": n, "tau": tau, **cell})
    epsilons = np.array([e for e in plateaus_config.epsilons if e > 0])
    matrices = never_converging(PATTERN_SIZE, patterns_config)
    plateau_iterations = iterations_to_tolerance(stacked_log_scores(matrices, epsilons), config)
    return {
        "tol": config.tol,
        "max_iters": config.max_iters,
        "gaussian": gaussian,
        "plateau": [
            {"epsilon": float(e), **statistics(row)}
            for e, row in zip(epsilons, plateau_iterations, strict=True)
        ],
    }


@styled
def draw(result: dict, out: Path) -> list[Path]:
    """Histograms of iterations to tolerance, one panel per N, plus the plateau matrices."""
    sizes = sorted({cell["n"] for cell in result["gaussian"]})
    figure, axes = plt.subplots(
        1, len(sizes) + 1, figsize=(4.2 * (len(sizes) + 1), 3.9), squeeze=False
    )
    cap = result["max_iters"]
    bins = np.logspace(0, np.log10(cap) + 0.05, 40)
    for ax, n in zip(axes[0], sizes, strict=False):
        for cell in (c for c in result["gaussian"] if c["n"] == n):
            counts = np.array(cell["iterations"])
            shown = np.where(counts < 0, cap, counts)
            label = f"tau = {cell['tau']:g}" + (
                f" ({cell['not_converged']} at cap)" if cell["not_converged"] else ""
            )
            ax.hist(shown, bins=bins, histtype="stepfilled", alpha=0.55, label=label)
        ax.axvline(USUAL_ITERS, color="black", linestyle=":", label=f"fixed L = {USUAL_ITERS}")
        ax.set_xscale("log")
        ax.set_xlabel(f"iterations until error < {result['tol']:g}")
        ax.set_title(f"random N(0,1) / tau, N = {n}")
        ax.legend()
    axes[0, 0].set_ylabel("matrices")
    plateau_ax = axes[0, -1]
    epsilons = np.array([row["epsilon"] for row in result["plateau"]])
    for row, e in zip(result["plateau"], epsilons, strict=True):
        counts = np.array(row["iterations"])
        plateau_ax.plot(np.full(counts.shape, -np.log10(e)), counts, "o", color="C0", alpha=0.4)
    plateau_ax.axhline(USUAL_ITERS, color="black", linestyle=":", label=f"fixed L = {USUAL_ITERS}")
    plateau_ax.legend(loc="upper left")
    plateau_ax.set_xlabel("-log10(e)")
    plateau_ax.set_ylabel(f"iterations until error < {result['tol']:g}")
    plateau_ax.set_title(f"3x3 patterns, zeros -> e ({len(counts)} matrices per e)")
    plateau_ax.set_ylim(bottom=0)
    figure.suptitle(
        f"Sinkhorn run to tolerance {result['tol']:g}: the cost depends on the input "
        f"(cap {cap} iterations)",
        y=1.02,
    )
    return [save_figure(figure, out / "variable_length_iterations.png")]
