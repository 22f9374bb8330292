"""Log-domain Sinkhorn normalisation, its Gumbel-perturbed form, and the constraint error."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

from tracker.perm.noise import perturb

# Matrices are normalised a block at a time; a block of this many float32 entries (256 KiB) and
# its temporaries stay in a core's cache through all 2L normalisations.
BLOCK_ENTRIES = 1 << 16
# exp() of anything near or below log(smallest normal number) (-87.3 in float32) underflows,
# and PyTorch's vectorised CPU exp takes a slow path for such inputs (40-100x slower per element,
# measured): once training sharpens the scores, most normalised entries lie there. The low-memory
# path therefore clamps exponents one unit above that bound (exp >= 3.2e-38 in float32, 6e-308
# in float64) and keeps exact zeros where they matter (-inf entries of P and of the gradient).
# The backward's products of such small entries and gradients are still subnormal, and CPU
# multiply-adds on subnormals are slow too, so the low-memory path also flushes them to zero
# (2-2.7x faster at sharp scores, N = 250 / 400, measured; values change only below 1.2e-38).


@contextmanager
def _denormals_flushed() -> Iterator[None]:
    """Flush subnormal floats to zero on the calling thread inside the block (CPU only).

    PyTorch has no getter for the flag; it is off by default and this project never sets it
    elsewhere, so it is switched off again on exit.
    """
    supported = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if supported:
            torch.set_flush_denormal(False)


def _exp_floor(dtype: torch.dtype) -> float:
    return math.log(torch.finfo(dtype).tiny) + 1.0


def _exp_clamped(z: Tensor) -> Tensor:
    """exp(max(z, log(smallest normal) + 1)), in place."""
    return z.clamp_(min=_exp_floor(z.dtype)).exp_()


def _logsumexp(x: Tensor, dim: int) -> Tensor:
    """logsumexp along ``dim`` (kept) through :func:`_exp_clamped`: within 1e-36 (float32) of
    the exact value; NaN where every entry is -inf."""
    top = x.amax(dim=dim, keepdim=True)
    return top + _exp_clamped(x - top).sum(dim=dim, keepdim=True).log_()


def _normalise_rows(log_alpha: Tensor) -> Tensor:
    return log_alpha - torch.logsumexp(log_alpha, dim=-1, keepdim=True)


def _normalise_cols(log_alpha: Tensor) -> Tensor:
    return log_alpha - torch.logsumexp(log_alpha, dim=-2, keepdim=True)


def _blocks(n_matrices: int, n_rows: int, n_cols: int) -> list[slice]:
    """Slices of a stack of ``n_matrices`` matrices into blocks of about BLOCK_ENTRIES entries."""
    per_block = max(1, BLOCK_ENTRIES // (n_rows * n_cols))
    return [slice(s, min(s + per_block, n_matrices)) for s in range(0, n_matrices, per_block)]


def _log_normalisers(log_alpha: Tensor, n_iters: int) -> tuple[Tensor, Tensor]:
    """The row and column log-normalisers of every iteration.

    After iteration k the normalised matrix is ``log_alpha - rows[k] - cols[k]``, so these 2L
    vectors are the whole state of the unrolled computation.

    Args:
        log_alpha: (B, N, M).

    Returns:
        rows (L, B, N, 1) and cols (L, B, 1, M).
    """
    rows, cols = [], []
    col = torch.zeros_like(log_alpha[..., :1, :])
    for _ in range(n_iters):
        row = _logsumexp(log_alpha - col, dim=-1)
        col = _logsumexp(log_alpha - row, dim=-2)
        rows.append(row)
        cols.append(col)
    return torch.stack(rows), torch.stack(cols)


def _unrolled_backward(log_alpha: Tensor, rows: Tensor, cols: Tensor, grad: Tensor) -> Tensor:
    """Reverse pass through the 2L normalisations, recomputing each normalised matrix.

    Each normalisation is ``Z' = Z - logsumexp(Z)`` along one axis, whose vector-Jacobian product
    is ``g - exp(Z') * sum(g)`` along that axis. ``grad`` (B, N, M), the gradient with respect to
    the final log matrix, is updated in place and returned as the gradient w.r.t. ``log_alpha``.
    """
    for k in range(rows.shape[0] - 1, -1, -1):
        row_normalised = log_alpha - rows[k]
        grad.addcmul_(_exp_clamped(row_normalised - cols[k]), grad.sum(dim=-2, keepdim=True),
                      value=-1)
        before_cols = row_normalised - cols[k - 1] if k else row_normalised
        grad.addcmul_(_exp_clamped(before_cols), grad.sum(dim=-1, keepdim=True), value=-1)
    return grad.masked_fill_(log_alpha == -math.inf, 0.0)  # structural zeros stay constant


class _UnrolledSinkhorn(torch.autograd.Function):
    """L Sinkhorn iterations whose backward recomputes instead of storing.

    Plain autograd keeps every intermediate matrix: about 4L copies of the input (5 GB for the
    paper's 100 matrices of 400 x 400 at L = 20). This keeps the 2L normaliser vectors, works a
    cache-sized block of matrices at a time, and gives the same gradient up to rounding.
    First derivatives only.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, log_alpha: Tensor, n_iters: int) -> Tensor:
        stack = log_alpha.reshape(-1, *log_alpha.shape[-2:])
        P = torch.empty_like(stack)
        rows, cols = [], []
        with _denormals_flushed():
            for block in _blocks(*stack.shape):
                block_rows, block_cols = _log_normalisers(stack[block], n_iters)
                log_P = stack[block] - block_rows[-1] - block_cols[-1]
                negligible = log_P < _exp_floor(log_P.dtype)
                P[block] = _exp_clamped(log_P).masked_fill_(negligible, 0.0)
                rows.append(block_rows)
                cols.append(block_cols)
        ctx.input_shape = log_alpha.shape
        ctx.save_for_backward(stack, torch.cat(rows, dim=1), torch.cat(cols, dim=1), P)
        return P.reshape(log_alpha.shape)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad_P: Tensor) -> tuple[Tensor, None]:
        stack, rows, cols, P = ctx.saved_tensors
        grad_P = grad_P.reshape(stack.shape)
        grad = torch.empty_like(stack)
        with _denormals_flushed():
            for block in _blocks(*stack.shape):
                grad[block] = _unrolled_backward(
                    stack[block], rows[:, block], cols[:, block], grad_P[block] * P[block]
                )
        return grad.reshape(ctx.input_shape), None


def constraint_error(P: Tensor) -> tuple[Tensor, Tensor]:
    """The paper's Err_r and Err_c: max over rows (columns) of |1 - row (column) sum|.

    Args:
        P: (..., N, N) matrix, e.g. the output of :func:`sinkhorn`.

    Returns:
        (row_error, col_error), each of shape (...,).
    """
    row_error = (1.0 - P.sum(dim=-1)).abs().amax(dim=-1)
    col_error = (1.0 - P.sum(dim=-2)).abs().amax(dim=-1)
    return row_error, col_error


def sinkhorn(
    log_alpha: Tensor,
    n_iters: int = 20,
    tol: float | None = None,
    max_iters: int = 10_000,
    low_memory: bool = True,
) -> Tensor | tuple[Tensor, Tensor]:
    """Sinkhorn normalisation of exp(log_alpha) in the log domain.

    One iteration is a row normalisation followed by a column normalisation (Mena et al. 2018),
    so after each iteration the columns sum to one exactly and the rows approximately.

    Args:
        log_alpha: (..., N, N) log scores; ``-inf`` entries are structural zeros. Every row and
            column needs at least one finite entry (otherwise the result is NaN).
        n_iters: fixed number of iterations L when ``tol`` is None.
        tol: if given, iterate until max(Err_r, Err_c) < tol for every matrix of the batch, at most
            ``max_iters`` iterations; each matrix stops changing once it meets ``tol``.
        max_iters: cap on iterations in ``tol`` mode.
        low_memory: with a fixed L, differentiate through a custom backward that recomputes the
            iterates from the 2L normaliser vectors (O(L N) memory instead of O(L N^2), several
            times faster for large N; first derivatives only). False: plain autograd through
            every iteration, which also supports higher derivatives (e.g. a JVP by double
            backward).

    Returns:
        P = exp(normalised log_alpha), shape (..., N, N). With ``tol``: ``(P, iterations)`` where
        ``iterations`` (..., int64) is the number of iterations each matrix needed, or -1 where it
        did not reach ``tol`` within ``max_iters``.
    """
    if tol is None and low_memory:
        return _UnrolledSinkhorn.apply(log_alpha, n_iters)
    if tol is None:
        for _ in range(n_iters):
            log_alpha = _normalise_cols(_normalise_rows(log_alpha))
        return log_alpha.exp()

    batch_shape = log_alpha.shape[:-2]
    iterations = torch.full(batch_shape, -1, dtype=torch.int64, device=log_alpha.device)
    for step in range(1, max_iters + 1):
        updated = _normalise_cols(_normalise_rows(log_alpha))
        done_before = iterations >= 0
        log_alpha = torch.where(done_before[..., None, None], log_alpha, updated)
        error = torch.maximum(*constraint_error(log_alpha.exp()))
        newly_done = (~done_before) & (error < tol)
        iterations = torch.where(newly_done, torch.full_like(iterations, step), iterations)
        if bool((iterations >= 0).all()):
            break
    return log_alpha.exp(), iterations


def gumbel_sinkhorn(
    log_alpha: Tensor,
    tau: float = 1.0,
    noise: float = 0.0,
    samples: int = 1,
    n_iters: int = 20,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Gumbel-Sinkhorn (Mena et al. 2018): ``sinkhorn((log_alpha + noise * g) / tau, n_iters)``.

    Arguments mirror :func:`hungarian_ste`. Returns (S, ..., N, N) if samples > 1 else (..., N, N),
    a soft doubly-(approximately-)stochastic matrix, differentiable in ``log_alpha``.
    """
    return sinkhorn(perturb(log_alpha, tau, noise, samples, generator), n_iters=n_iters)
