"""Exact linear assignment on numpy arrays: the solver behind :func:`tracker.perm.hungarian`.

This module holds everything that happens between a (..., N, M) array of scores and the solver:
the checks (NaN and +inf are refused, ``-inf`` forbids a pair), the conversion of maximisation
scores into finite minimisation costs, and the call of lapx's Jonker-Volgenant kernel
(``lap.lapjvr`` for one matrix, ``lap.lapjvr_batch`` for a batch; the batch kernel releases the
GIL and runs on a native pool of ``threads`` threads). It works on numpy arrays so that callers
that already hold numpy data (the tracker's many small gated clusters) skip the torch round trip:

- :func:`assignment_indices`: (..., N, M) scores -> flat (batch, row, col) index arrays;
- :func:`hungarian_numpy`: the same as a dense 0/1 array (the numpy twin of ``hungarian``);
- :func:`hungarian_many`: a list of matrices of any sizes, padded with forbidden pairs and solved
  in one native batch call.

Costs are built per matrix, from that matrix alone, so a matrix's assignment never depends on the
other matrices of its batch:

- a matrix without forbidden pairs is solved on ``-scores``;
- a matrix with forbidden pairs is shifted so that its allowed costs lie in ``[0, span]``, and each
  forbidden pair costs ``(k + 2) * span`` (``k = min(N, M)``; 1 when ``span = 0``), more than any
  matching of allowed pairs can cost: the solver first maximises the number of allowed pairs, then
  their total score; the forbidden pairs it had to use are dropped afterwards;
- a square matrix (N >= 32) without forbidden pairs that is close to rank one after removing
  row and column means (trained sorting scores) has dual potentials subtracted
  (:mod:`tracker.perm.potentials`): the optimum stays the same, the solver's search gets short;
- a matrix whose magnitudes could overflow the solver's sums (entries beyond about 2**(1000 -
  log2(2 (k + 2)**2))) is first multiplied by a power of two, which is exact.

A 2-D input (one matrix) of at most :data:`SCIPY_ENTRIES` entries, float32 or float64 with
magnitudes below 2**500, goes to ``scipy.optimize.linear_sum_assignment(maximize=True)`` instead:
its single C call beats the conversion plus lapx call there (``benchmarks/perm_small.py``).
scipy refuses NaN and +inf and treats -inf as forbidden; when it raises (NaN, +inf, or no
complete matching of allowed pairs) the checked path above answers, so the errors and the
partial matchings are the same. Its answer is optimal too, but where several assignments tie it
may pick another one than lapx; batches (any input with leading dimensions, also of one matrix)
always use lapx, so a matrix's answer inside a batch does not depend on the other matrices.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import lap
import numpy as np
from scipy.optimize import linear_sum_assignment

from tracker.perm.potentials import reduce_rank_one

MAX_THREADS = 4
"""Upper bound on the native solver threads (``torch.get_num_threads()`` below it)."""

_SAFE_EXPONENT = 1000
"""The solver's partial sums stay below 2**_SAFE_EXPONENT (float64 overflows at 2**1024)."""


_SMALL = 2.0**500
"""Entries below this magnitude need no scaling: it leaves the solver more headroom than any
k = min(N, M) that fits in memory needs (see :func:`_headroom_bits`)."""

_CHUNK_BYTES = 8 << 20
"""Batches are solved in chunks of about this many bytes of float64 costs."""

_ONE_THREAD_DOT = 8192
"""Up to this many entries, OpenBLAS computes a dot product on the calling thread."""

_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)

SCIPY_ENTRIES = 900
"""One matrix of at most this many entries (30 x 30) is solved by scipy directly: measured 1.4-2.5x
faster than the lapx path from 16 x 16 to 28 x 28 and 0.8-0.96x at 32 x 32 to 40 x 40 (float32
and float64; perm README, section 2)."""


def check_real(scores: np.ndarray, name: str = "scores") -> None:
    """Raise TypeError unless ``scores`` holds real numbers (float, integer or bool), as scipy."""
    if scores.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be real; got dtype {scores.dtype}")


def forbidden_value_error(name: str, value: str) -> ValueError:
    """The error for a NaN or +inf ``value`` in the scores called ``name``."""
    return ValueError(f"{name} contains {value}; scores must be finite or -inf (forbidden pair)")


def _headroom_bits(k: int) -> int:
    """Bits the solver's sums may grow beyond the largest cost: log2(2 (k + 2)**2), rounded up."""
    return int(2 * (k + 2) ** 2).bit_length()


def finite_costs(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Finite float64 minimisation costs of a (B, N, M) batch of maximisation scores.

    Args:
        scores: (B, N, M) real array; ``-inf`` forbids a pair; NaN and +inf raise ValueError.

    Returns:
        ``(costs, forbidden)``: (B, N, M) float64 C-contiguous costs, and the (B, N, M) boolean
        mask of forbidden pairs, or None when no pair is forbidden. Each matrix's costs depend on
        that matrix only (see the module docstring).
    """
    check_real(scores)
    costs = np.negative(scores, dtype=np.float64, casting="unsafe")
    if costs.size <= _ONE_THREAD_DOT:
        # One call proves every entry finite and small: NaN or inf make the sum of squares
        # non-finite (NaN compares False), and a sum of squares below 2**1000 bounds every entry.
        flat = costs.reshape(-1)
        with np.errstate(over="ignore", invalid="ignore"):
            small = float(flat @ flat) <= _SMALL**2
    else:  # two passes that need no BLAS threads (they stall for ms on a loaded machine)
        small = -_SMALL < float(costs.min()) and float(costs.max()) < _SMALL  # NaN: False
    if small:
        reduce_rank_one(costs)  # peaky matrices: same optimum, far shorter searches
        return costs, None
    return _careful_costs(costs, _headroom_bits(min(scores.shape[-2:])))


def _careful_costs(costs: np.ndarray, headroom: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The slow path of :func:`finite_costs`: forbidden pairs and huge magnitudes, per matrix.

    Works in place on ``costs`` (``-scores``, float64), in a few passes without temporaries.
    """
    forbidden = np.isposinf(costs)  # scores of -inf
    allowed = ~forbidden
    low = costs.min(axis=(1, 2), where=allowed, initial=np.inf)
    high = costs.max(axis=(1, 2), where=allowed, initial=-np.inf)
    if np.isnan(high).any():  # NaN is no forbidden pair, and max propagates it
        raise forbidden_value_error("scores", "NaN")
    if np.isneginf(low).any():
        raise forbidden_value_error("scores", "+inf")
    has_forbidden = forbidden.any(axis=(1, 2))
    empty = np.isposinf(low)  # every pair forbidden
    low[empty], high[empty] = 0.0, 0.0
    down = np.maximum(0, np.frexp(np.maximum(-low, high))[1] + headroom - _SAFE_EXPONENT)
    if down.any():  # exact: a power of two (forbidden entries stay +inf)
        costs = np.ldexp(costs, -down[:, None, None])
        low, high = np.ldexp(low, -down), np.ldexp(high, -down)
    costs -= np.where(has_forbidden, low, 0.0)[:, None, None]
    span = high - low
    big = np.where(span > 0, (min(costs.shape[-2:]) + 2) * span, 1.0)
    np.copyto(costs, big[:, None, None], where=forbidden)
    return costs, (forbidden if has_forbidden.any() else None)


POOLED_ENTRIES = 2500
"""Batches of matrices of at least this many entries (50 x 50) run on :func:`_pool` when
``threads > 1`` (``benchmarks/perm_threads.py``; perm README, section 3)."""

_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}


def _pool(threads: int) -> ThreadPoolExecutor:
    """The process's pool of ``threads`` workers (made on first use, kept for later calls;
    keyed by process id too, since a forked child inherits the pool but not its threads)."""
    key = (os.getpid(), threads)
    if key not in _POOLS:
        _POOLS[key] = ThreadPoolExecutor(threads, thread_name_prefix="hste-lsap")
    return _POOLS[key]


def default_threads() -> int:
    """Native solver threads: ``torch.get_num_threads()`` (the CPU count while torch is not
    imported: numpy-only callers such as ``hste track --assoc gnn`` never load it), at most
    :data:`MAX_THREADS`."""
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else (os.cpu_count() or 1)
    return min(MAX_THREADS, threads)


def solve_costs(costs: np.ndarray, threads: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Minimum-cost row and column indices (each of length min(N, M)) of (B, N, M) costs."""
    if len(costs) == 1:  # the same kernel without the batch machinery (bit-identical answers)
        rows, cols = lap.lapjvr(costs[0], extend_cost=True, return_cost=False)
        return [rows], [cols]
    return lap.lapjvr_batch(costs, extend_cost=True, return_cost=False, n_threads=threads,
                            precision="float64")


def _scipy_safe(matrix: np.ndarray) -> bool:
    """Whether scipy solves ``matrix`` exactly or refuses it: small, float32 (every finite value
    is far below 2**500), or float64 without NaN, infinities or magnitudes of 2**500 and more
    (scipy's sums go wrong near the float64 limit)."""
    if matrix.size > SCIPY_ENTRIES:
        return False
    if matrix.dtype is _FLOAT32:
        return True
    # float64: the cheapest check measured (NaN propagates through the max and fails it)
    return matrix.dtype is _FLOAT64 and np.maximum.reduce(np.abs(matrix), axis=None) < _SMALL


def _solve_matrix(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of a 2-D input's assignment: scipy when :func:`_scipy_safe`,
    else (or when scipy refuses it) :func:`_solve_one`."""
    if _scipy_safe(matrix):
        try:
            return linear_sum_assignment(matrix, maximize=True)
        except ValueError:  # NaN, +inf, or forbidden pairs leaving no complete matching
            pass
    return _solve_one(matrix)


def _solve_one(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of one (N, M) matrix's assignment: the small-problem fast path.

    The same costs and kernel as a batch (so the same answer), without batch bookkeeping.
    """
    costs, forbidden = finite_costs(matrix[None])
    rows, cols = lap.lapjvr(costs[0], extend_cost=True, return_cost=False)
    if forbidden is not None:
        keep = ~forbidden[0, rows, cols]
        rows, cols = rows[keep], cols[keep]
    return rows, cols


def assignment_indices(scores: np.ndarray, threads: int | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The score-maximising assignment of every matrix of a batch, as index arrays.

    Args:
        scores: (..., N, M) real array, larger = better; ``-inf`` forbids a pair.
        threads: native solver threads (default :func:`default_threads`).

    Returns:
        ``(batch, rows, cols)``: (K,) int64 arrays; pair t matches row ``rows[t]`` with column
        ``cols[t]`` of matrix ``batch[t]``, an index into the flattened leading dimensions
        (``scores.reshape(-1, N, M)``). Each matrix has min(N, M) pairs unless some of its pairs
        are forbidden; then it has the largest number of allowed pairs, and among those the best.

    Raises:
        ValueError: fewer than 2 dimensions, NaN or +inf. TypeError: complex scores.
    """
    if scores.ndim == 2 and scores.size:  # one matrix: no batch bookkeeping
        rows, cols = _solve_matrix(scores)
        return np.zeros(len(rows), dtype=np.int64), rows, cols
    if scores.ndim < 2:
        raise ValueError(f"scores must have shape (..., N, M); got {scores.shape}")
    n, m = scores.shape[-2:]
    flat = scores.reshape(math.prod(scores.shape[:-2]), n, m)
    if flat.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    if len(flat) == 1:
        rows, cols = _solve_one(flat[0])
        return np.zeros(len(rows), dtype=np.int64), rows, cols
    threads = default_threads() if threads is None else threads
    # Chunks of about 8 MiB of costs: larger fresh arrays are mapped and page-faulted anew on
    # every call (slow on this VM); chunks reuse the allocator's memory. Answers do not change.
    per_chunk = _CHUNK_BYTES // (8 * n * m)
    if threads > 1 and n * m >= POOLED_ENTRIES:
        # Whole chunks (cost conversion and solve) on a pool of one-thread workers: the
        # conversion runs in parallel too (at most one chunk per worker: fewer hand-offs).
        chunk = max(1, min(per_chunk, -(-len(flat) // threads)))
        parts = list(_pool(threads).map(
            lambda start: _solve_chunk(flat[start:start + chunk], start, 1),
            range(0, len(flat), chunk)))
    else:
        chunk = max(threads, per_chunk)
        parts = [_solve_chunk(flat[start:start + chunk], start, threads)
                 for start in range(0, len(flat), chunk)]
    if len(parts) == 1:
        return parts[0]
    batch_index, row_index, col_index = (np.concatenate(part) for part in zip(*parts, strict=True))
    return batch_index, row_index, col_index


def _solve_chunk(flat: np.ndarray, offset: int, threads: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`assignment_indices` of a (B, N, M) chunk whose first matrix has index ``offset``."""
    costs, forbidden = finite_costs(flat)
    rows, cols = solve_costs(costs, threads)
    row_index, col_index = np.concatenate(rows), np.concatenate(cols)
    batch_index = np.repeat(np.arange(len(rows)), min(flat.shape[1:]))
    if forbidden is not None:
        keep = ~forbidden[batch_index, row_index, col_index]
        batch_index, row_index, col_index = batch_index[keep], row_index[keep], col_index[keep]
    return batch_index + offset, row_index, col_index  # lapx returns int64 indices


def hungarian_numpy(scores: np.ndarray, threads: int | None = None) -> np.ndarray:
    """Dense 0/1 assignment of a (..., N, M) score array: ``hungarian`` without torch.

    Args:
        scores: (..., N, M) real array, larger = better; ``-inf`` forbids a pair.
        threads: native solver threads (default :func:`default_threads`).

    Returns:
        (..., N, M) array of the input's dtype when floating (float64 otherwise) with at most one
        1 per row and column (see :func:`assignment_indices` for which pairs).
    """
    dtype = scores.dtype if np.issubdtype(scores.dtype, np.floating) else np.float64
    n, m = scores.shape[-2:]
    if scores.ndim == 2 and scores.size:  # the fast path: no batch bookkeeping
        assignment = np.zeros((n, m), dtype=dtype)
        assignment[_solve_matrix(scores)] = 1
        return assignment
    batch, rows, cols = assignment_indices(scores, threads)
    assignment = np.zeros((math.prod(scores.shape[:-2]), n, m), dtype=dtype)
    assignment[batch, rows, cols] = 1
    return assignment.reshape(scores.shape)


def hungarian_many(matrices: Sequence[np.ndarray], threads: int | None = None
                   ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Solve many score matrices of different sizes in one native batch call.

    Every matrix is padded with forbidden pairs to the largest (N, M) of the list and the stack
    is solved at once, so the cost is one call's fixed overhead plus the solves, however many
    small matrices there are (the tracker's gated clusters). Padding only adds forbidden pairs,
    so each answer is an optimal assignment of its own matrix (the most allowed pairs, then the
    best total); among equally good ones it may differ from what the matrix alone gives.

    Args:
        matrices: a sequence of (N_i, M_i) real arrays (``-inf`` forbids a pair).
        threads: native solver threads (default :func:`default_threads`).

    Returns:
        One ``(rows, cols)`` pair of (K_i,) int64 arrays per matrix, in input order.
    """
    for index, matrix in enumerate(matrices):
        if np.ndim(matrix) != 2:
            raise ValueError(f"matrix {index} must be 2-D; got shape {np.shape(matrix)}")
    if not matrices:
        return []
    shapes = np.array([np.shape(matrix) for matrix in matrices])
    padded = np.full((len(matrices), *shapes.max(axis=0)), -np.inf)
    for index, matrix in enumerate(matrices):
        padded[index, : shapes[index, 0], : shapes[index, 1]] = matrix
    batch, rows, cols = assignment_indices(padded, threads)
    bounds = np.searchsorted(batch, np.arange(len(matrices) + 1))
    return [(rows[start:stop], cols[start:stop])
            for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]
