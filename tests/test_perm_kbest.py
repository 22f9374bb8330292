"""k_best_assignments (Murty) against brute-force enumeration of every assignment."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tracker.perm import k_best_assignments


def all_totals(scores: np.ndarray) -> list[float]:
    """Totals of every assignment of min(N, M) allowed pairs, best first (brute force)."""
    n, m = scores.shape
    if n > m:
        return all_totals(scores.T)
    totals = []
    for columns in itertools.permutations(range(m), n):
        total = scores[np.arange(n), list(columns)].sum()
        if np.isfinite(total):
            totals.append(float(total))
    return sorted(totals, reverse=True)


def random_scores(rng: np.random.Generator, shape: tuple[int, ...], forbidden: float) -> np.ndarray:
    scores = rng.normal(size=shape)
    scores[rng.random(shape) < forbidden] = -np.inf
    return scores


@given(n=st.integers(1, 4), m=st.integers(1, 4), k=st.integers(1, 30),
       forbidden=st.sampled_from([0.0, 0.3, 0.6]), seed=st.integers(0, 2**31 - 1))
def test_totals_and_assignments_equal_brute_force(n, m, k, forbidden, seed):
    scores = random_scores(np.random.default_rng(seed), (n, m), forbidden)
    assignments, totals = k_best_assignments(torch.from_numpy(scores), k)
    expected = all_totals(scores)[:k]
    found = len(expected)
    np.testing.assert_allclose(totals[:found].numpy(), expected, rtol=0, atol=1e-9)
    assert torch.isneginf(totals[found:]).all()
    assert (assignments[found:] == 0).all()
    chosen = assignments[:found].numpy()
    assert (chosen.sum(axis=2) <= 1).all() and (chosen.sum(axis=1) <= 1).all()
    assert (chosen.sum(axis=(1, 2)) == min(n, m)).all()
    assert not np.isneginf(scores[None].repeat(found, 0)[chosen > 0]).any()
    np.testing.assert_allclose(np.where(chosen > 0, scores, 0).sum(axis=(1, 2)), expected,
                               atol=1e-9)
    assert len({c.tobytes() for c in chosen}) == found  # no assignment twice


@given(batch=st.integers(1, 3), n=st.integers(1, 4), seed=st.integers(0, 2**31 - 1))
def test_batch_equals_one_by_one(batch, n, seed):
    scores = torch.from_numpy(random_scores(np.random.default_rng(seed), (batch, n, n + 1), 0.3))
    assignments, totals = k_best_assignments(scores, 7)
    for b in range(batch):
        single_assignments, single_totals = k_best_assignments(scores[b], 7)
        torch.testing.assert_close(totals[b], single_totals)
        torch.testing.assert_close(assignments[b], single_assignments)


def test_exact_order_on_a_hand_made_matrix():
    scores = torch.tensor([[3.0, 1.0], [2.0, 5.0]])  # 3 + 5 = 8, then 1 + 2 = 3
    assignments, totals = k_best_assignments(scores, 3)
    assert totals.tolist() == [8.0, 3.0, float("-inf")]
    assert assignments[0].tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert assignments[1].tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_shape_dtype_and_leading_dimensions_are_kept():
    scores = torch.randn(2, 3, 3, 5, dtype=torch.float32)
    assignments, totals = k_best_assignments(scores, 4)
    assert assignments.shape == (2, 3, 4, 3, 5) and assignments.dtype == torch.float32
    assert totals.shape == (2, 3, 4) and (totals.diff(dim=-1) <= 1e-9).all()


def test_empty_matrix_has_one_empty_assignment():
    assignments, totals = k_best_assignments(torch.zeros(0, 3), 2)
    assert assignments.shape == (2, 0, 3) and totals.tolist() == [0.0, float("-inf")]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_and_positive_infinity_are_refused(bad):
    with pytest.raises(ValueError, match="NaN or \\+inf"):
        k_best_assignments(torch.tensor([[1.0, bad]]), 2)


def test_k_below_one_is_refused():
    with pytest.raises(ValueError, match="k must be >= 1"):
        k_best_assignments(torch.zeros(2, 2), 0)
