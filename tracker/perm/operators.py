"""The one dispatch between permutation operators, and their one spelling.

Sorting, jigsaw and the tracker's training all turn scores into (soft or exact) permutations with
:func:`permute`; ``operator`` is a name from :data:`OPERATORS`. Older spellings that committed
results, configs and checkpoints use are accepted through :data:`ALIASES`
(:func:`canonical_operator`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from tracker.perm.blackbox import blackbox_hungarian
from tracker.perm.noise import perturb
from tracker.perm.perturbed import perturbed_hungarian
from tracker.perm.sinkhorn_operator import gumbel_sinkhorn
from tracker.perm.ste import hungarian_ste, hungarian_ste_softmax

OPERATORS: dict[str, str] = {
    "hste": "Hungarian forward, identity (straight-through) backward",
    "sinkhorn": "Sinkhorn normalisation (Gumbel-Sinkhorn with noise), soft forward",
    "perturbed": "mean of Hungarian solutions under noise, Monte-Carlo Jacobian (Berthet 2020)",
    "blackbox": "Hungarian forward, blackbox interpolation backward (Vlastelica 2020)",
    "hste-softmax": "Hungarian forward, row-softmax backward",
}
"""Operator name -> what it does; the only spellings :func:`permute` takes."""
ALIASES: dict[str, str] = {"hungarian": "hste", "gumbel_sinkhorn": "sinkhorn"}
"""Old spellings still read: ``gumbel_sinkhorn`` (jigsaw results, checkpoints and commands under
docs/results/jigsaw) and ``hungarian`` (the sorting methods' operator before the dispatch)."""


def canonical_operator(name: str) -> str:
    """The operator name of ``name`` (itself or the alias target).

    Raises:
        ValueError: not an operator name or alias (the message lists the operators).
    """
    name = ALIASES.get(name, name)
    if name not in OPERATORS:
        raise ValueError(f"unknown operator {name!r}; choose from {', '.join(OPERATORS)}")
    return name


def permute(
    scores: Tensor,
    operator: str,
    tau: float = 1.0,
    noise: float = 0.0,
    samples: int = 1,
    generator: torch.Generator | None = None,
    sinkhorn_iters: int = 20,
    lam: float = 20.0,
    noise_type: str = "gumbel",
) -> Tensor:
    """Scores to training-time permutations with ``operator``, always with a sample dimension.

    Every operator but ``perturbed`` works on ``x = (scores + noise * g) / tau`` (g standard
    Gumbel, ``samples`` draws), one permutation per draw. ``perturbed`` averages its ``samples``
    exact solutions of ``scores + noise * z`` (z of ``noise_type``; needs ``noise > 0``, and
    ``tau`` has no effect, the argmax being scale-free) into one matrix.

    Args:
        scores: (..., N, M) score matrix, larger = better; ``-inf`` forbids a pair.
        operator: a name of :data:`OPERATORS` (or an alias of :data:`ALIASES`).
        tau, noise, samples, generator: as :func:`tracker.perm.hungarian_ste`.
        sinkhorn_iters: Sinkhorn iterations L (``sinkhorn`` only).
        lam: blackbox interpolation strength (``blackbox`` only).
        noise_type: ``gumbel`` or ``normal`` (``perturbed`` only).

    Returns:
        (S, ..., N, M): S = ``samples``, or 1 for ``perturbed``; exact 0/1 values for ``hste``,
        ``blackbox`` and ``hste-softmax``.
    """
    operator = canonical_operator(operator)
    if operator == "perturbed":
        return perturbed_hungarian(scores, noise, samples, noise_type, generator).unsqueeze(0)
    args = (scores, tau, noise, samples)
    if operator == "hste":
        result = hungarian_ste(*args, generator=generator)
    elif operator == "hste-softmax":
        result = hungarian_ste_softmax(*args, generator=generator)
    elif operator == "sinkhorn":
        result = gumbel_sinkhorn(*args, n_iters=sinkhorn_iters, generator=generator)
    else:
        result = blackbox_hungarian(perturb(*args, generator), lam)
    return result if samples > 1 else result.unsqueeze(0)
