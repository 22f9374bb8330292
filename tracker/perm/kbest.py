"""The k best hard assignments of a score matrix (Murty's method), batched over leading dimensions.

An assignment of an (N, M) score matrix here matches min(N, M) rows to distinct columns through
allowed pairs (``-inf`` forbids a pair); its total is the sum of its pairs' scores. Murty's
partition: after the best assignment ``(r_1, c_1), ..., (r_n, c_n)`` of a sub-problem has been
output, the sub-problem's other assignments split into n disjoint sub-problems, the t-th forcing
pairs 1..t-1 and forbidding pair t; the next best assignment is the best over every open
sub-problem. Each round solves the children of every batch element's latest output in one call
of the batched :func:`tracker.perm.hungarian`, so k rounds cost k solver calls whatever the batch.
"""

from __future__ import annotations

import heapq
import itertools

import numpy as np
import torch
from torch import Tensor

from tracker.perm.assignment import hungarian


def k_best_assignments(scores: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """The k highest-total assignments of each matrix, best first.

    Args:
        scores: (..., N, M) real tensor, larger = better; ``-inf`` forbids a pair.
        k: number of assignments wanted (>= 1).

    Returns:
        ``(assignments, totals)``: assignments (..., k, N, M) 0/1 tensors (dtype and device of
        ``scores``), each with min(N, M) ones, no two alike; totals (..., k) float64 sums of
        their scores, non-increasing. Where a matrix has fewer than k assignments, the missing
        ones are all-zero with total ``-inf``.

    Raises:
        ValueError: k < 1, fewer than 2 dimensions, or NaN / +inf scores.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if scores.dim() < 2:
        raise ValueError(f"scores must have shape (..., N, M); got {tuple(scores.shape)}")
    if torch.isnan(scores).any() or torch.isposinf(scores).any():
        raise ValueError("scores contain NaN or +inf; they must be finite or -inf (forbidden)")
    batch_shape, (n, m) = scores.shape[:-2], scores.shape[-2:]
    flat = scores.detach().cpu().double().reshape(int(np.prod(batch_shape)), n, m).numpy()
    transposed = n > m
    if transposed:
        flat = flat.transpose(0, 2, 1)
    columns = _k_best_columns(np.ascontiguousarray(flat), k)  # (B, k, rows), -1 = none
    rows = flat.shape[1]
    found = (columns >= 0).all(axis=2) if rows else np.arange(k)[None].repeat(len(flat), 0) == 0
    batch, rank, row = np.nonzero(columns >= 0)
    assignments = np.zeros((*columns.shape[:2], *flat.shape[1:]))
    assignments[batch, rank, row, columns[batch, rank, row]] = 1.0
    picked = np.take_along_axis(flat[:, None], np.maximum(columns, 0)[..., None], axis=3)[..., 0]
    totals = np.where(found, picked.sum(axis=2), -np.inf)
    if transposed:
        assignments = assignments.transpose(0, 1, 3, 2)
    result = torch.from_numpy(np.ascontiguousarray(assignments)).to(scores.device, scores.dtype)
    return (result.reshape(*batch_shape, k, n, m),
            torch.from_numpy(totals).reshape(*batch_shape, k))


def _solve(problems: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best assignment of each of P (N, M) problems (N <= M) in one batched Hungarian call.

    Returns ``(columns (P, N) int, feasible (P,) bool)``: the column of each row, and whether
    every row found an allowed column.
    """
    solution = hungarian(torch.from_numpy(problems)).numpy()
    feasible = solution.sum(axis=(1, 2)) == problems.shape[1]
    return solution.argmax(axis=2), feasible


def _total(problem: np.ndarray, columns: np.ndarray) -> float:
    """Sum of ``problem``'s scores at the (row, ``columns[row]``) pairs."""
    return float(problem[np.arange(columns.size), columns].sum())


def _children(problem: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Murty's partition of ``problem`` (N, M) around its best assignment ``columns`` (N,):
    (N, N, M) sub-problems, the t-th forcing each row r < t to ``columns[r]`` (every other pair
    of that row and of that column forbidden) and forbidding (t, ``columns[t]``)."""
    n, m = problem.shape
    rows = np.arange(n)
    forced = rows[None, :] < rows[:, None]  # (t, r): row r forced in child t
    owner = np.full(m, -1)
    owner[columns] = rows
    column_forced = np.zeros((n, m), dtype=bool)  # (t, c): column c forced in child t
    column_forced[:, columns] = forced
    blocked = ((forced[:, :, None] & (np.arange(m)[None, None, :] != columns[None, :, None]))
               | (column_forced[:, None, :] & (rows[None, :, None] != owner[None, None, :])))
    children = np.where(blocked, -np.inf, problem[None])
    children[rows, rows, columns] = -np.inf
    return children


def _k_best_columns(problems: np.ndarray, k: int) -> np.ndarray:
    """(B, k, N) column per row of the k best assignments of (B, N, M) problems (N <= M), -1
    where fewer exist."""
    count, n = problems.shape[0], problems.shape[1]
    result = np.full((count, k, n), -1, dtype=np.int64)
    if n == 0:
        return result  # the one empty assignment; the caller marks rank 0 found
    tie = itertools.count()  # heap tie-breaker: never compare arrays
    heaps: list[list] = [[] for _ in range(count)]
    columns, feasible = _solve(problems)
    for index in np.flatnonzero(feasible):
        heapq.heappush(heaps[index], (-_total(problems[index], columns[index]), next(tie),
                                      problems[index], columns[index]))
    for rank in range(k):
        batch, children = [], []
        for index, heap in enumerate(heaps):
            if not heap:
                continue
            _, _, problem, best = heapq.heappop(heap)
            result[index, rank] = best
            if rank + 1 < k:
                batch.append(np.full(n, index))
                children.append(_children(problem, best))
        if not children:
            continue
        owners, stacked = np.concatenate(batch), np.concatenate(children)
        columns, feasible = _solve(stacked)
        for child in np.flatnonzero(feasible):
            heapq.heappush(heaps[owners[child]], (-_total(stacked[child], columns[child]),
                                                  next(tie), stacked[child], columns[child]))
    return result
