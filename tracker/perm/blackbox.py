"""Blackbox differentiation of the Hungarian (Vlastelica et al., ICLR 2020), maximisation form.

Forward: the exact assignment ``y = hungarian(scores)``. Backward: one more solve at scores moved
against the incoming gradient ``g = dL/dy``, ``(hungarian(scores) - hungarian(scores - lam * g))
/ lam``: the gradient of a piecewise-linear interpolation of ``L(hungarian(.))``. This is the
paper's ``-(y(w) - y(w + lam dL/dy)) / lam`` for costs ``w = -scores`` of a minimiser ``y(w)``.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

from tracker.perm.assignment import hungarian


class _BlackboxHungarian(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, scores: Tensor, lam: float) -> Tensor:
        solution = hungarian(scores)
        ctx.save_for_backward(scores, solution)
        ctx.lam = lam
        return solution

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad_output: Tensor) -> tuple[Tensor, None]:
        scores, solution = ctx.saved_tensors
        moved = hungarian(scores - ctx.lam * grad_output)
        return (solution - moved) / ctx.lam, None


def blackbox_hungarian(scores: Tensor, lam: float = 20.0) -> Tensor:
    """Exact Hungarian forward, blackbox-differentiation backward (one extra solve per matrix).

    Args:
        scores: (..., N, M) score matrix, larger = better; ``-inf`` forbids a pair.
        lam: interpolation strength lambda > 0, in score units per unit of ``dL/dy``: the backward
            is nonzero only where ``lam * dL/dy`` is large enough to change the assignment.

    Returns:
        (..., N, M) exact 0/1 assignment; its gradient is
        ``(hungarian(scores) - hungarian(scores - lam * grad_output)) / lam``.
    """
    if not lam > 0:
        raise ValueError(f"lam must be > 0; got {lam}")
    return _BlackboxHungarian.apply(scores, float(lam))
