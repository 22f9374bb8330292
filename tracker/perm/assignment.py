"""Exact assignment: the Hungarian layer's forward pass, batched over leading dimensions.

The torch front end of :mod:`tracker.perm.lsap`, which holds the checks, the per-matrix cost
conversion and the call of lapx's Jonker-Volgenant kernel (``lap.lapjvr_batch``: it releases the
GIL and runs the batch on a native thread pool of ``torch.get_num_threads()`` threads, at most 4,
so ``torch.set_num_threads`` is the one knob for both); scipy's ``linear_sum_assignment`` stays the
reference that the tests compare against. ``benchmarks/perm.py`` measures both side by side.

Scores are maximised. ``-inf`` marks a forbidden pair: the solver then returns the largest matching
that uses allowed pairs only, and among those the one with the highest total score, so a row whose
pairs are all forbidden stays unassigned.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from tracker.perm.lsap import forbidden_value_error, hungarian_numpy

_NUMPY_DTYPES = {torch.float64: np.float64, torch.float32: np.float32, torch.float16: np.float16}


def _check_finite_or_forbidden(scores: Tensor, name: str) -> None:
    """Raise ValueError for NaN or +inf entries (``-inf`` is allowed: a forbidden pair)."""
    if torch.isnan(scores).any():
        raise forbidden_value_error(name, "NaN")
    if torch.isposinf(scores).any():
        raise forbidden_value_error(name, "+inf")


def hungarian(scores: Tensor) -> Tensor:
    """Hard assignment that maximises the total score, batched over leading dimensions.

    Args:
        scores: (..., N, M) real tensor, larger = better match; ``-inf`` forbids a pair.

    Returns:
        (..., N, M) tensor of the input's dtype and device holding 0/1 entries, at most one 1 per
        row and per column, and min(N, M) ones when no pair is forbidden. Not differentiable (use
        :func:`hungarian_ste` for a gradient). Inside a batch (leading dimensions, also of one
        matrix), each matrix's answer depends on that matrix alone; a single small 2-D matrix is
        solved by scipy (:mod:`tracker.perm.lsap`), which may break exact ties differently.

    Raises:
        ValueError: if ``scores`` has fewer than 2 dimensions or contains NaN or +inf.
        TypeError: if ``scores`` is complex.
    """
    if scores.dim() < 2:
        raise ValueError(f"scores must have shape (..., N, M); got {tuple(scores.shape)}")
    # Few tensor calls: a small CPU problem costs a few microseconds in the solver.
    host = scores.detach() if scores.requires_grad else scores
    moved = not host.is_cpu
    if moved:
        host = host.cpu()
    converted = host.dtype not in _NUMPY_DTYPES
    if converted:
        if host.is_complex():
            raise TypeError(f"scores must be real; got dtype {scores.dtype}")
        host = host.double()
    result = torch.from_numpy(hungarian_numpy(host.numpy()))  # the input's dtype when not converted
    if moved or converted:
        result = result.to(scores.device, scores.dtype)
    return result


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
