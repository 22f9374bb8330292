"""Perturbed Hungarian (Berthet et al., NeurIPS 2020): the mean of exact assignments under noise.

Forward: ``y = mean_s hungarian(scores + sigma * z_s)`` over S noise draws ``z_s`` (Gumbel or
standard normal), a Monte-Carlo estimate of ``E[argmax_P <P, scores + sigma Z>]``, a point of the
assignment polytope. Backward: the paper's Monte-Carlo estimate of that expectation's Jacobian
from the same draws, ``dy/dscores = E[hungarian(scores + sigma Z) grad_nu(Z)^T] / sigma`` with
``nu = -log density`` of the noise (``grad_nu(z) = z`` for the normal, ``1 - exp(-z)`` for the
Gumbel), so the vector-Jacobian product with ``g = dL/dy`` is
``mean_s <hungarian(scores + sigma z_s), g> grad_nu(z_s) / sigma``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

from tracker.perm.assignment import hungarian
from tracker.perm.noise import gumbel_noise

NOISES = ("gumbel", "normal")


def draw_noise(noise: str, shape: torch.Size, generator: torch.Generator | None,
               like: Tensor) -> Tensor:
    """Standard Gumbel or standard normal samples of ``shape``, dtype and device of ``like``."""
    if noise == "gumbel":
        return gumbel_noise(shape, generator, like.dtype, like.device)
    return torch.randn(shape, generator=generator, dtype=like.dtype, device=like.device)


def noise_score(noise: str, z: Tensor) -> Tensor:
    """grad_z of -log density at ``z``: ``z`` (normal), ``1 - exp(-z)`` (Gumbel); mean 0."""
    return z if noise == "normal" else 1.0 - torch.exp(-z)


class _PerturbedHungarian(torch.autograd.Function):
    """Mean of S exact assignments of noisy scores; Monte-Carlo Jacobian backward."""

    @staticmethod
    def forward(ctx: FunctionCtx, scores: Tensor, sigma: float, samples: int, noise: str,
                generator: torch.Generator | None) -> Tensor:
        z = draw_noise(noise, torch.Size((samples, *scores.shape)), generator, scores)
        solutions = hungarian(scores + sigma * z)
        ctx.save_for_backward(solutions, z, scores == -math.inf)
        ctx.sigma, ctx.noise = sigma, noise
        return solutions.mean(dim=0)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        solutions, z, forbidden = ctx.saved_tensors
        inner = (solutions * grad_output).sum(dim=(-2, -1), keepdim=True)  # (S, ..., 1, 1)
        grad = (inner * noise_score(ctx.noise, z)).mean(dim=0) / ctx.sigma
        return grad.masked_fill_(forbidden, 0.0), None, None, None, None


def perturbed_hungarian(
    scores: Tensor,
    sigma: float = 1.0,
    samples: int = 10,
    noise: str = "gumbel",
    generator: torch.Generator | None = None,
) -> Tensor:
    """Perturbed-optimizer Hungarian: forward the mean of exact assignments under noise.

    Args:
        scores: (..., N, M) score matrix, larger = better; ``-inf`` forbids a pair (its entry of
            the result and of the gradient is 0).
        sigma: noise scale > 0, in score units.
        samples: S >= 1 noise draws, shared by the forward and the backward.
        noise: ``"gumbel"`` (standard Gumbel) or ``"normal"`` (standard normal) noise.
        generator: torch.Generator for reproducible noise.

    Returns:
        (..., N, M): the mean of S 0/1 assignments (entries in multiples of 1/S; exact 0/1 where
        every draw agrees), differentiable in ``scores`` through the Monte-Carlo Jacobian.
    """
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0; got {sigma}")
    if samples < 1:
        raise ValueError(f"samples must be >= 1; got {samples}")
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {', '.join(NOISES)}; got {noise!r}")
    return _PerturbedHungarian.apply(scores, float(sigma), int(samples), noise, generator)
