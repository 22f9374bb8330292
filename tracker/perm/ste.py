"""HSTE: the Hungarian forward pass with a straight-through (identity) backward pass."""

from __future__ import annotations

import torch
from torch import Tensor

from tracker.perm.assignment import hungarian
from tracker.perm.noise import perturb


class _HungarianStraightThrough(torch.autograd.Function):
    """Forward: exact ``hungarian(x)``; backward: the incoming gradient unchanged (dP/dx = I).

    A Function rather than ``x + (hungarian(x) - x).detach()`` so that the forward value is
    exactly 0/1 (the sum form rounds in float32).
    """

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        return hungarian(x)

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> Tensor:
        return grad_output


def hungarian_ste(
    scores: Tensor,
    tau: float = 1.0,
    noise: float = 0.0,
    samples: int = 1,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Hungarian straight-through estimator (HSTE).

    Forward: ``hungarian((scores + noise * g) / tau)``, g standard Gumbel: an exact 0/1 assignment.
    Backward: the identity with respect to the operator's input ``(scores + noise * g) / tau``, so
    ``d out / d scores = 1 / tau`` elementwise.

    Args:
        scores: (..., N, M) score matrix, larger = better; ``-inf`` forbids a pair.
        tau: temperature > 0.
        noise: Gumbel noise scale (0 = deterministic).
        samples: S >= 1 independent noise samples; S > 1 adds a leading sample dimension.
        generator: torch.Generator for reproducible noise.

    Returns:
        (S, ..., N, M) if samples > 1 else (..., N, M): exact 0/1 values, identity gradient.
    """
    return _HungarianStraightThrough.apply(perturb(scores, tau, noise, samples, generator))


def hungarian_ste_softmax(
    scores: Tensor,
    tau: float = 1.0,
    noise: float = 0.0,
    samples: int = 1,
    generator: torch.Generator | None = None,
) -> Tensor:
    """HSTE with a softmax-shaped backward (the permutation analogue of Gumbel-softmax STE).

    Forward: exactly :func:`hungarian_ste`'s, ``hungarian(x)`` with ``x = (scores + noise * g) /
    tau``. Backward: the vector-Jacobian product of the row-wise ``softmax(x)`` instead of the
    identity, so gradients shrink where a row is already decided. Arguments and shapes as
    :func:`hungarian_ste`; every row needs a finite entry.
    """
    x = perturb(scores, tau, noise, samples, generator)
    soft = torch.softmax(x, dim=-1)
    return hungarian(x.detach()) + (soft - soft.detach())  # value exactly 0/1: soft - soft is 0
