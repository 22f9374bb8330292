"""Symmetry groups of n x n binary matrices, as index permutations of the n*n entries.

Two groupings are offered:

- ``"rows-cols"``: any row permutation, any column permutation and the transpose (2 n!^2
  elements). Sinkhorn commutes with row and column permutations; the transpose swaps the order of
  the row and column normalisations (a half-iteration shift).
- ``"square"``: the 8 rotations and reflections of the square (the dihedral group D4), the
  grouping of the paper's Fig. 1.

A matrix is coded as the integer whose bit ``i * n + j`` is entry (i, j); a group is named by the
smallest code among its members (the canonical code).
"""

from __future__ import annotations

import itertools

import numpy as np

GROUPINGS: tuple[str, ...] = ("rows-cols", "square")


def entry_permutations(n: int, grouping: str) -> np.ndarray:
    """All symmetries of the grouping as gathers: (T, n*n) int, ``flat[t] = flat[index[t]]``."""
    grid = np.arange(n * n).reshape(n, n)
    if grouping == "square":
        rotations = [np.rot90(grid, k) for k in range(4)]
        images = rotations + [r.T for r in rotations]
    elif grouping == "rows-cols":
        orders = [np.array(p) for p in itertools.permutations(range(n))]
        shuffled = [grid[rows][:, cols] for rows in orders for cols in orders]
        images = shuffled + [m.T for m in shuffled]
    else:
        raise ValueError(f"unknown grouping {grouping!r}; expected one of {GROUPINGS}")
    return np.unique(np.stack([m.reshape(-1) for m in images]), axis=0)


def codes(matrices: np.ndarray) -> np.ndarray:
    """(B, n, n) 0/1 matrices -> (B,) int64 codes (bit i*n + j = entry (i, j))."""
    flat = matrices.reshape(len(matrices), -1).astype(np.int64)
    return flat @ (1 << np.arange(flat.shape[1], dtype=np.int64))


def matrices_from_codes(values: np.ndarray, n: int) -> np.ndarray:
    """(B,) codes -> (B, n, n) float64 0/1 matrices; the inverse of :func:`codes`."""
    bits = (np.asarray(values, dtype=np.int64)[:, None] >> np.arange(n * n)) & 1
    return bits.reshape(-1, n, n).astype(np.float64)


def canonical_codes(matrices: np.ndarray, grouping: str) -> np.ndarray:
    """(B, n, n) 0/1 matrices -> (B,) smallest code over the grouping's images of each matrix."""
    n = matrices.shape[-1]
    flat = matrices.reshape(len(matrices), -1).astype(np.int64)
    images = flat[:, entry_permutations(n, grouping)]  # (B, T, n*n)
    return (images @ (1 << np.arange(n * n, dtype=np.int64))).min(axis=1)


def group(matrices: np.ndarray, grouping: str) -> tuple[np.ndarray, np.ndarray]:
    """Split a set of matrices into symmetry groups.

    Returns:
        (representatives (G, n, n) float64: the canonical member of each group, by increasing
        code; sizes (G,) int: how many of the given matrices fall in each group).
    """
    canonical, sizes = np.unique(canonical_codes(matrices, grouping), return_counts=True)
    return matrices_from_codes(canonical, matrices.shape[-1]), sizes
