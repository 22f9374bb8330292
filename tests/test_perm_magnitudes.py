"""hungarian on large magnitudes, forbidden pairs and odd dtypes (issue 20), against scipy.

Every case compares the total score with scipy's ``linear_sum_assignment`` optimum when a full
matching of allowed pairs exists, and with brute force over partial matchings when it does not
(scipy refuses those). Ties are allowed: only the number of allowed pairs and the total count;
totals are summed exactly (fractions), so no sum overflows near 1e308.
"""

import itertools
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from tracker.perm import hungarian, hungarian_numpy

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


def test_one_huge_allowed_pair_among_forbidden_ones():
    scores = torch.tensor([[1e17, -INF], [-INF, -INF]], dtype=torch.float64)
    assert torch.equal(hungarian(scores), torch.tensor([[1.0, 0.0], [0.0, 0.0]],
                                                       dtype=torch.float64))


@pytest.mark.parametrize("value", [1e17, -1e17, 1e300, -1e308, 5e-324])
def test_a_single_allowed_value_of_any_magnitude_is_taken(value):
    scores = np.full((3, 4), -INF)
    scores[1, 2] = value
    expected = np.zeros((3, 4))
    expected[1, 2] = 1
    np.testing.assert_array_equal(hungarian_numpy(scores), expected)


def test_spread_near_the_float_limit_with_forbidden_pairs_gives_the_partial_matching():
    scores = np.array([[1.7e308, -1.7e308, -INF],
                       [-1.7e308, -INF, 1.7e308],
                       [-INF, -INF, -INF]])
    P = hungarian(torch.from_numpy(scores)).numpy()
    np.testing.assert_array_equal(P, [[1, 0, 0], [0, 0, 1], [0, 0, 0]])
    assert_optimal(scores, P)


def test_spread_near_the_float_limit_without_forbidden_pairs_equals_scipy():
    rng = np.random.default_rng(0)
    for _ in range(50):
        scores = rng.uniform(-1, 1, size=(6, 6)) * 1.7e308
        assert_optimal(scores, hungarian_numpy(scores))


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_complex_scores_raise_type_error_like_scipy(dtype):
    with pytest.raises(TypeError):
        linear_sum_assignment(np.ones((2, 2), dtype=np.complex128))
    with pytest.raises(TypeError, match="real"):
        hungarian(torch.ones(2, 2, dtype=dtype))
    with pytest.raises(TypeError, match="real"):
        hungarian_numpy(np.ones((2, 2), dtype=np.complex128))


def test_integer_and_bool_scores_keep_their_dtype():
    P = hungarian(torch.tensor([[1, 5], [4, 1]]))
    assert P.dtype == torch.int64 and P.tolist() == [[0, 1], [1, 0]]
    assert hungarian(torch.eye(3, dtype=torch.bool)).equal(torch.eye(3, dtype=torch.bool))


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


@settings(max_examples=300, deadline=None)
@given(batch=batches())
def test_each_matrix_is_optimal_and_independent_of_its_batch(batch):
    together = hungarian(torch.from_numpy(batch)).numpy()
    for b, scores in enumerate(batch):
        alone = hungarian(torch.from_numpy(scores[None]))[0].numpy()
        np.testing.assert_array_equal(together[b], alone)
        assert_optimal(scores, together[b])


@settings(max_examples=100, deadline=None)
@given(batch=batches(), seed=st.integers(0, 2**32 - 1))
def test_a_matrix_keeps_its_answer_beside_huge_neighbours(batch, seed):
    """Issue 20: neighbours holding values near 1e13-1e15 (and -inf) changed a matrix's answer."""
    rng = np.random.default_rng(seed)
    neighbours = rng.normal(size=batch.shape) * 1e15
    neighbours[rng.random(batch.shape) < 0.3] = -INF
    mixed = np.concatenate([batch[:1], neighbours])
    np.testing.assert_array_equal(hungarian_numpy(mixed)[0], hungarian_numpy(batch[:1])[0])
