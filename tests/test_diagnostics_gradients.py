"""Parts 4 and 5 of ``hste bench sinkhorn``: vanishing gradients and assignment landscapes."""

import json

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from experiments.sinkhorn_diagnostics.landscapes import (
    barycentric_grid,
    expand_runs,
    outcome_labels,
    run_lengths,
)
from experiments.sinkhorn_diagnostics.report import compact_json
from experiments.sinkhorn_diagnostics.vanishing_gradient import (
    hste_jvp_norm,
    largest_zero_tau,
    sinkhorn_jvp_norm,
    softmax_exact,
    softmax_formula,
    softmax_self_derivative,
)

TAUS = np.array([0.05, 0.2, 1.0, 3.0])


def test_softmax_autograd_matches_the_exact_derivative_in_float64():
    measured = softmax_self_derivative(16, 1.0, TAUS, torch.float64)
    # autograd forms 1 - sigma by subtraction: relative rounding ~ 1e-16 / (1 - sigma).
    np.testing.assert_allclose(measured, softmax_exact(16, 1.0, TAUS), rtol=1e-7)


def test_papers_formula_is_the_small_tau_limit():
    tau = np.array([0.02])
    assert softmax_formula(4, 1.0, tau)[0] == pytest.approx(softmax_exact(4, 1.0, tau)[0], rel=1e-9)


def test_float32_softmax_derivative_is_exactly_zero_once_sigma_rounds_to_one():
    taus = np.array([0.01, 0.03, 0.5])
    measured = softmax_self_derivative(4, 1.0, taus, torch.float32)
    assert measured[0] == 0.0 and measured[-1] > 0
    assert largest_zero_tau(taus, measured) in (0.01, 0.03)
    assert largest_zero_tau(taus, np.ones(3)) is None


def test_hste_jacobian_is_identity_over_tau_and_sinkhorn_vanishes():
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(5, 5, generator=generator, dtype=torch.float64)
    direction = torch.randn(5, 5, generator=generator, dtype=torch.float64)
    direction /= direction.norm()
    taus = np.array([1e-3, 1.0])
    np.testing.assert_allclose(hste_jvp_norm(scores, direction, taus), 1.0 / taus, rtol=1e-12)
    sinkhorn = sinkhorn_jvp_norm(scores, direction, taus, n_iters=20)
    assert sinkhorn[0] < 1e-6 * sinkhorn[1]


def test_barycentric_grid_covers_the_triangle():
    grid = barycentric_grid(5)
    assert grid.shape == (15, 3)
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert {tuple(row) for row in grid} >= {(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)}


def test_outcome_labels_number_outcomes_by_decreasing_area():
    outcomes = np.array([[2, 0], [1, 0], [1, 0], [2, 0], [1, 0], [5, 5]])
    labels, distinct, counts = outcome_labels(outcomes)
    assert labels.tolist() == [1, 0, 0, 1, 0, 2]
    assert distinct.tolist() == [[1, 0], [2, 0], [5, 5]]
    assert counts.tolist() == [3, 2, 1]


@given(st.lists(st.integers(0, 3), min_size=1, max_size=50))
def test_run_lengths_round_trip(labels):
    values, lengths = run_lengths(np.array(labels))
    assert expand_runs(values.tolist(), lengths.tolist()).tolist() == labels
    assert (values[1:] != values[:-1]).all()


def test_compact_json_keeps_numbers_and_puts_number_lists_on_one_line():
    document = {"a": [1, 2.5, None, -3e-05], "b": [{"c": [1, 2]}], "d": "x [1, 2]"}
    text = compact_json(document)
    assert json.loads(text) == document
    assert "[1, 2.5, null, -3e-05]" in text
