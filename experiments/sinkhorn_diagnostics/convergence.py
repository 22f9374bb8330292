"""Constraint error of tracker.perm's Sinkhorn after a given number of iterations."""

from __future__ import annotations

import numpy as np
import torch

from tracker.perm import constraint_error, sinkhorn


def error_after(log_alpha: torch.Tensor, n_iters: int) -> np.ndarray:
    """max(Err_r, Err_c) after ``n_iters`` Sinkhorn iterations: (..., N, N) -> (...,) float64.

    NaN where a row or column of ``log_alpha`` is all ``-inf`` (no scaling exists).
    """
    return torch.maximum(*constraint_error(sinkhorn(log_alpha, n_iters=n_iters))).double().numpy()


def error_curve(log_alpha: torch.Tensor, max_iters: int) -> np.ndarray:
    """max(Err_r, Err_c) after each of 1..max_iters iterations: (..., N, N) -> (..., max_iters).

    Each point is a fresh ``sinkhorn(log_alpha, n_iters=L)`` call, so the curve is exactly what a
    user of a fixed-L Sinkhorn layer gets (cost O(max_iters^2) iterations: for small matrices).
    """
    return np.stack([error_after(log_alpha, L) for L in range(1, max_iters + 1)], axis=-1)


def log_scores(matrices: np.ndarray, epsilon: float = 0.0) -> torch.Tensor:
    """log of 0/1 matrices with zeros replaced by ``epsilon`` (0 -> -inf): float64 tensor."""
    with np.errstate(divide="ignore"):
        return torch.from_numpy(np.log(np.where(matrices > 0, 1.0, epsilon)))
