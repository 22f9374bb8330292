"""The paper's metrics on hand-computed cases and against scipy."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import kendalltau

from tracker.perm.metrics import (
    kendall_tau,
    kendall_tau_list,
    kendall_tau_pairs,
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


def test_the_two_taus_on_one_swap_of_distant_input_indices():
    """Positions 0 and 1 hold inputs 0 and 3; swapping them misorders one pair of positions
    (pairs tau 1 - 2/6) but, in list form, the pair itself and the two pairs of each of the
    input indices 1 and 2 that lie between 0 and 3: 5 discordant of 6, tau (1 - 5) / 6."""
    target = torch.tensor([0, 3, 1, 2])
    pred = torch.tensor([3, 0, 1, 2])
    assert kendall_tau_pairs(pred, target).item() == pytest.approx(2 / 3)
    assert kendall_tau_list(pred, target).item() == pytest.approx(-2 / 3)
    assert kendalltau(target.numpy(), pred.numpy()).statistic == pytest.approx(-2 / 3)


def test_the_two_taus_agree_when_inputs_are_listed_in_sorted_order():
    target = torch.tensor([[0, 1, 2, 3], [0, 1, 2, 3]])
    pred = torch.tensor([[1, 0, 2, 3], [3, 2, 1, 0]])
    expected = torch.tensor([4 / 6, -1.0])
    torch.testing.assert_close(kendall_tau_pairs(pred, target), expected)
    torch.testing.assert_close(kendall_tau_list(pred, target), expected)


@given(n=st.integers(3, 40), seed=st.integers(0, 2**31 - 1))
def test_one_neighbour_swap_costs_what_the_docstring_says(n, seed):
    """Swapping the inputs at positions j, j + 1 (true inputs a, b) costs the pairs tau
    2 / M and the list-form tau 2 (2 |a - b| - 1) / M, M = N (N - 1) / 2."""
    rng = np.random.default_rng(seed)
    target = torch.from_numpy(rng.permutation(n))
    j = int(rng.integers(n - 1))
    pred = target.clone()
    pred[[j, j + 1]] = target[[j + 1, j]]
    pairs = n * (n - 1) / 2
    distance = abs(int(target[j]) - int(target[j + 1]))
    assert kendall_tau_pairs(pred, target).item() == pytest.approx(1 - 2 / pairs, abs=1e-6)
    assert kendall_tau_list(pred, target).item() == pytest.approx(
        1 - 2 * (2 * distance - 1) / pairs, abs=1e-6)
    assert kendall_tau_list(pred, target).item() == pytest.approx(
        kendalltau(target.numpy(), pred.numpy()).statistic, abs=1e-6)


@given(n=st.integers(2, 30), seed=st.integers(0, 2**31 - 1))
def test_pairs_tau_does_not_depend_on_how_inputs_are_listed(n, seed):
    """Relabelling the inputs (input i becomes relabel[i]) leaves the pairs tau unchanged; it is
    the tau of the true positions of the placed elements against 0..N-1."""
    rng = np.random.default_rng(seed)
    target, pred, relabel = (torch.from_numpy(rng.permutation(n)) for _ in range(3))
    ours = kendall_tau_pairs(pred, target).item()
    assert kendall_tau_pairs(relabel[pred], relabel[target]).item() == pytest.approx(ours)
    placed = target.argsort()[pred].numpy()
    assert ours == pytest.approx(kendalltau(placed, np.arange(n)).statistic, abs=1e-6)


def test_pairs_tau_of_a_far_swap_does_not_depend_on_the_input_order():
    # positions 0 and 8 of 9 swapped: 15 discordant pairs of 36, whatever the input labels
    shuffled_order = torch.randperm(9, generator=torch.Generator().manual_seed(4))
    for true_idx in (torch.arange(9), shuffled_order):
        pred_idx = true_idx.clone()
        pred_idx[[0, 8]] = pred_idx[[8, 0]]
        tau = kendall_tau_pairs(pred_idx[None], true_idx[None]).item()
        assert tau == pytest.approx(1 - 30 / 36)
