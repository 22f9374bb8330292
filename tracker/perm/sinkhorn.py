"""Log-domain Sinkhorn normalisation, its Gumbel-perturbed form, and the constraint error."""

from __future__ import annotations

import torch
from torch import Tensor

from tracker.perm.noise import perturb


def _normalise_rows(log_alpha: Tensor) -> Tensor:
    return log_alpha - torch.logsumexp(log_alpha, dim=-1, keepdim=True)


def _normalise_cols(log_alpha: Tensor) -> Tensor:
    return log_alpha - torch.logsumexp(log_alpha, dim=-2, keepdim=True)


def constraint_error(P: Tensor) -> tuple[Tensor, Tensor]:
    """The paper's Err_r and Err_c: max over rows (columns) of |1 - row (column) sum|.

    Args:
        P: (..., N, N) matrix, e.g. the output of :func:`sinkhorn`.

    Returns:
        (row_error, col_error), each of shape (...,).
    """
    row_error = (1.0 - P.sum(dim=-1)).abs().amax(dim=-1)
    col_error = (1.0 - P.sum(dim=-2)).abs().amax(dim=-1)
    return row_error, col_error


def sinkhorn(
    log_alpha: Tensor,
    n_iters: int = 20,
    tol: float | None = None,
    max_iters: int = 10_000,
) -> Tensor | tuple[Tensor, Tensor]:
    """Sinkhorn normalisation of exp(log_alpha) in the log domain.

    One iteration is a row normalisation followed by a column normalisation (Mena et al. 2018),
    so after each iteration the columns sum to one exactly and the rows approximately.

    Args:
        log_alpha: (..., N, N) log scores; ``-inf`` entries are structural zeros. Every row and
            column needs at least one finite entry (otherwise the result is NaN).
        n_iters: fixed number of iterations L when ``tol`` is None.
        tol: if given, iterate until max(Err_r, Err_c) < tol for every matrix of the batch, at most
            ``max_iters`` iterations; each matrix stops changing once it meets ``tol``.
        max_iters: cap on iterations in ``tol`` mode.

    Returns:
        P = exp(normalised log_alpha), shape (..., N, N). With ``tol``: ``(P, iterations)`` where
        ``iterations`` (..., int64) is the number of iterations each matrix needed, or -1 where it
        did not reach ``tol`` within ``max_iters``.
    """
    if tol is None:
        for _ in range(n_iters):
            log_alpha = _normalise_cols(_normalise_rows(log_alpha))
        return log_alpha.exp()

    batch_shape = log_alpha.shape[:-2]
    iterations = torch.full(batch_shape, -1, dtype=torch.int64, device=log_alpha.device)
    for step in range(1, max_iters + 1):
        updated = _normalise_cols(_normalise_rows(log_alpha))
        done_before = iterations >= 0
        log_alpha = torch.where(done_before[..., None, None], log_alpha, updated)
        error = torch.maximum(*constraint_error(log_alpha.exp()))
        newly_done = (~done_before) & (error < tol)
        iterations = torch.where(newly_done, torch.full_like(iterations, step), iterations)
        if bool((iterations >= 0).all()):
            break
    return log_alpha.exp(), iterations


def gumbel_sinkhorn(
    log_alpha: Tensor,
    tau: float = 1.0,
    noise: float = 0.0,
    samples: int = 1,
    n_iters: int = 20,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Gumbel-Sinkhorn (Mena et al. 2018): ``sinkhorn((log_alpha + noise * g) / tau, n_iters)``.

    Arguments mirror :func:`hungarian_ste`. Returns (S, ..., N, N) if samples > 1 else (..., N, N),
    a soft doubly-(approximately-)stochastic matrix, differentiable in ``log_alpha``.
    """
    return sinkhorn(perturb(log_alpha, tau, noise, samples, generator), n_iters=n_iters)
