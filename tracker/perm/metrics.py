"""The paper's permutation metrics (Mena et al. 2018 conventions), batched over leading dims.

Permutations are index tensors ``idx`` of shape (..., N) with ``idx[j]`` = which input element
sits at output position j (``perm_to_indices`` makes them from 0/1 matrices); this is the list
form of the reference code. Every metric returns one value per sequence, shape (...,); average
over the batch for the paper's table entries.

Two Kendall taus, which differ on the same prediction:

- :func:`kendall_tau_list`, the paper's: the rank correlation of the two index vectors, as its
  reference code computes it (``scipy.stats.kendalltau(true_perm, inverse(inferred_perm))``, in
  HeddaCohenIndelman/Learning-Gumbel-Sinkhorn-Permutations-w-Pytorch, ``my_sinkhorn_eval.py``).
  It depends on the order in which the inputs happen to be listed: swapping the elements of
  two neighbouring positions whose true input indices are a and b makes the pair itself and,
  for each of the |a - b| - 1 input indices between a and b, two more pairs discordant, so tau
  drops by 2 (2 |a - b| - 1) / (N (N - 1) / 2) (about 8 / (3 N) on average over random input
  orders).
- :func:`kendall_tau_pairs`, ours: over the pairs of output positions, whether the two elements
  placed there are in their true order, so the same swap costs exactly 2 / (N (N - 1) / 2)
  whatever the input order (Mena et al.'s tau between the reconstructed and the sorted
  sequence).
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


def kendall_tau_list(pred: Tensor, target: Tensor) -> Tensor:
    """The paper's Kendall tau: rank correlation of the list-form permutations, (..., N) -> (...,).

    ``pred[j]`` / ``target[j]``: the input index at output position j, predicted / true (the
    reference code's ``inverse(inferred_perm)`` and ``true_perm``). Equals
    ``scipy.stats.kendalltau(target, pred)``; not invariant to relabelling the inputs.
    """
    return kendall_tau(pred, target)


def kendall_tau_pairs(pred: Tensor, target: Tensor) -> Tensor:
    """Kendall tau over misordered pairs of positions (ours), (..., N) index tensors -> (...,).

    For every pair of output positions j < k, concordant when the elements placed there,
    ``pred[j]`` and ``pred[k]``, have true positions in the same order j < k. Invariant to the
    order in which the inputs are listed; for sorting it equals the tau between the
    reconstructed and the sorted numbers (tie-free), for the jigsaw the tau in position space.
    """
    true_position = target.argsort(dim=-1)  # input i -> its true output position
    placed = true_position.gather(-1, pred)
    return kendall_tau(placed, torch.arange(pred.shape[-1]).expand_as(placed))


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
