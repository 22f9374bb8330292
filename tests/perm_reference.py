"""Exact references for the assignment tests (not a test module): scipy's optimum, brute force
over partial matchings where scipy refuses (no full matching of allowed pairs), exact totals
(fractions, so no sum overflows near 1e308), and hypothesis strategies of hard score batches."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

INF = float("inf")


def exact_total(values) -> Fraction:
    return sum(map(Fraction, values), Fraction(0))


def best_partial(scores: np.ndarray) -> tuple[int, Fraction]:
    """(most allowed pairs, best total among those) over all matchings, by brute force."""
    n, m = scores.shape
    if n > m:
        return best_partial(scores.T)
    best = (0, Fraction(0))
    for cols in itertools.permutations(range(m), n):
        values = [scores[i, j] for i, j in enumerate(cols) if scores[i, j] > -INF]
        best = max(best, (len(values), exact_total(values)))
    return best


def reference(scores: np.ndarray) -> tuple[int, Fraction]:
    """(pairs, total) of scipy's optimum, or of brute force where no full matching exists."""
    try:
        rows, cols = linear_sum_assignment(scores, maximize=True)
    except ValueError:  # infeasible: some pairs must stay unmatched
        return best_partial(scores)
    return len(rows), exact_total(scores[rows, cols])


def achieved(scores: np.ndarray, assignment: np.ndarray) -> tuple[int, Fraction]:
    """(pairs, total) of a 0/1 assignment; it must use allowed pairs only."""
    rows, cols = np.nonzero(assignment)
    assert np.all(scores[rows, cols] > -INF), "a forbidden pair was used"
    assert (assignment.sum(0) <= 1).all() and (assignment.sum(1) <= 1).all()
    return len(rows), exact_total(scores[rows, cols])


def assert_optimal(scores: np.ndarray, assignment: np.ndarray) -> None:
    pairs, total = achieved(scores, assignment)
    best_pairs, best_total = reference(scores)
    assert pairs == best_pairs
    finite = np.abs(scores[np.isfinite(scores)])
    # Rounding of k sums of entries up to max|s|: 1e-12 relative, far below any real difference.
    tolerance = Fraction(1e-12 * min(scores.shape)) * Fraction(finite.max() if finite.size else 0)
    assert total >= best_total - tolerance


MAGNITUDES = [1.0, 1e13, 1e14, 1e15, 1e200, 1e306]


@st.composite
def score_matrices(draw, n: int, m: int) -> np.ndarray:
    """An (n, m) matrix: offset + scale * noise, some pairs forbidden, some entries tied."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from(MAGNITUDES))
    offset = draw(st.sampled_from([0.0, 1.0, -1.0])) * draw(st.sampled_from(MAGNITUDES))
    values = offset + scale * rng.normal(size=(n, m))
    if draw(st.booleans()):
        values = np.round(values / scale) * scale  # ties
    forbidden = rng.random((n, m)) < draw(st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0]))
    return np.where(forbidden, -INF, values)


@st.composite
def batches(draw) -> np.ndarray:
    n, m = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    batch = draw(st.integers(1, 5))
    return np.stack([draw(score_matrices(n, m)) for _ in range(batch)])
