"""The numpy entry points (assignment_indices, hungarian_numpy, hungarian_many) vs hungarian."""

import os
import signal

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from tracker.perm import assignment_indices, hungarian, hungarian_many, hungarian_numpy, lsap


@given(shape=st.lists(st.integers(1, 7), min_size=2, max_size=4), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_hungarian_numpy_equals_hungarian(shape, seed, dtype):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=shape).astype(dtype)
    scores[rng.random(shape) < 0.2] = -np.inf
    P = hungarian_numpy(scores)
    assert P.dtype == dtype and P.shape == scores.shape
    np.testing.assert_array_equal(P, hungarian(torch.from_numpy(scores)).numpy())


def test_assignment_indices_are_flat_batch_row_col():
    scores = np.zeros((2, 3, 2, 2))
    scores[1, 2] = [[0.0, 5.0], [5.0, 0.0]]
    batch, rows, cols = assignment_indices(scores)
    assert batch.dtype == rows.dtype == cols.dtype == np.int64
    assert batch.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    chosen = set(zip(rows[batch == 5].tolist(), cols[batch == 5].tolist(), strict=True))
    assert chosen == {(0, 1), (1, 0)}


def test_assignment_indices_drop_forbidden_pairs_and_handle_empty_input():
    scores = np.array([[[1.0, -np.inf], [-np.inf, -np.inf]]])
    assert [a.tolist() for a in assignment_indices(scores)] == [[0], [0], [0]]
    assert all(a.size == 0 for a in assignment_indices(np.zeros((3, 0, 4))))
    with pytest.raises(ValueError, match="NaN"):
        assignment_indices(np.array([[np.nan]]))
    with pytest.raises(ValueError, match=r"\(\.\.\., N, M\)"):
        assignment_indices(np.zeros(3))


@settings(deadline=None)
@given(sizes=st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6)), max_size=12),
       seed=st.integers(0, 2**32 - 1))
def test_hungarian_many_solves_each_matrix_optimally(sizes, seed):
    rng = np.random.default_rng(seed)
    matrices = [rng.normal(size=size) for size in sizes]
    for matrix in matrices[::3]:
        matrix[rng.random(matrix.shape) < 0.3] = -np.inf
    solutions = hungarian_many(matrices)
    assert len(solutions) == len(matrices)
    for matrix, (rows, cols) in zip(matrices, solutions, strict=True):
        assert rows.dtype == cols.dtype == np.int64
        assert len(set(rows.tolist())) == len(rows) and len(set(cols.tolist())) == len(cols)
        assert np.isfinite(matrix[rows, cols]).all()
        _, alone_rows, alone_cols = assignment_indices(matrix)  # tested against scipy
        assert len(rows) == len(alone_rows)
        assert matrix[rows, cols].sum() == pytest.approx(matrix[alone_rows, alone_cols].sum())
        if np.isfinite(matrix).all():
            best_rows, best_cols = linear_sum_assignment(matrix, maximize=True)
            assert matrix[rows, cols].sum() == pytest.approx(matrix[best_rows, best_cols].sum())


def test_hungarian_many_rejects_non_matrices():
    with pytest.raises(ValueError, match="matrix 1 must be 2-D"):
        hungarian_many([np.zeros((2, 2)), np.zeros(3)])
    assert hungarian_many([]) == []


def test_chunked_batches_give_the_same_answers(monkeypatch):
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(10, 4, 5))
    scores[rng.random(scores.shape) < 0.3] = -np.inf
    whole = assignment_indices(scores, threads=2)
    monkeypatch.setattr(lsap, "_CHUNK_BYTES", 8 * 4 * 5 * 3)  # chunks of 3 matrices
    chunked = assignment_indices(scores, threads=2)
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_array_equal(a, b)
    for index in range(10):
        _, rows, cols = assignment_indices(scores[index])
        mine = chunked[0] == index
        np.testing.assert_array_equal(chunked[1][mine], rows)
        np.testing.assert_array_equal(chunked[2][mine], cols)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_pooled_batches_match_one_thread_and_survive_a_fork():
    """Batches of 50 x 50 and larger run on a pool of worker threads when threads > 1: the
    answers equal the one-thread ones, also in a child forked after the pool was made (whose
    inherited pool has no threads: reusing it hung)."""
    scores = np.random.default_rng(4).standard_normal((6, 60, 60))
    one = assignment_indices(scores, threads=1)
    two = assignment_indices(scores, threads=2)
    assert lsap.POOLED_ENTRIES <= 60 * 60
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: solve again, report whether the answers match, exit
        signal.alarm(20)
        child = assignment_indices(scores, threads=2)
        same = all(np.array_equal(a, b) for a, b in zip(one, child, strict=True))
        os.write(write, b"1" if same else b"0")
        os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    answer = os.read(read, 1)
    os.close(read)
    assert os.WIFEXITED(status) and answer == b"1", "the forked child hung or differed"
