"""hungarian / hungarian_augmented against brute force and scipy."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from tracker.perm import augmented_scores, hungarian, hungarian_augmented


def brute_force_best(scores: np.ndarray) -> float:
    """Best total over all complete matchings of an N x N matrix (N <= 6)."""
    n = scores.shape[0]
    return max(scores[np.arange(n), list(p)].sum() for p in itertools.permutations(range(n)))


def assert_is_partial_permutation(P: torch.Tensor) -> None:
    assert set(P.unique().tolist()) <= {0.0, 1.0}
    assert (P.sum(-1) <= 1).all() and (P.sum(-2) <= 1).all()


@given(n=st.integers(1, 6), seed=st.integers(0, 2**31 - 1))
def test_square_equals_brute_force(n, seed):
    scores = np.random.default_rng(seed).normal(size=(n, n))
    P = hungarian(torch.from_numpy(scores))
    assert_is_partial_permutation(P)
    assert P.sum() == n
    assert (scores * P.numpy()).sum() == pytest.approx(brute_force_best(scores))


@given(
    batch=st.integers(1, 4),
    n=st.integers(1, 12),
    m=st.integers(1, 12),
    seed=st.integers(0, 2**31 - 1),
)
def test_rectangular_batches_equal_scipy(batch, n, m, seed):
    scores = np.random.default_rng(seed).normal(size=(batch, n, m))
    P = hungarian(torch.from_numpy(scores)).numpy()
    for b in range(batch):
        rows, cols = linear_sum_assignment(scores[b], maximize=True)
        expected = np.zeros((n, m))
        expected[rows, cols] = 1
        np.testing.assert_array_equal(P[b], expected)


def test_leading_dims_dtype_and_device_are_kept():
    scores = torch.randn(2, 3, 4, 4, dtype=torch.float32)
    P = hungarian(scores)
    assert P.shape == scores.shape and P.dtype == torch.float32 and P.device == scores.device
    assert (P.sum(-1) == 1).all()


def test_forbidden_pairs_are_never_used_and_dead_rows_stay_unassigned():
    inf = float("-inf")
    scores = torch.tensor([[9.0, inf, inf], [inf, inf, inf], [1.0, 2.0, inf]])
    P = hungarian(scores)
    expected = torch.tensor([[1.0, 0, 0], [0, 0, 0], [0, 1.0, 0]])
    assert torch.equal(P, expected)


def test_forbidden_pairs_prefer_more_matches_then_higher_score():
    inf = float("-inf")
    # Taking (0, 0) = 100 alone would block row 1 entirely; two matches win.
    scores = torch.tensor([[100.0, 1.0], [1.0, inf]])
    assert torch.equal(hungarian(scores), torch.tensor([[0.0, 1.0], [1.0, 0.0]]))


def test_all_forbidden_gives_zeros():
    assert hungarian(torch.full((3, 3), float("-inf"))).sum() == 0


@pytest.mark.parametrize("bad, word", [(float("nan"), "NaN"), (float("inf"), r"\+inf")])
def test_nan_and_posinf_are_rejected_with_a_clear_message(bad, word):
    scores = torch.zeros(3, 3)
    scores[1, 2] = bad
    with pytest.raises(ValueError, match=word):
        hungarian(scores)


def test_rejects_vectors():
    with pytest.raises(ValueError, match=r"\(\.\.\., N, M\)"):
        hungarian(torch.zeros(3))


def test_empty_dimensions():
    assert hungarian(torch.zeros(2, 0, 3)).shape == (2, 0, 3)


def brute_force_partial(pair, row_un, col_un):
    """Best total over all partial matchings (each row matched to a distinct column or left)."""
    n, m = pair.shape
    best = -np.inf
    for choice in itertools.product(range(-1, m), repeat=n):
        used = [c for c in choice if c >= 0]
        if len(used) != len(set(used)):
            continue
        total = sum(pair[i, c] if c >= 0 else row_un[i] for i, c in enumerate(choice))
        total += sum(col_un[j] for j in range(m) if j not in used)
        best = max(best, total)
    return best


@given(n=st.integers(0, 4), m=st.integers(0, 4), seed=st.integers(0, 2**31 - 1))
def test_augmented_equals_brute_force_over_partial_matchings(n, m, seed):
    rng = np.random.default_rng(seed)
    pair, row_un, col_un = rng.normal(size=(n, m)), rng.normal(size=n), rng.normal(size=m)
    P = hungarian_augmented(*map(torch.from_numpy, (pair, row_un, col_un))).numpy()
    assert P.shape == (n, m)
    matched_rows, matched_cols = P.sum(1) > 0, P.sum(0) > 0
    total = (pair * P).sum() + row_un[~matched_rows].sum() + col_un[~matched_cols].sum()
    assert total == pytest.approx(brute_force_partial(pair, row_un, col_un))


def test_augmented_layout():
    pair = torch.tensor([[1.0, 2.0]])
    full = augmented_scores(pair, torch.tensor([7.0]), torch.tensor([5.0, 6.0]))
    inf = float("-inf")
    expected = torch.tensor(
        [[1.0, 2.0, 7.0], [5.0, inf, 0.0], [inf, 6.0, 0.0]]
    )
    assert torch.equal(full, expected)


def test_augmented_batched_and_differentiable():
    pair = torch.randn(5, 3, 4, requires_grad=True)
    full = augmented_scores(pair, torch.zeros(5, 3), torch.zeros(5, 4))
    assert full.shape == (5, 7, 7)
    full[torch.isfinite(full)].sum().backward()
    assert torch.equal(pair.grad, torch.ones_like(pair))


def test_augmented_rejects_wrong_sizes():
    with pytest.raises(ValueError, match="N=2"):
        hungarian_augmented(torch.zeros(2, 3), torch.zeros(3), torch.zeros(3))
