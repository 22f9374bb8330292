"""Dual potentials that make near-rank-one ("peaky") assignment problems easy for the solver.

Trained sorting scores are, up to row and column offsets, close to a rank-one matrix
``sigma * u v^T`` (score of input i at position j ~ x_i * a_j): the Jonker-Volgenant kernel then
needs one long shortest-path search per row and runs 6-20x longer than on random matrices of
the same shape. For a rank-one matrix the optimum is known (match rows and columns in the order
of u and v) and so are dual potentials for it (closed form below). Subtracting potentials
``A_i + B_j`` from a square matrix changes every complete assignment's total by the same constant
``sum(A) + sum(B)``, so the optimum is unchanged (up to rounding); with these potentials most of
the reduced scores ``S_ij - A_i - B_j`` are <= the noise level and zero near the optimum, which
the solver's initialisation then finds almost at once.

Everything is batched over matrices and uses einsum loops, not BLAS (whose threads stall on a
loaded machine).
"""

from __future__ import annotations

import functools

import numpy as np

RANK_ONE_SHARE = 0.3
"""Use the potentials when the top singular pair explains at least this share of the centred
detection sub-matrix's squared Frobenius norm (random 32 x 32 matrices: 0.05-0.08)."""

MIN_SIZE = 64
"""Smaller matrices are solved as they are: the search is cheap there."""

_ITERATIONS = 2
"""Power-iteration steps: an exactly rank-one matrix converges in one."""

_DETECT_SIZE = 32
"""The rank-one share is first estimated on a sub-matrix of every (N // 32)-th row and column
(32 to 63 of each), in a dozen numpy calls; only matrices that pass get the full fit."""

_NORM_STRIDE = 8
"""The Frobenius norm is estimated from every 8th row."""


@functools.lru_cache(maxsize=16)
def _start_vector(n: int) -> np.ndarray:
    """A fixed (seeded) start vector for the power iteration, the same for every call."""
    return np.random.default_rng(0).standard_normal(n)


def rank_one_fit(costs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Best rank-one fit ``sigma u v^T`` of each centred matrix, by power iteration.

    Args:
        costs: (B, N, N) finite float64 matrices.

    Returns:
        ``(sigma, u, v, share)``: (B, 1) sigma >= 0, (B, N) unit vectors u and v, and (B,) the
        share of the centred matrix's squared Frobenius norm that the fit explains (estimated
        from every 8th row). The centred matrix is ``costs - row means - column means + mean``.
    """
    batch, n, _ = costs.shape
    row_mean, col_mean = costs.mean(axis=2), costs.mean(axis=1)
    mean = row_mean.mean(axis=1, keepdims=True)
    row_offset, col_offset = row_mean - mean, col_mean - mean
    tiny = np.finfo(float).tiny
    v = np.tile(_start_vector(n), (batch, 1))
    for _ in range(_ITERATIONS):  # centred @ v and centred.T @ u, without forming it
        u = (np.einsum("bij,bj->bi", costs, v) - row_offset * v.sum(1, keepdims=True)
             - (col_mean * v).sum(1, keepdims=True))
        u /= np.maximum(np.linalg.norm(u, axis=1, keepdims=True), tiny)
        v = (np.einsum("bij,bi->bj", costs, u) - col_offset * u.sum(1, keepdims=True)
             - (row_mean * u).sum(1, keepdims=True))
    sigma = np.linalg.norm(v, axis=1, keepdims=True)
    v = v / np.maximum(sigma, tiny)
    # sum over the sampled rows i of sum_j (C_ij - r_i - c_j)^2 with r = row_offset, c = col_mean,
    # expanded so that no temporary of the sample's size is made (large allocations are slow).
    rows, r = costs[:, ::_NORM_STRIDE], row_offset[:, ::_NORM_STRIDE]
    row_sum = rows.sum(axis=2)
    cross = np.einsum("bij,bj->bi", rows, col_mean)
    col_sq, col_sum = (col_mean**2).sum(1, keepdims=True), col_mean.sum(1, keepdims=True)
    per_row = (np.einsum("bij,bij->bi", rows, rows) - 2 * r * row_sum - 2 * cross + n * r**2
               + 2 * r * col_sum + col_sq)
    norm_sq = per_row.sum(axis=1) * (n / rows.shape[1])
    return sigma, u, v, sigma[:, 0] ** 2 / np.maximum(norm_sq, tiny)


def rank_one_share(costs: np.ndarray) -> np.ndarray:
    """(B,) share of each centred (B, K, K) matrix's squared norm along its top singular pair.

    One power step from the fixed start vector g: ``||c^T c g||^2 / ||c g||^2`` (a lower bound of
    sigma_1^2, exact for rank one) over ``||c||_F^2``; random matrices give about 4 / K.
    """
    centred = costs - costs.mean(axis=2, keepdims=True)
    centred -= centred.mean(axis=1, keepdims=True)
    x = centred @ _start_vector(costs.shape[2])
    y = np.matmul(x[:, None, :], centred)[:, 0]
    tiny = np.finfo(float).tiny
    top = np.square(y).sum(axis=1) / np.maximum(np.square(x).sum(axis=1), tiny)
    return top / np.maximum(np.square(centred).sum(axis=(1, 2)), tiny)


def rank_one_potentials(sigma: np.ndarray, u: np.ndarray, v: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Dual potentials (alpha, beta), each (B, N), of min sum_k sigma u_k v_pi(k).

    ``sigma u_i v_j - alpha_i - beta_j >= 0`` for all i, j, with equality on the optimum
    (rows ascending in u matched with columns descending in v). Closed form: with w = -u,
    rows sorted by w and columns by v ascending, matched in order, ``-beta_(l) + beta_(l-1) =
    sigma w_(l) (v_(l) - v_(l-1))`` and ``-alpha_(k) = sigma w_(k) v_(k) + beta_(k)``.
    """
    batch, n = u.shape
    row_order, col_order = np.argsort(-u, axis=1), np.argsort(v, axis=1)
    w_sorted = -np.take_along_axis(u, row_order, axis=1)
    v_sorted = np.take_along_axis(v, col_order, axis=1)
    gain = np.zeros((batch, n))  # the maximisation duals of sigma w v^T
    gain[:, 1:] = np.cumsum(sigma * w_sorted[:, 1:] * np.diff(v_sorted, axis=1), axis=1)
    alpha, beta = np.empty((batch, n)), np.empty((batch, n))
    np.put_along_axis(alpha, row_order, -(sigma * w_sorted * v_sorted - gain), axis=1)
    np.put_along_axis(beta, col_order, -gain, axis=1)
    return alpha, beta


def reduce_rank_one(costs: np.ndarray) -> None:
    """Subtract, in place, dual potentials from the square matrices that are near rank one.

    Args:
        costs: (B, N, N) finite float64 minimisation costs, C-contiguous. Matrices whose
            centred detection sub-matrix has a :func:`rank_one_share` of at least
            :data:`RANK_ONE_SHARE` get
            ``costs[b] -= A[:, None] + B[None, :]`` (row means + alpha, column means + beta);
            the others are left as they are. Every complete assignment's total then changes by
            the same constant, so the optimal assignments stay the same (up to rounding).
    """
    n = costs.shape[-1]
    if costs.shape[-2] != n or n < MIN_SIZE:
        return
    chosen = np.flatnonzero(rank_one_share(costs[:, :: n // _DETECT_SIZE, :: n // _DETECT_SIZE])
                            >= RANK_ONE_SHARE)
    if not chosen.size:
        return
    sigma, u, v, _ = rank_one_fit(costs[chosen])
    alpha, beta = rank_one_potentials(sigma, u, v)
    for slot, b in enumerate(chosen):  # in place: no temporary of the batch's size
        matrix = costs[b]
        row_mean, col_mean = matrix.mean(axis=1), matrix.mean(axis=0)
        matrix -= (row_mean - row_mean.mean() + alpha[slot])[:, None]
        matrix -= (col_mean + beta[slot])[None, :]
