"""A torch-native batched exact assignment solver: the device path of the Hungarian layer.

The shortest-augmenting-path method of Jonker-Volgenant as scipy implements it (Crouse, "On
implementing 2D rectangular assignment algorithms", IEEE TAES 2016), with every step vectorised
over the batch: row after row, each matrix of the batch grows its own Dijkstra tree over the
columns (reduced costs ``C_ij - u_i - v_j``), stops at its first free column, updates its duals
and augments; matrices that are done wait (masked) for the others. All data stays on the
tensor's device, so a training step on a GPU needs no host round trip. Each step is a handful of
(B, M) tensor operations, so on a CPU it is far slower than lapx (:func:`hungarian`) and serves
as the exact reference of the device path.

Costs are float64 and built per matrix like :mod:`tracker.perm.lsap` does (a matrix with
forbidden pairs is shifted to ``[0, span]`` and each forbidden pair costs ``(k + 2) span``, or 1
when ``span = 0``); entries beyond 2**500 in magnitude are refused (the numpy path scales them).
"""

from __future__ import annotations

import torch
from torch import Tensor

from tracker.perm.lsap import forbidden_value_error

_LIMIT = 2.0**500


def _costs(scores: Tensor) -> tuple[Tensor, Tensor]:
    """(B, N, M) float64 finite minimisation costs and the forbidden mask, per matrix."""
    if torch.isnan(scores).any():
        raise forbidden_value_error("scores", "NaN")
    if torch.isposinf(scores).any():
        raise forbidden_value_error("scores", "+inf")
    forbidden = torch.isneginf(scores)
    costs = -scores.double()
    inf = torch.tensor(float("inf"), dtype=torch.float64, device=scores.device)
    low = torch.where(forbidden, inf, costs).amin(dim=(-2, -1))
    high = torch.where(forbidden, -inf, costs).amax(dim=(-2, -1))
    empty = torch.isinf(low)
    low, high = torch.where(empty, 0.0, low), torch.where(empty, 0.0, high)
    if (torch.maximum(low.abs(), high.abs()) >= _LIMIT).any():
        raise ValueError("hungarian_torch supports entries below 2**500 in magnitude; use "
                         "hungarian for larger ones")
    shift = torch.where(forbidden.any(dim=(-2, -1)), low, 0.0)
    costs = costs - shift[:, None, None]
    span = high - low
    big = torch.where(span > 0, (min(scores.shape[-2:]) + 2) * span, 1.0)
    return torch.where(forbidden, big[:, None, None], costs), forbidden


def _solve(costs: Tensor) -> Tensor:
    """(B, N) column of each row for (B, N, M) finite costs with N <= M (minimum total)."""
    batch, n, m = costs.shape
    device = costs.device
    every = torch.arange(batch, device=device)
    u = torch.zeros(batch, n, dtype=costs.dtype, device=device)
    v = torch.zeros(batch, m, dtype=costs.dtype, device=device)
    col4row = torch.full((batch, n), -1, dtype=torch.long, device=device)
    row4col = torch.full((batch, m), -1, dtype=torch.long, device=device)
    inf = torch.tensor(float("inf"), dtype=costs.dtype, device=device)
    for current in range(n):
        shortest = torch.full((batch, m), float("inf"), dtype=costs.dtype, device=device)
        path = torch.full((batch, m), -1, dtype=torch.long, device=device)
        seen_rows = torch.zeros(batch, n, dtype=torch.bool, device=device)
        seen_cols = torch.zeros(batch, m, dtype=torch.bool, device=device)
        row = torch.full((batch,), current, dtype=torch.long, device=device)
        min_value = torch.zeros(batch, dtype=costs.dtype, device=device)
        sink = torch.full((batch,), -1, dtype=torch.long, device=device)
        active = torch.ones(batch, dtype=torch.bool, device=device)
        while bool(active.any()):
            seen_rows[every, row] |= active
            reduced = min_value[:, None] + costs[every, row] - u[every, row][:, None] - v
            better = active[:, None] & ~seen_cols & (reduced < shortest)
            path = torch.where(better, row[:, None], path)
            shortest = torch.where(better, reduced, shortest)
            col = torch.where(seen_cols, inf, shortest).argmin(dim=1)
            min_value = torch.where(active, shortest[every, col], min_value)
            seen_cols[every, col] |= active
            owner = row4col[every, col]
            found = active & (owner < 0)
            sink = torch.where(found, col, sink)
            row = torch.where(active & ~found, owner, row)
            active = active & ~found
        # Dual update (rows and columns of the tree), then augmentation along the path.
        u[:, current] += min_value
        others = seen_rows.clone()
        others[:, current] = False
        tree_cost = shortest.gather(1, col4row.clamp(min=0))
        u += torch.where(others, min_value[:, None] - tree_cost, 0.0)
        v -= torch.where(seen_cols, min_value[:, None] - shortest, 0.0)
        col, going = sink, torch.ones(batch, dtype=torch.bool, device=device)
        while bool(going.any()):
            row = path[every, col]
            row4col[every, col] = torch.where(going, row, row4col[every, col])
            following = col4row[every, row]
            col4row[every, row] = torch.where(going, col, col4row[every, row])
            col = torch.where(going, following, col)
            going = going & (row != current)
    return col4row


def hungarian_torch(scores: Tensor) -> Tensor:
    """:func:`tracker.perm.hungarian`'s contract, solved on the tensor's own device.

    Args:
        scores: (..., N, M) real tensor, larger = better; ``-inf`` forbids a pair; entries
            must be below 2**500 in magnitude.

    Returns:
        (..., N, M) 0/1 tensor of the input's dtype and device: a score-maximising assignment
        with min(N, M) pairs, or, with forbidden pairs, the most allowed pairs and among those
        the best. Not differentiable.

    Raises:
        ValueError: fewer than 2 dimensions, NaN, +inf, or entries beyond 2**500.
        TypeError: complex scores.
    """
    if scores.dim() < 2:
        raise ValueError(f"scores must have shape (..., N, M); got {tuple(scores.shape)}")
    if scores.is_complex():
        raise TypeError(f"scores must be real; got dtype {scores.dtype}")
    n, m = scores.shape[-2:]
    if scores.numel() == 0:
        return torch.zeros_like(scores)
    flat = scores.detach().reshape(-1, n, m)
    costs, forbidden = _costs(flat if flat.is_floating_point() else flat.double())
    tall = n > m
    if tall:  # the method wants N <= M
        costs, forbidden = costs.transpose(1, 2), forbidden.transpose(1, 2)
    col4row = _solve(costs.contiguous())
    assignment = torch.zeros(costs.shape, dtype=scores.dtype, device=scores.device)
    assignment.scatter_(2, col4row[:, :, None], 1)
    assignment = torch.where(forbidden, torch.zeros_like(assignment), assignment)
    if tall:
        assignment = assignment.transpose(1, 2)
    return assignment.reshape(scores.shape)
