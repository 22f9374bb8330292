"""Exact assignment: the Hungarian layer's forward pass, batched over leading dimensions.

The solver is lapx's Jonker-Volgenant batch kernel (``lap.lapjvr_batch``), which releases the GIL
and runs the batch on a native thread pool of ``torch.get_num_threads()`` threads (at most 4), so
``torch.set_num_threads`` is the one knob for both; scipy's ``linear_sum_assignment`` stays the
reference that the tests compare against. ``benchmarks/perm.py`` measures both side by side.

Scores are maximised. ``-inf`` marks a forbidden pair: the solver then returns the largest matching
that uses allowed pairs only, and among those the one with the highest total score, so a row whose
pairs are all forbidden stays unassigned.
"""

from __future__ import annotations

import lap
import numpy as np
import torch
from torch import Tensor

_MAX_THREADS = 4
_NUMPY_DTYPES = {torch.float64: np.float64, torch.float32: np.float32, torch.float16: np.float16}


def _check_finite_or_forbidden(scores: np.ndarray | Tensor, name: str) -> None:
    """Raise ValueError for NaN or +inf entries (``-inf`` is allowed: a forbidden pair)."""
    module = torch if isinstance(scores, Tensor) else np
    if module.isnan(scores).any():
        raise ValueError(f"{name} contains NaN; scores must be finite or -inf (forbidden pair)")
    if module.isposinf(scores).any():
        raise ValueError(f"{name} contains +inf; scores must be finite or -inf (forbidden pair)")


def _solve_batch(costs: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Minimum-cost assignments of a (B, N, M) float64 batch of finite costs.

    Returns per-problem row and column index arrays, each of length min(N, M).
    """
    threads = min(_MAX_THREADS, torch.get_num_threads())
    rows, cols = lap.lapjvr_batch(
        costs, extend_cost=True, return_cost=False, n_threads=threads, precision="float64"
    )
    return rows, cols


def _finite_costs(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Turn (B, N, M) maximisation scores into finite minimisation costs for the solver.

    A forbidden (-inf) pair costs more than any matching of allowed pairs can gain, so the solver
    first maximises the number of allowed pairs, then their total score. Returns (costs, forbidden
    mask or None when every entry is finite).
    """
    if np.isfinite(scores).all():
        return np.negative(scores, dtype=np.float64), None  # one pass: negate and widen
    _check_finite_or_forbidden(scores, "scores")
    scores = scores.astype(np.float64)
    forbidden = np.isneginf(scores)
    allowed = -scores[~forbidden]
    highest = float(allowed.max()) if allowed.size else 0.0
    span = highest - float(allowed.min()) if allowed.size else 0.0
    big = highest + (span + 1.0) * (min(scores.shape[-2:]) + 1)
    return np.where(forbidden, big, -scores), forbidden


def hungarian(scores: Tensor) -> Tensor:
    """Hard assignment that maximises the total score, batched over leading dimensions.

    Args:
        scores: (..., N, M) real tensor, larger = better match; ``-inf`` forbids a pair.

    Returns:
        (..., N, M) tensor of the input's dtype and device holding 0/1 entries, at most one 1 per
        row and per column, and min(N, M) ones when no pair is forbidden. Not differentiable (use
        :func:`hungarian_ste` for a gradient).

    Raises:
        ValueError: if ``scores`` has fewer than 2 dimensions or contains NaN or +inf.
    """
    if scores.dim() < 2:
        raise ValueError(f"scores must have shape (..., N, M); got {tuple(scores.shape)}")
    if scores.numel() == 0:
        return torch.zeros_like(scores)
    n, m = scores.shape[-2:]
    host = scores.detach().cpu()
    array = (host if host.dtype in _NUMPY_DTYPES else host.double()).numpy()
    flat = array.reshape(-1, n, m)
    costs, forbidden = _finite_costs(flat)
    rows, cols = _solve_batch(costs)
    batch_index = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
    row_index, col_index = np.concatenate(rows), np.concatenate(cols)
    if forbidden is not None:
        keep = ~forbidden[batch_index, row_index, col_index]
        batch_index, row_index, col_index = batch_index[keep], row_index[keep], col_index[keep]
    assignment = np.zeros(flat.shape, dtype=array.dtype)
    assignment[batch_index, row_index, col_index] = 1  # numpy: far cheaper than torch index_put
    return torch.from_numpy(assignment.reshape(array.shape)).to(scores.device, scores.dtype)


def augmented_scores(pair_scores: Tensor, row_unmatched: Tensor, col_unmatched: Tensor) -> Tensor:
    """Build the (N+M) x (M+N) square score matrix of an unbalanced matching problem.

    Layout (rows: the N rows, then one "unmatched" row per column; columns: the M columns, then one
    "unmatched" column per row)::

        [ pair_scores (N, M)        | diag(row_unmatched) (N, N), -inf off the diagonal ]
        [ diag(col_unmatched) (M, M)| zeros (M, N)                                      ]

    Args:
        pair_scores: (..., N, M) scores of matching row i with column j (``-inf`` = forbidden).
        row_unmatched: (..., N) score of leaving row i unmatched (finite).
        col_unmatched: (..., M) score of leaving column j unmatched (finite).

    Returns:
        (..., N+M, M+N) tensor; differentiable in all three inputs.
    """
    n, m = pair_scores.shape[-2:]
    if row_unmatched.shape[-1] != n or col_unmatched.shape[-1] != m:
        raise ValueError(
            f"unmatched scores must have N={n} and M={m} entries; got {row_unmatched.shape[-1]} "
            f"and {col_unmatched.shape[-1]}"
        )
    # numpy's rule is the same as torch's, without torch.broadcast_shapes' one-off sympy import.
    batch = np.broadcast_shapes(
        pair_scores.shape[:-2], row_unmatched.shape[:-1], col_unmatched.shape[:-1]
    )
    kind = dict(dtype=pair_scores.dtype, device=pair_scores.device)
    forbidden = torch.tensor(float("-inf"), **kind)
    top_right = torch.where(
        torch.eye(n, dtype=torch.bool, device=pair_scores.device),
        row_unmatched.unsqueeze(-1),
        forbidden,
    )
    bottom_left = torch.where(
        torch.eye(m, dtype=torch.bool, device=pair_scores.device),
        col_unmatched.unsqueeze(-1),
        forbidden,
    )
    top = torch.cat([pair_scores.expand(*batch, n, m), top_right.expand(*batch, n, n)], dim=-1)
    bottom = torch.cat(
        [bottom_left.expand(*batch, m, m), torch.zeros(*batch, m, n, **kind)], dim=-1
    )
    return torch.cat([top, bottom], dim=-2)


def hungarian_augmented(
    pair_scores: Tensor, row_unmatched: Tensor, col_unmatched: Tensor
) -> Tensor:
    """Best partial matching when rows and columns may also stay unmatched.

    Maximises ``sum(pair_scores * P) + sum(row_unmatched[rows left unmatched]) +
    sum(col_unmatched[columns left unmatched])`` over partial assignments P, exactly, by solving
    the square problem of :func:`augmented_scores`.

    Args:
        pair_scores: (..., N, M); ``-inf`` forbids a pair.
        row_unmatched: (..., N) finite scores of leaving each row unmatched.
        col_unmatched: (..., M) finite scores of leaving each column unmatched.

    Returns:
        (..., N, M) 0/1 tensor (dtype and device of ``pair_scores``), at most one 1 per row/column.
    """
    _check_finite_or_forbidden(pair_scores, "pair_scores")
    for name, value in (("row_unmatched", row_unmatched), ("col_unmatched", col_unmatched)):
        if not torch.isfinite(value).all():
            raise ValueError(f"{name} must be finite")
    n, m = pair_scores.shape[-2:]
    full = hungarian(augmented_scores(pair_scores, row_unmatched, col_unmatched))
    return full[..., :n, :m]
