"""The paper's metrics on hand-computed cases and against scipy."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import kendalltau

from tracker.perm.metrics import (
    kendall_tau,
    l1_error,
    l2_error,
    perm_to_indices,
    prop_any_wrong,
    prop_wrong,
)


def test_hand_computed_cases():
    truth = torch.tensor([[0, 1, 2, 3], [0, 1, 2, 3]])
    pred = torch.tensor([[0, 1, 2, 3], [1, 0, 2, 3]])
    torch.testing.assert_close(prop_wrong(pred, truth), torch.tensor([0.0, 0.5]))
    torch.testing.assert_close(prop_any_wrong(pred, truth), torch.tensor([0.0, 1.0]))
    # One swapped adjacent pair out of 6 pairs: (5 - 1) / 6.
    torch.testing.assert_close(kendall_tau(pred, truth), torch.tensor([1.0, 4.0 / 6.0]))
    torch.testing.assert_close(kendall_tau(truth.flip(-1), truth), torch.tensor([-1.0, -1.0]))


def test_value_errors():
    rec, true = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([1.0, 3.0, 3.0])
    assert l1_error(rec, true).item() == pytest.approx(2.0 / 3.0)
    assert l2_error(rec, true).item() == pytest.approx(2.0 / 3.0)
    assert l2_error(torch.tensor([0.0, 2.0]), torch.zeros(2)).item() == pytest.approx(2.0)


def test_perm_to_indices():
    P = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    # input 0 -> position 1, input 1 -> position 2, input 2 -> position 0
    assert perm_to_indices(P).tolist() == [2, 0, 1]
    x = torch.tensor([10.0, 20.0, 30.0])
    assert (P.T @ x).tolist() == x[perm_to_indices(P)].tolist()


@given(n=st.integers(2, 30), seed=st.integers(0, 2**31 - 1))
def test_kendall_tau_matches_scipy(n, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.permutation(n), rng.permutation(n)
    ours = kendall_tau(torch.from_numpy(a), torch.from_numpy(b)).item()
    assert ours == pytest.approx(kendalltau(a, b).statistic, abs=1e-6)
