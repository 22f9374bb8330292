"""hungarian_torch (the device path) against scipy / brute force, on CPU."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from perm_reference import INF, assert_optimal, batches
from scipy.optimize import linear_sum_assignment

from tracker.perm.torch_solver import hungarian_torch

MAGNITUDE_LIMIT = 1e150  # hungarian_torch refuses entries beyond 2**500


@settings(max_examples=300, deadline=None)
@given(batch=batches())
def test_each_matrix_is_optimal(batch):
    batch = np.where(np.abs(batch) < MAGNITUDE_LIMIT, batch, np.sign(batch) * MAGNITUDE_LIMIT)
    P = hungarian_torch(torch.from_numpy(batch)).numpy()
    for scores, assignment in zip(batch, P, strict=True):
        assert_optimal(scores, assignment)


def test_ten_thousand_random_and_edge_case_matrices_equal_scipy():
    """10,000 matrices, 1..6 x 1..6: normal, integer (ties), constant, forbidden pairs."""
    rng = np.random.default_rng(0)
    checked = 0
    shapes = [(n, m) for n in range(1, 7) for m in range(1, 7)]
    for index, (n, m) in enumerate(shapes):
        count = 10_000 // len(shapes) + (index < 10_000 % len(shapes))
        scores = rng.normal(size=(count, n, m))
        kind = np.arange(count) % 4
        scores[kind == 1] = np.round(scores[kind == 1] * 2)  # ties
        scores[kind == 2] = 1.0  # all equal
        forbid = (kind == 3)[:, None, None] & (rng.random((count, n, m)) < 0.4)
        scores[forbid] = -INF
        P = hungarian_torch(torch.from_numpy(scores)).numpy()
        for s, p in zip(scores, P, strict=True):
            assert_optimal(s, p)
        checked += count
    assert checked == 10_000


def test_matches_scipy_on_larger_random_batches():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(4, 30, 40)).astype(np.float32)
    P = hungarian_torch(torch.from_numpy(scores))
    assert P.dtype == torch.float32 and P.shape == (4, 30, 40)
    for s, p in zip(scores, P.numpy(), strict=True):
        rows, cols = linear_sum_assignment(s, maximize=True)
        assert (s * p).sum() == pytest.approx(s[rows, cols].sum(), rel=1e-6)


def test_contract_errors_and_shapes():
    assert hungarian_torch(torch.zeros(2, 0, 3)).shape == (2, 0, 3)
    assert hungarian_torch(torch.full((2, 2), -INF)).sum() == 0
    with pytest.raises(ValueError, match="NaN"):
        hungarian_torch(torch.tensor([[float("nan")]]))
    with pytest.raises(ValueError, match=r"\+inf"):
        hungarian_torch(torch.tensor([[INF]]))
    with pytest.raises(ValueError, match="2\\*\\*500"):
        hungarian_torch(torch.tensor([[1e300]], dtype=torch.float64))
    with pytest.raises(TypeError, match="real"):
        hungarian_torch(torch.ones(2, 2, dtype=torch.complex64))
    P = hungarian_torch(torch.tensor([[1, 5], [4, 1]]))
    assert P.dtype == torch.int64 and P.tolist() == [[0, 1], [1, 0]]
