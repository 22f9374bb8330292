"""Gating, connected components, the sparse augmented assignment and the gnn backend."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import InputError
from tracker.association import BACKENDS, build_associator, check_assignment, gating
from tracker.association.base import AssociationInput
from tracker.association.gating import gate, gate_threshold, pairs_within, solve_gated
from tracker.association.gnn import GnnAssociator, GnnConfig, gnn_scores


def make_scan(rng, tracks: int, detections: int, spread: float = 100.0) -> AssociationInput:
    """A random scan: tracks near the origin, some detections near tracks, some clutter."""
    states = np.concatenate([rng.uniform(-spread, spread, (tracks, 2)),
                             rng.normal(0, 5, (tracks, 2))], axis=1)
    roots = rng.normal(size=(tracks, 4, 4)) * 3
    covariances = roots @ roots.transpose(0, 2, 1) + np.eye(4) * 4
    anchors = (states[rng.integers(0, tracks, detections), :2] if tracks
               else np.zeros((detections, 2)))
    close = (rng.random(detections) < 0.6) & (tracks > 0)
    positions = np.where(close[:, None], anchors + rng.normal(0, 8, (detections, 2)),
                         rng.uniform(-spread, spread, (detections, 2)))
    det_roots = rng.normal(size=(detections, 2, 2)) * 2
    det_cov = det_roots @ det_roots.transpose(0, 2, 1) + np.eye(2) * 9
    nan = np.full(detections, np.nan)
    return AssociationInput(
        track_states=states, track_covariances=covariances, predicted_positions=states[:, :2],
        track_age=np.zeros(tracks, int), track_misses=np.zeros(tracks, int),
        detections=positions, detection_covariances=det_cov, detection_range_rate=nan,
        detection_amplitude=nan, detection_points=np.ones(detections, int),
        detection_spread=np.zeros(detections), sensor_positions=np.zeros((detections, 2)),
        detection_probability=rng.uniform(0.5, 0.99, tracks),
        clutter_density=rng.uniform(1e-5, 1e-3, detections))


def dense_mahalanobis(inputs: AssociationInput) -> np.ndarray:
    """(T, D) squared Mahalanobis distances, the straightforward way."""
    out = np.empty((inputs.num_tracks, inputs.num_detections))
    for i, j in itertools.product(range(inputs.num_tracks), range(inputs.num_detections)):
        nu = inputs.detections[j] - inputs.predicted_positions[i]
        s = inputs.track_covariances[i][:2, :2] + inputs.detection_covariances[j]
        out[i, j] = nu @ np.linalg.solve(s, nu)
    return out


def brute_force(pair: np.ndarray, row_unmatched: np.ndarray, col_unmatched: np.ndarray
                ) -> tuple[float, np.ndarray]:
    """Best total and assignment over all partial matchings (-inf pairs forbidden)."""
    rows, cols = pair.shape
    best, best_assignment = -math.inf, None
    for assignment in itertools.product(range(-1, cols), repeat=rows):
        taken = [a for a in assignment if a >= 0]
        if len(set(taken)) != len(taken):
            continue
        total = sum(row_unmatched[i] if a < 0 else pair[i, a] for i, a in enumerate(assignment))
        total += sum(col_unmatched[j] for j in range(cols) if j not in taken)
        if total > best:
            best, best_assignment = total, np.array(assignment)
    return best, best_assignment


def total_score(assignment, pair, row_unmatched, col_unmatched) -> float:
    matched = assignment >= 0
    return (pair[np.flatnonzero(matched), assignment[matched]].sum()
            + row_unmatched[~matched].sum()
            + np.delete(col_unmatched, assignment[matched]).sum())


@given(seed=st.integers(0, 2**31), tracks=st.integers(0, 8), detections=st.integers(0, 10),
       dense=st.booleans())
def test_gate_keeps_exactly_the_pairs_inside_the_chi_square_gate(seed, tracks, detections,
                                                                  dense):
    inputs = make_scan(np.random.default_rng(seed), tracks, detections)
    original = gating.DENSE_PAIRS
    gating.DENSE_PAIRS = 10**9 if dense else 0  # exercise both candidate paths
    try:
        pairs = gate(inputs, probability=0.99)
    finally:
        gating.DENSE_PAIRS = original
    expected = dense_mahalanobis(inputs) <= gate_threshold(0.99)
    np.testing.assert_array_equal(pairs.mask(), expected)
    if pairs.track_index.size:
        np.testing.assert_allclose(pairs.mahalanobis_sq,
                                   dense_mahalanobis(inputs)[pairs.track_index,
                                                             pairs.detection_index])


@given(seed=st.integers(0, 2**31), tracks=st.integers(1, 8), detections=st.integers(1, 10))
def test_dense_and_candidate_gates_give_bit_identical_pairs(seed, tracks, detections):
    """The dense path (broadcast innovations) computes exactly what the candidate path's
    ``pair_innovation`` gathers do, pair for pair."""
    inputs = make_scan(np.random.default_rng(seed), tracks, detections)
    original = gating.DENSE_PAIRS
    try:
        results = []
        for dense_limit in (10**9, 0):
            gating.DENSE_PAIRS = dense_limit
            results.append(gate(inputs, probability=0.999))
    finally:
        gating.DENSE_PAIRS = original
    dense, candidates = results
    for field in ("track_index", "detection_index", "mahalanobis_sq", "log_det"):
        assert getattr(dense, field).dtype == getattr(candidates, field).dtype
        np.testing.assert_array_equal(getattr(dense, field), getattr(candidates, field))


def test_gate_threshold_is_the_chi_square_quantile_with_two_dof():
    assert gate_threshold(0.99) == pytest.approx(-2 * math.log(0.01))


def test_components_join_tracks_sharing_detections():
    pairs = gating.GatedPairs(4, 5, np.array([0, 1, 1, 3]), np.array([0, 0, 2, 4]),
                              np.zeros(4), np.zeros(4))
    tracks, detections, count = pairs.components()
    assert tracks[0] == tracks[1] == detections[0] == detections[2]
    assert tracks[3] == detections[4] != tracks[0]
    assert len({tracks[2], detections[1], detections[3], tracks[0], tracks[3]}) == 5
    assert count == 5


@given(seed=st.integers(0, 2**31), rows=st.integers(0, 4), cols=st.integers(0, 4),
       density=st.floats(0.2, 1.0))
def test_solve_gated_equals_brute_force(seed, rows, cols, density):
    rng = np.random.default_rng(seed)
    allowed = rng.random((rows, cols)) < density
    track_index, detection_index = np.nonzero(allowed)
    pairs = gating.GatedPairs(rows, cols, track_index, detection_index,
                              np.zeros(track_index.size), np.zeros(track_index.size))
    scores = rng.normal(0, 2, track_index.size)
    row_unmatched, col_unmatched = rng.normal(-1, 1, rows), rng.normal(-1, 1, cols)
    assignment = solve_gated(pairs, scores, row_unmatched, col_unmatched)
    check_assignment(assignment, rows, cols)
    pair = np.full((rows, cols), -np.inf)
    pair[track_index, detection_index] = scores
    assert np.all(allowed[np.flatnonzero(assignment >= 0), assignment[assignment >= 0]])
    best, _ = brute_force(pair, row_unmatched, col_unmatched)
    assert total_score(assignment, pair, row_unmatched, col_unmatched) == pytest.approx(best)


@given(seed=st.integers(0, 2**31), density=st.floats(0.3, 1.0),
       blocks=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=2, max_size=4))
def test_solve_gated_batches_components_of_different_sizes_optimally(seed, density, blocks):
    """Several independent blocks, their tracks and detections shuffled: every component is
    solved in the one batched call (zero-padded gain matrices) and the total is the sum of the
    blocks' brute-force optima."""
    rng = np.random.default_rng(seed)
    rows, cols = sum(b[0] for b in blocks), sum(b[1] for b in blocks)
    pair = np.full((rows, cols), -np.inf)
    row_unmatched, col_unmatched = rng.normal(-1, 1, rows), rng.normal(-1, 1, cols)
    best, r0, c0 = 0.0, 0, 0
    for n, m in blocks:
        block = np.where(rng.random((n, m)) < density, rng.normal(0, 2, (n, m)), -np.inf)
        pair[r0:r0 + n, c0:c0 + m] = block
        best += brute_force(block, row_unmatched[r0:r0 + n], col_unmatched[c0:c0 + m])[0]
        r0, c0 = r0 + n, c0 + m
    row_order, col_order = rng.permutation(rows), rng.permutation(cols)
    pair, row_unmatched = pair[row_order][:, col_order], row_unmatched[row_order]
    col_unmatched = col_unmatched[col_order]
    track_index, detection_index = np.nonzero(np.isfinite(pair))
    pairs = gating.GatedPairs(rows, cols, track_index, detection_index,
                              np.zeros(track_index.size), np.zeros(track_index.size))
    assignment = solve_gated(pairs, pair[track_index, detection_index], row_unmatched,
                             col_unmatched)
    check_assignment(assignment, rows, cols)
    assert np.all(np.isfinite(pair[np.flatnonzero(assignment >= 0), assignment[assignment >= 0]]))
    assert total_score(assignment, pair, row_unmatched, col_unmatched) == pytest.approx(best)


@given(seed=st.integers(0, 2**31), tracks=st.integers(0, 4), detections=st.integers(0, 5))
def test_gnn_equals_brute_force_on_the_augmented_log_likelihoods(seed, tracks, detections):
    inputs = make_scan(np.random.default_rng(seed), tracks, detections, spread=30.0)
    config = GnnConfig(gate_probability=0.999)
    assignment = GnnAssociator(config).associate(inputs)
    d2 = dense_mahalanobis(inputs)
    log_det = np.log(np.linalg.det(inputs.track_covariances[:, None, :2, :2]
                                   + inputs.detection_covariances[None]))
    pd = inputs.detection_probability
    pair = np.log(pd)[:, None] - d2 / 2 - log_det / 2 - np.log(2 * np.pi)
    pair[d2 > gate_threshold(0.999)] = -np.inf
    missed, clutter = np.log1p(-pd), np.log(inputs.clutter_density)
    best, expected = brute_force(pair, missed, clutter)
    assert total_score(assignment, pair, missed, clutter) == pytest.approx(best)
    if tracks:
        # ties have probability zero with continuous random scores
        np.testing.assert_array_equal(assignment, expected)


def test_gnn_prefers_the_nearer_detection_and_leaves_far_clutter():
    rng = np.random.default_rng(0)
    inputs = make_scan(rng, 2, 0)
    inputs = AssociationInput(**{
        **inputs.__dict__,
        "track_states": np.array([[0.0, 0, 0, 0], [100.0, 0, 0, 0]]),
        "predicted_positions": np.array([[0.0, 0], [100.0, 0]]),
        "track_covariances": np.tile(np.eye(4) * 25, (2, 1, 1)),
        "detections": np.array([[2.0, 1.0], [60.0, 0.0], [99.0, -3.0]]),
        "detection_covariances": np.tile(np.eye(2) * 25, (3, 1, 1)),
        "detection_range_rate": np.full(3, np.nan), "detection_amplitude": np.full(3, np.nan),
        "detection_points": np.ones(3, int), "detection_spread": np.zeros(3),
        "sensor_positions": np.zeros((3, 2)), "clutter_density": np.full(3, 1e-6),
        "detection_probability": np.full(2, 0.9)})
    np.testing.assert_array_equal(GnnAssociator().associate(inputs), [0, 2])
    scores = gnn_scores(inputs, gate(inputs), GnnConfig())
    assert scores.missed == pytest.approx(np.log(0.1))


def test_pairs_within_finds_pairs_closer_than_the_radius():
    pairs = pairs_within(np.array([[0.0, 0], [10, 10]]), np.array([[0.0, 3], [0, 0], [20, 20]]),
                         5.0)
    found = zip(pairs.track_index.tolist(), pairs.detection_index.tolist(), strict=True)
    assert sorted(found) == [(0, 0), (0, 1)]
    np.testing.assert_allclose(sorted(pairs.mahalanobis_sq), [0.0, 9.0])


def test_check_assignment_refuses_bad_answers():
    with pytest.raises(ValueError, match="shape"):
        check_assignment(np.array([0, 1]), 3, 2)
    with pytest.raises(ValueError, match="outside"):
        check_assignment(np.array([0, 5]), 2, 2)
    with pytest.raises(ValueError, match="several tracks"):
        check_assignment(np.array([1, 1]), 2, 2)


def test_registry_builds_gnn_and_refuses_unknown_backends():
    assert isinstance(build_associator("gnn"), GnnAssociator)
    assert set(BACKENDS) == {"gnn", "jpda", "jpda-star", "learned", "mht", "sinkhorn"}
    assert build_associator("jpda-star").star and not build_associator("jpda").star
    with pytest.raises(InputError, match="unknown association backend"):
        build_associator("pmbm")


def test_large_scan_is_gated_sparsely_and_solved():
    """1,000 tracks x 2,000 detections: the k-d tree path, most tracks find their detection."""
    rng = np.random.default_rng(3)
    tracks = 1000
    states = np.concatenate([rng.uniform(-20000, 20000, (tracks, 2)), np.zeros((tracks, 2))], 1)
    covariances = np.tile(np.diag([100.0, 100, 25, 25]), (tracks, 1, 1))
    detections = np.concatenate([states[:, :2] + rng.normal(0, 5, (tracks, 2)),
                                 rng.uniform(-20000, 20000, (1000, 2))])
    count = len(detections)
    inputs = AssociationInput(
        states, covariances, states[:, :2],
        np.zeros(tracks, int), np.zeros(tracks, int), detections,
        np.tile(np.eye(2) * 25, (count, 1, 1)), np.full(count, np.nan), np.full(count, np.nan),
        np.ones(count, int), np.zeros(count), np.zeros((count, 2)),
        np.full(tracks, 0.9), np.full(count, 1e-6))
    pairs = gate(inputs)
    assert pairs.track_index.size < 3 * tracks
    assignment = GnnAssociator().associate(inputs)
    assert np.mean(assignment == np.arange(tracks)) > 0.98
