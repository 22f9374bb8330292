"""Part 2 (paper Fig. 2, Appendix D): zeros replaced by e give plateaus of length ~ -log2(e) + 2.

Each 3x3 pattern on which Sinkhorn never converges (:mod:`.patterns`) gets its zeros replaced by
e > 0. The matrix is then strictly positive, so Sinkhorn's theorem applies and the iteration
converges, but only after a plateau during which it mimics the oscillation of e = 0. The paper
predicts the plateau to last k = -log2(e) + 2 normalisations (one iteration = a row and a column
normalisation = 2 normalisations).

Measured here, per pattern and e: the error curve max(Err_r, Err_c) after L = 1..max_iters
iterations; the plateau length L* = first L with error < ``plateau_error``, in normalisations
k* = 2 L* (the error is read after whole iterations, so k* is resolved to 2 normalisations); the
least-squares line k* = slope * (-log2 e) + intercept beside the formula's slope 1 and intercept 2.
Then, for each fixed L, the largest e on a log grid whose error after L iterations is still above
``stuck_error``: no fixed L is enough for every input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from experiments.sinkhorn_diagnostics.config import PatternsConfig, PlateausConfig
from experiments.sinkhorn_diagnostics.convergence import error_after, error_curve, log_scores
from experiments.sinkhorn_diagnostics.figures import draw_binary_matrix, plt, save_figure, styled
from experiments.sinkhorn_diagnostics.patterns import never_converging
from experiments.sinkhorn_diagnostics.symmetry import canonical_codes

PATTERN_SIZE = 3


def formula_normalisations(epsilon: np.ndarray) -> np.ndarray:
    """The paper's plateau length k = -log2(e) + 2, in normalisations."""
    return -np.log2(epsilon) + 2.0


def first_below(curves: np.ndarray, level: float) -> np.ndarray:
    """(..., L) error curves -> (...,) first iteration (1-based) with error < level, -1 if none."""
    below = curves < level
    return np.where(below.any(axis=-1), below.argmax(axis=-1) + 1, -1)


def stacked_log_scores(matrices: np.ndarray, epsilons: np.ndarray) -> torch.Tensor:
    """(M, n, n) 0/1 matrices, (E,) values e -> (E, M, n, n) log scores with zeros set to e."""
    return torch.stack([log_scores(matrices, float(e)) for e in epsilons])


def fit_line(x: np.ndarray, y: np.ndarray) -> dict:
    """Least-squares y = slope * x + intercept; with the largest absolute residual."""
    slope, intercept = np.polyfit(x, y, 1)
    residual = np.abs(y - (slope * x + intercept)).max()
    return {"slope": float(slope), "intercept": float(intercept), "max_residual": float(residual)}


def stuck_epsilons(matrices: np.ndarray, config: PlateausConfig) -> np.ndarray:
    """Largest grid e with error > stuck_error after L iterations: (len(stuck_lengths), M).

    NaN where no grid value stays above the level.
    """
    top, bottom, count = config.stuck_log10_eps
    grid = np.logspace(top, bottom, int(count))  # decreasing
    log_alpha = stacked_log_scores(matrices, grid)
    rows = []
    for length in config.stuck_lengths:
        stuck = error_after(log_alpha, length) > config.stuck_error  # (E, M)
        first = stuck.argmax(axis=0)
        rows.append(np.where(stuck.any(axis=0), grid[first], np.nan))
    return np.array(rows)


def measure(config: PlateausConfig, patterns_config: PatternsConfig) -> dict:
    """Error curves, plateau lengths, fits and the stuck-e search for every 3x3 pattern.

    Curves are kept for one representative per row/column-symmetry group; the plateau lengths of
    all members are measured and their spread within each group is reported.
    """
    matrices = never_converging(PATTERN_SIZE, patterns_config)
    group_codes = canonical_codes(matrices, "rows-cols")
    codes, first_member = np.unique(group_codes, return_index=True)
    epsilons = np.array(config.epsilons, dtype=np.float64)
    curves = error_curve(stacked_log_scores(matrices, epsilons), config.max_iters)  # (E, M, L)
    lengths = first_below(curves, config.plateau_error)  # (E, M)
    positive = epsilons > 0
    stuck = stuck_epsilons(matrices[first_member], config)
    patterns = []
    for column, (code, member) in enumerate(zip(codes, first_member, strict=True)):
        in_group = group_codes == code
        spread = lengths[:, in_group].max(axis=1) - lengths[:, in_group].min(axis=1)
        found = positive & (lengths[:, member] > 0)
        k_measured = 2.0 * lengths[found, member]
        log2_inverse = -np.log2(epsilons[found])
        valid_stuck = ~np.isnan(stuck[:, column])
        patterns.append(
            {
                "matrix": matrices[member].astype(int).tolist(),
                "members": int(in_group.sum()),
                "curves": curves[:, member].tolist(),
                "plateau_iterations": [int(L) if L > 0 else None for L in lengths[:, member]],
                "plateau_normalisations": [
                    2 * int(L) if L > 0 else None for L in lengths[:, member]
                ],
                "plateau_spread_within_group": int(spread.max()),
                "fit": fit_line(log2_inverse, k_measured),
                "fit_minus_formula_max": float(
                    np.abs(k_measured - formula_normalisations(epsilons[found])).max()
                ),
                "stuck_epsilon": [None if np.isnan(e) else float(e) for e in stuck[:, column]],
                "stuck_fit": fit_line(
                    np.array(config.stuck_lengths, dtype=np.float64)[valid_stuck],
                    -np.log2(stuck[valid_stuck, column]),
                ),
            }
        )
    return {
        "epsilons": epsilons.tolist(),
        "formula_normalisations": [
            float(formula_normalisations(e)) if e > 0 else None for e in epsilons
        ],
        "max_iters": config.max_iters,
        "plateau_error": config.plateau_error,
        "stuck_error": config.stuck_error,
        "stuck_lengths": list(config.stuck_lengths),
        "patterns": patterns,
    }


def epsilon_label(epsilon: float) -> str:
    """'0' or '1e-3' style labels."""
    return "0" if epsilon == 0 else f"1e{np.log10(epsilon):.0f}"


@styled
def draw(result: dict, out: Path) -> list[Path]:
    """Two PNGs: the error curves per pattern, and plateau lengths plus the stuck-e search."""
    return [draw_curves(result, out), draw_lengths(result, out)]


def draw_curves(result: dict, out: Path) -> Path:
    """Error against iteration, one panel per pattern, one curve per e (log error scale)."""
    patterns = result["patterns"]
    figure, axes = plt.subplots(
        1, len(patterns), figsize=(5.2 * len(patterns), 4.4), sharey=True, squeeze=False
    )
    epsilons = result["epsilons"]
    colours = plt.cm.viridis(np.linspace(0.0, 0.92, len(epsilons)))
    iterations = np.arange(1, result["max_iters"] + 1)
    for index, (ax, pattern) in enumerate(zip(axes[0], patterns, strict=True)):
        for epsilon, colour, curve in zip(epsilons, colours, pattern["curves"], strict=True):
            style = {"color": "black", "linestyle": "--"} if epsilon == 0 else {"color": colour}
            ax.plot(
                iterations, np.maximum(curve, 1e-17), label=f"e = {epsilon_label(epsilon)}", **style
            )
        ax.axhline(result["plateau_error"], color="red", linewidth=0.8, linestyle=":")
        ax.set_yscale("log")
        ax.set_ylim(1e-17, 3.0)
        ax.set_xlabel("Sinkhorn iterations L (row + column normalisation)")
        ax.set_title(
            f"pattern {index + 1} (inset; {pattern['members']} matrices), zeros replaced by e",
            loc="right",
        )
        inset = ax.inset_axes([0.0, 1.02, 0.13, 0.13 * 5.2 / 4.4])
        draw_binary_matrix(inset, np.array(pattern["matrix"]), "")
    axes[0, 0].set_ylabel("constraint error max(Err_r, Err_c)\n(exact 0 drawn at 1e-17)")
    axes[0, -1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), title="zeros replaced by")
    axes[0, 0].text(
        0.99,
        result["plateau_error"] * 1.5,
        f"plateau end: {result['plateau_error']}",
        color="red",
        fontsize=8,
        ha="right",
        transform=axes[0, 0].get_yaxis_transform(),
    )
    return save_figure(figure, out / "plateaus_error_curves.png")


def draw_lengths(result: dict, out: Path) -> Path:
    """Left: plateau length against -log2 e with the formula. Right: the stuck e per fixed L."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(11.0, 4.4))
    epsilons = np.array(result["epsilons"])
    positive = epsilons > 0
    x = -np.log2(epsilons[positive])
    left.plot(x, formula_normalisations(epsilons[positive]), "k-", label="paper: k = -log2(e) + 2")
    markers = ["o", "s", "^", "D"]
    lengths = np.array(result["stuck_lengths"])
    for index, pattern in enumerate(result["patterns"]):
        k = np.array(pattern["plateau_normalisations"], dtype=float)[positive]
        found = ~np.isnan(k)
        fit = pattern["fit"]
        left.plot(
            x[found],
            k[found],
            markers[index % len(markers)],
            fillstyle="none",
            label=f"pattern {index + 1}: fit k = {fit['slope']:.2f} (-log2 e) "
            f"{fit['intercept']:+.1f}",
        )
        stuck = np.array([np.nan if e is None else e for e in pattern["stuck_epsilon"]])
        stuck_fit = pattern["stuck_fit"]
        right.plot(
            lengths,
            stuck,
            markers[index % len(markers)] + "-",
            label=f"pattern {index + 1}: -log2(e) = {stuck_fit['slope']:.2f} L "
            f"{stuck_fit['intercept']:+.1f}",
        )
    left.set_xlabel("-log2(e)")
    left.set_ylabel(f"normalisations k until error < {result['plateau_error']}  (k = 2 L*)")
    left.set_title("plateau length against the paper's formula")
    left.legend()
    right.set_yscale("log")
    right.set_xlabel("fixed number of Sinkhorn iterations L")
    right.set_ylabel(f"largest e with error > {result['stuck_error']} after L")
    right.set_title("for every L some e > 0 defeats it")
    right.legend()
    return save_figure(figure, out / "plateaus_lengths.png")
