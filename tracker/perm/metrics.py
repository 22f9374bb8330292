"""The paper's permutation metrics (Mena et al. 2018 conventions), batched over leading dims.

Permutations are index tensors ``idx`` of shape (..., N) with ``idx[j]`` = which input element
sits at output position j (``perm_to_indices`` makes them from 0/1 matrices). Every metric returns
one value per sequence, shape (...,); average over the batch for the paper's table entries.
"""

from __future__ import annotations

import torch
from torch import Tensor


def perm_to_indices(P: Tensor) -> Tensor:
    """(..., N, N) 0/1 matrix with P[i, j] = 1 for input i at position j -> (..., N) indices."""
    return P.argmax(dim=-2)


def kendall_tau(pred: Tensor, target: Tensor) -> Tensor:
    """Kendall rank correlation between two index vectors of distinct values, (..., N) -> (...,).

    (concordant pairs - discordant pairs) / (N (N - 1) / 2); 1 for identical orderings, -1 for
    reversed ones. Equals ``scipy.stats.kendalltau`` on tie-free inputs.
    """
    n = pred.shape[-1]
    if n < 2:
        return pred.new_ones(pred.shape[:-1], dtype=float_dtype(pred))
    pred_order = (pred.unsqueeze(-1) - pred.unsqueeze(-2)).sign()
    target_order = (target.unsqueeze(-1) - target.unsqueeze(-2)).sign()
    agreement = (pred_order * target_order).sum(dim=(-1, -2)).to(float_dtype(pred))
    return agreement / (n * (n - 1))


def float_dtype(x: Tensor) -> torch.dtype:
    """The floating dtype to report metrics of ``x`` in (torch's default for integer inputs)."""
    return x.dtype if x.is_floating_point() else torch.get_default_dtype()


def prop_wrong(pred: Tensor, target: Tensor) -> Tensor:
    """Fraction of positions holding the wrong element, (..., N) -> (...,)."""
    return (pred != target).to(float_dtype(pred)).mean(dim=-1)


def prop_any_wrong(pred: Tensor, target: Tensor) -> Tensor:
    """1.0 where at least one position is wrong, else 0.0, (..., N) -> (...,)."""
    return (pred != target).any(dim=-1).to(float_dtype(pred))


def l1_error(reconstructed: Tensor, target: Tensor) -> Tensor:
    """Mean absolute difference over the last dimension, (..., N) -> (...,)."""
    return (reconstructed - target).abs().mean(dim=-1)


def l2_error(reconstructed: Tensor, target: Tensor) -> Tensor:
    """Mean squared difference over the last dimension, (..., N) -> (...,)."""
    return (reconstructed - target).square().mean(dim=-1)
