"""hungarian on large magnitudes, forbidden pairs and odd dtypes (issue 20), against scipy.

Every case compares the total score with scipy's ``linear_sum_assignment`` optimum when a full
matching of allowed pairs exists, and with brute force over partial matchings when it does not
(scipy refuses those). Ties are allowed: only the number of allowed pairs and the total count;
totals are summed exactly (fractions), so no sum overflows near 1e308.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from perm_reference import INF, assert_optimal, batches
from scipy.optimize import linear_sum_assignment

from tracker.perm import hungarian, hungarian_numpy


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
