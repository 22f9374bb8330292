"""Part 1 (paper Fig. 1): the binary matrices on which Sinkhorn never converges.

Every n x n 0/1 matrix A goes through ``tracker.perm.sinkhorn(log A)`` (zeros are ``-inf``, i.e.
structural zeros). Three cases, told apart by the measured constraint error and cross-checked by
counting positive diagonals (permutations inside the support of A):

- a row or column of A is all zero: no scaling can make it sum to one; Sinkhorn returns NaN there.
  These are found before the run, counted apart, and confirmed to give NaN after one iteration.
- no positive diagonal (Frobenius-Koenig: an s x t zero block with s + t = n + 1), yet no zero
  line: no doubly-stochastic scaling exists and the iteration oscillates forever between a
  row- and a column-normalised matrix; the error stays >= 1/n. These are "never converging".
- a positive diagonal exists: Sinkhorn converges (linearly with total support, like 1/L without).

The never-converging matrices are grouped by symmetry (:mod:`.symmetry`) and one representative
per group is drawn.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from experiments.sinkhorn_diagnostics.config import PatternsConfig
from experiments.sinkhorn_diagnostics.convergence import error_after, log_scores
from experiments.sinkhorn_diagnostics.figures import draw_binary_matrix, plt, save_figure, styled
from experiments.sinkhorn_diagnostics.symmetry import GROUPINGS, group, matrices_from_codes

MAX_DRAWN = 48
COLUMNS = 9
GROUPING_TITLES = {
    "rows-cols": "row/column permutations and transpose",
    "square": "rotations and reflections of the square (as the paper)",
}


def all_binary_matrices(n: int) -> np.ndarray:
    """All 2^(n*n) n x n 0/1 matrices, (2^(n*n), n, n) float64, ordered by code."""
    return matrices_from_codes(np.arange(2 ** (n * n)), n)


def has_zero_line(matrices: np.ndarray) -> np.ndarray:
    """(B, n, n) -> (B,) bool: some row or column is all zero."""
    return (matrices.sum(axis=-1) == 0).any(axis=-1) | (matrices.sum(axis=-2) == 0).any(axis=-1)


def positive_diagonals(matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which permutation matrices lie inside each matrix's support.

    Returns:
        (inside (B, n!) bool, permutation_matrices (n!, n, n) float64).
    """
    n = matrices.shape[-1]
    orders = np.array(list(itertools.permutations(range(n))))
    permutation_matrices = np.zeros((len(orders), n, n))
    permutation_matrices[np.arange(len(orders))[:, None], np.arange(n), orders] = 1.0
    hits = np.einsum("bij,pij->bp", matrices, permutation_matrices)
    return hits == n, permutation_matrices


def support_classes(matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B, n, n) 0/1 -> (has_support, has_total_support), each (B,) bool.

    Support: some positive diagonal; total support: every 1 lies on a positive diagonal.
    """
    inside, permutation_matrices = positive_diagonals(matrices)
    covered = np.einsum("bp,pij->bij", inside.astype(np.float64), permutation_matrices) > 0
    support = inside.any(axis=1)
    return support, support & (covered == (matrices > 0)).all(axis=(1, 2))


def final_errors(n: int, config: PatternsConfig) -> tuple[np.ndarray, np.ndarray]:
    """Every n x n binary matrix without a zero line and its error after ``config.n_iters``.

    Returns:
        (matrices (B, n, n) float64, max(Err_r, Err_c) (B,) float64).
    """
    matrices = all_binary_matrices(n)
    candidates = matrices[~has_zero_line(matrices)]
    return candidates, error_after(log_scores(candidates), config.n_iters)


def never_converging(n: int, config: PatternsConfig) -> np.ndarray:
    """The n x n binary matrices on which Sinkhorn never converges, (M, n, n) float64."""
    candidates, error = final_errors(n, config)
    return candidates[error > config.threshold]


def classify(n: int, config: PatternsConfig) -> dict:
    """Run Sinkhorn on every n x n binary matrix; counts, error levels and symmetry groups."""
    matrices = all_binary_matrices(n)
    zero_line = has_zero_line(matrices)
    nan_after_one = np.isnan(error_after(log_scores(matrices[zero_line]), 1))
    candidates, error = final_errors(n, config)
    never = error > config.threshold
    support, total_support = support_classes(candidates)
    never_matrices = candidates[never]
    groups = {}
    for grouping in GROUPINGS:
        representatives, sizes = group(never_matrices, grouping)
        groups[grouping] = {
            "count": len(sizes),
            "sizes": sizes.tolist(),
            "representatives": representatives.astype(int).tolist(),
        }
    return {
        "n": n,
        "matrices": len(matrices),
        "zero_line": int(zero_line.sum()),
        "zero_line_nan_after_one_iteration": int(nan_after_one.sum()),
        "sinkhorn_iterations": config.n_iters,
        "threshold": config.threshold,
        "never_converging": int(never.sum()),
        "no_positive_diagonal": int((~support).sum()),
        "never_converging_equals_no_positive_diagonal": bool((never == ~support).all()),
        "support_without_total_support": int((support & ~total_support).sum()),
        "total_support": int(total_support.sum()),
        "error_never_converging_min": float(error[never].min()) if never.any() else None,
        "error_converging_max": float(error[~never].max()),
        "groups": groups,
    }


def measure(config: PatternsConfig) -> dict:
    """Part 1 for every configured size: ``{"3": classify(3), "4": classify(4)}``."""
    return {str(n): classify(n, config) for n in config.sizes}


@styled
def draw(result: dict, out: Path) -> list[Path]:
    """One PNG per size: a representative of every symmetry group, one block per grouping.

    A grouping with more than :data:`MAX_DRAWN` groups (4x4 under the square's symmetries) is
    counted in the summary but not drawn.
    """
    return [draw_size(size_result, out) for size_result in result.values()]


def draw_size(size_result: dict, out: Path) -> Path:
    """The representatives of one size's groups, see :func:`draw`."""
    blocks = [
        (grouping, entry)
        for grouping, entry in size_result["groups"].items()
        if 0 < entry["count"] <= MAX_DRAWN
    ]
    columns = min(COLUMNS, max([entry["count"] for _, entry in blocks], default=1))
    block_rows = [-(-entry["count"] // columns) for _, entry in blocks] or [1]
    height = 1.25 * sum(block_rows) + 0.5 * len(block_rows)
    figure = plt.figure(figsize=(max(4.8, 0.95 * columns + 0.6), height))
    subfigures = figure.subfigures(len(block_rows), 1, height_ratios=block_rows, squeeze=False)
    placed = zip(subfigures[:, 0], blocks, block_rows, strict=False)
    for subfigure, (grouping, entry), n_rows in placed:
        axes = subfigure.subplots(n_rows, columns, squeeze=False).ravel()
        subfigure.suptitle(f"{entry['count']} groups under {GROUPING_TITLES[grouping]}", fontsize=9)
        cells = zip(axes, entry["representatives"], entry["sizes"], strict=False)
        for ax, matrix, members in cells:
            label = f"{members} matri{'x' if members == 1 else 'ces'}"
            draw_binary_matrix(ax, np.array(matrix), label)
        for ax in axes[entry["count"] :]:
            ax.set_visible(False)
    n = size_result["n"]
    not_drawn = [
        f"{entry['count']} groups under {GROUPING_TITLES[grouping]} (not drawn)"
        for grouping, entry in size_result["groups"].items()
        if entry["count"] > MAX_DRAWN
    ]
    figure.suptitle(
        "\n".join(
            [
                f"{n}x{n} binary matrices on which Sinkhorn never converges: "
                f"{size_result['never_converging']} of {size_result['matrices']} (black = 1)",
                *not_drawn,
            ]
        ),
        y=1.0 + 0.1 / height,
        va="bottom",
    )
    return save_figure(figure, out / f"patterns_{n}x{n}.png")
