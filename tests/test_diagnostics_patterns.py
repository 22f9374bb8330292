"""Part 1 of ``hste bench sinkhorn``: binary patterns, positive diagonals, symmetry groups."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.sinkhorn_diagnostics.config import PatternsConfig
from experiments.sinkhorn_diagnostics.convergence import error_after, log_scores
from experiments.sinkhorn_diagnostics.patterns import (
    all_binary_matrices,
    classify,
    has_zero_line,
    support_classes,
)
from experiments.sinkhorn_diagnostics.symmetry import (
    canonical_codes,
    codes,
    entry_permutations,
    matrices_from_codes,
)


@pytest.fixture(scope="module")
def three_by_three():
    return classify(3, PatternsConfig(sizes=(3,), n_iters=50))


def test_3x3_counts_match_hand_counts(three_by_three):
    # No zero line: 7^3 - 3 * 3^3 + 3 * 1 = 265 by inclusion-exclusion, so 512 - 265 = 247 have one.
    # Never converging without a zero line = a 2x2 zero block (Frobenius-Koenig, s + t = 4):
    # 9 block positions, the corner opposite the block free -> 18 matrices.
    assert three_by_three["matrices"] == 512
    assert three_by_three["zero_line"] == 247
    assert three_by_three["zero_line_nan_after_one_iteration"] == 247
    assert three_by_three["never_converging"] == 18
    assert three_by_three["never_converging_equals_no_positive_diagonal"]
    assert three_by_three["error_never_converging_min"] >= 1 / 3
    assert three_by_three["error_converging_max"] < 0.1
    assert three_by_three["groups"]["rows-cols"]["count"] == 2
    assert three_by_three["groups"]["rows-cols"]["sizes"] == [9, 9]
    assert three_by_three["groups"]["square"]["count"] == 6
    assert sum(three_by_three["groups"]["square"]["sizes"]) == 18


def test_sinkhorn_gives_nan_on_a_zero_row_and_finite_values_with_minus_inf_entries():
    zero_row = np.array([[[1.0, 1.0], [0.0, 0.0]]])
    assert np.isnan(error_after(log_scores(zero_row), 1)).all()
    triangular = np.array([[[1.0, 1.0], [0.0, 1.0]]])
    assert np.isfinite(error_after(log_scores(triangular), 5)).all()


def test_support_classes_on_known_matrices():
    matrices = np.array(
        [
            np.eye(3),  # total support
            [[1, 1, 0], [0, 1, 0], [0, 0, 1]],  # support, (0, 1) on no positive diagonal
            [[1, 1, 1], [1, 0, 0], [1, 0, 0]],  # 2x2 zero block: no support
            np.ones((3, 3)),  # total support
        ],
        dtype=np.float64,
    )
    support, total = support_classes(matrices)
    assert support.tolist() == [True, True, False, True]
    assert total.tolist() == [True, False, False, True]


def test_zero_line_and_enumeration():
    matrices = all_binary_matrices(2)
    assert matrices.shape == (16, 2, 2)
    assert len(np.unique(codes(matrices))) == 16
    # 2x2 without a zero row or column: the two diagonals, four with three ones, all ones = 7.
    assert int((~has_zero_line(matrices)).sum()) == 7


@pytest.mark.parametrize(("n", "grouping", "size"), [(3, "rows-cols", 72), (4, "square", 8)])
def test_group_sizes(n, grouping, size):
    assert entry_permutations(n, grouping).shape == (size, n * n)


@settings(max_examples=40, deadline=None)
@given(code=st.integers(0, 2**16 - 1), seed=st.integers(0, 2**32 - 1))
def test_canonical_code_is_invariant_under_row_and_column_shuffles(code, seed):
    matrix = matrices_from_codes(np.array([code]), 4)
    assert codes(matrix)[0] == code
    rng = np.random.default_rng(seed)
    shuffled = matrix[:, rng.permutation(4)][:, :, rng.permutation(4)]
    both = np.concatenate([matrix, shuffled, np.swapaxes(shuffled, 1, 2)])
    assert len(set(canonical_codes(both, "rows-cols").tolist())) == 1


def test_rotation_keeps_square_group():
    matrix = matrices_from_codes(np.array([0b0000_0001_0011_0111]), 4)
    rotated = np.rot90(matrix, axes=(1, 2)).copy()
    pair = np.concatenate([matrix, rotated])
    assert len(set(canonical_codes(pair, "square").tolist())) == 1
    assert torch.is_tensor(log_scores(matrix))
