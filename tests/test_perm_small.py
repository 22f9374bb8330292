"""One small matrix (the scipy fast path of tracker.perm.lsap) against brute force and the
contract: optimal (any optimal answer under ties), -inf forbidden with the largest partial
matching, NaN and +inf refused with our message, batches still solved by lapx."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from perm_reference import INF, best_partial, exact_total

from tracker.perm import assignment_indices, hungarian, hungarian_numpy, lsap


def _pairs(scores: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[int, Fraction]:
    """(pairs, exact total) of an index answer, checked to be a matching of allowed pairs."""
    assert rows.dtype == cols.dtype == np.int64
    assert len(set(rows.tolist())) == len(rows) and len(set(cols.tolist())) == len(cols)
    assert np.all(scores[rows, cols] > -INF), "a forbidden pair was used"
    return len(rows), exact_total(scores[rows, cols].astype(np.float64))


@st.composite
def small_matrices(draw) -> np.ndarray:
    n, m = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1.0, 1e3, 1e30] if dtype == np.float64 else [1.0, 1e3]))
    values = rng.normal(size=(n, m)) * scale
    if draw(st.booleans()):
        values = np.round(values / scale * 2) * scale  # many exact ties
    pattern = draw(st.sampled_from(["none", "random", "row", "column", "all"]))
    if pattern == "random":
        values[rng.random((n, m)) < draw(st.sampled_from([0.2, 0.5, 0.9]))] = -INF
    elif pattern == "row":
        values[rng.integers(n)] = -INF
    elif pattern == "column":
        values[:, rng.integers(m)] = -INF
    elif pattern == "all":
        values[:] = -INF
    return values.astype(dtype)


@settings(max_examples=400, deadline=None)
@given(scores=small_matrices())
def test_one_matrix_is_optimal_against_brute_force(scores):
    best_pairs, best_total = best_partial(scores.astype(np.float64))
    finite = np.abs(scores[np.isfinite(scores)]).astype(np.float64)
    tolerance = Fraction(1e-12 * min(scores.shape)) * Fraction(finite.max() if finite.size else 0)
    batch, rows, cols = assignment_indices(scores)
    assert batch.dtype == np.int64 and np.all(batch == 0) and len(batch) == len(rows)
    dense = hungarian_numpy(scores)
    tensor = hungarian(torch.from_numpy(scores))
    assert dense.dtype == scores.dtype and tensor.dtype == torch.from_numpy(scores).dtype
    np.testing.assert_array_equal(tensor.numpy(), dense)
    for answer in ((rows, cols), np.nonzero(dense)):
        pairs, total = _pairs(scores, *answer)
        assert pairs == best_pairs
        assert total >= best_total - tolerance
    if best_pairs == min(scores.shape):  # a full matching exists: scipy's answer is taken
        assert len(rows) == min(scores.shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (INF, r"\+inf")])
@pytest.mark.parametrize("with_forbidden", [False, True])
def test_nan_and_posinf_are_refused_with_our_message(dtype, bad, word, with_forbidden):
    scores = np.arange(12.0).reshape(3, 4).astype(dtype)
    scores[1, 2] = bad
    if with_forbidden:
        scores[0, 0] = -INF
    for solve in (assignment_indices, hungarian_numpy, lambda s: hungarian(torch.from_numpy(s))):
        with pytest.raises(ValueError, match=f"scores contains {word}"):
            solve(scores)


def test_forbidden_rows_give_the_partial_matching_through_the_fallback():
    scores = np.array([[-INF, -INF, -INF], [1.0, 2.0, -INF], [5.0, -INF, -INF]], np.float32)
    _, rows, cols = assignment_indices(scores)  # scipy: infeasible; lapx path answers
    assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == [(1, 1), (2, 0)]


@pytest.fixture
def scipy_calls(monkeypatch) -> list:
    calls: list = []
    real = lsap.linear_sum_assignment

    def counted(*args, **kwargs):
        calls.append(np.shape(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(lsap, "linear_sum_assignment", counted)
    return calls


def test_which_inputs_go_to_scipy(scipy_calls):
    rng = np.random.default_rng(0)
    small = rng.normal(size=(5, 7))
    assignment_indices(small.astype(np.float32))
    hungarian_numpy(small)
    hungarian(torch.from_numpy(small))
    assert scipy_calls == [(5, 7)] * 3
    forbidden = small.copy()
    forbidden[0, 0] = -INF
    assignment_indices(forbidden)  # float64 with -inf (the tracker's augmented matrices): lapx
    assignment_indices(small * 1e200)  # beyond 2**500: lapx (scipy's sums may overflow)
    side = math.isqrt(lsap.SCIPY_ENTRIES) + 1
    assignment_indices(rng.normal(size=(side, side)))  # above SCIPY_ENTRIES: lapx
    assignment_indices(rng.normal(size=(side - 1, side - 1)))  # at most SCIPY_ENTRIES: scipy
    assignment_indices(small[None])  # a batch, even of one matrix: lapx
    hungarian_numpy(np.stack([small, small]))
    assignment_indices(small.astype(np.int64))  # not float32/float64: lapx
    assert scipy_calls == [(5, 7)] * 3 + [(side - 1, side - 1)]


def test_batch_answers_do_not_depend_on_scipy(monkeypatch):
    """A batch of one matrix is solved exactly as before the fast path (lapx), ties included:
    the tracker's gating and the evaluation's identity matching rely on that."""
    monkeypatch.setattr(lsap, "linear_sum_assignment", None)  # any call would fail
    ties = np.ones((1, 4, 4))
    batch, rows, cols = assignment_indices(ties)
    costs, _ = lsap.finite_costs(ties)
    lap_rows, lap_cols = lsap.lap.lapjvr(costs[0], extend_cost=True, return_cost=False)
    np.testing.assert_array_equal(rows, lap_rows)
    np.testing.assert_array_equal(cols, lap_cols)
