"""Rank-one dual potentials: exact duals for rank-one matrices, and an unchanged optimum."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from tracker.perm import hungarian
from tracker.perm.potentials import (
    MIN_SIZE,
    RANK_ONE_SHARE,
    rank_one_fit,
    rank_one_potentials,
    rank_one_share,
    reduce_rank_one,
)


def peaky(rng: np.random.Generator, n: int, scale: float, noise: float) -> np.ndarray:
    """Scores like trained sorting ones: offsets + scale * (x_i a_j) + noise * Gumbel."""
    x, a = rng.random(n), np.sort(rng.normal(size=n))
    return (scale * np.outer(x, a) + rng.normal(size=(n, 1)) + rng.normal(size=(1, n))
            + noise * rng.gumbel(size=(n, n)))


@given(n=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_closed_form_duals_of_a_rank_one_cost(n, seed):
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=(1, n)), rng.normal(size=(1, n))
    sigma = np.array([[rng.uniform(0.1, 10)]])
    alpha, beta = rank_one_potentials(sigma, u, v)
    reduced = sigma[0, 0] * np.outer(u[0], v[0]) - alpha[0][:, None] - beta[0][None, :]
    scale = sigma[0, 0] * np.abs(u).max() * np.abs(v).max()
    assert reduced.min() >= -1e-12 * n * scale
    rows = np.argsort(u[0])
    cols = np.argsort(-v[0])  # ascending u meets descending v
    np.testing.assert_allclose(reduced[rows, cols], 0, atol=1e-12 * n * scale)


def test_fit_finds_the_rank_one_part():
    rng = np.random.default_rng(0)
    costs = peaky(rng, 200, 1000.0, 1.0)[None]
    sigma, u, v, share = rank_one_fit(costs)
    assert share[0] > 0.9
    random_share = rank_one_fit(rng.normal(size=(1, 200, 200)))[3]
    assert random_share[0] < 0.1


@pytest.mark.parametrize("k", [32, 63])
def test_share_separates_random_from_peaky_sub_matrices(k):
    rng = np.random.default_rng(k)
    assert (rank_one_share(rng.normal(size=(20, k, k))) < RANK_ONE_SHARE / 2).all()
    peaky_batch = np.stack([peaky(rng, k, 1000.0, 1.0) for _ in range(20)])
    assert (rank_one_share(peaky_batch) > 0.9).all()


def test_reduce_leaves_random_and_small_matrices_alone():
    rng = np.random.default_rng(1)
    costs = rng.normal(size=(2, 50, 50))
    small = peaky(rng, MIN_SIZE - 1, 1000.0, 1.0)[None]
    before, small_before = costs.copy(), small.copy()
    reduce_rank_one(costs)
    reduce_rank_one(small)
    np.testing.assert_array_equal(costs, before)
    np.testing.assert_array_equal(small, small_before)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(MIN_SIZE, 70), seed=st.integers(0, 2**32 - 1),
       scale=st.sampled_from([3.0, 30.0, 1e3, 1e6]), noise=st.sampled_from([0.0, 1.0, 10.0]),
       rounded=st.booleans())
def test_hungarian_on_peaky_scores_equals_scipy(n, seed, scale, noise, rounded):
    scores = peaky(np.random.default_rng(seed), n, scale, noise)
    if rounded:  # many ties
        scores = np.round(scores)
    P = hungarian(torch.from_numpy(scores)).numpy()
    assert (P.sum(0) == 1).all() and (P.sum(1) == 1).all()
    rows, cols = linear_sum_assignment(scores, maximize=True)
    best = scores[rows, cols].sum()
    assert (scores * P).sum() == pytest.approx(best, rel=1e-12, abs=1e-9 * n * np.abs(scores).max())


def test_batched_peaky_and_random_matrices_match_each_alone():
    rng = np.random.default_rng(2)
    batch = np.stack([peaky(rng, 80, 1e3, 1.0), rng.normal(size=(80, 80))]).astype(np.float32)
    together = hungarian(torch.from_numpy(batch))
    for b in range(2):
        assert torch.equal(together[b], hungarian(torch.from_numpy(batch[b])))
