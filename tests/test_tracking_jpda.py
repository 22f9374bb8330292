"""jpda marginals against brute-force enumeration, the PDA update against the textbook formula,
and the weighted-association seam of the pipeline."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_tracking_association import make_scan

from sim import generate
from sim.config import MotionConfig, RadarConfig, ScenarioConfig
from tracker.association import build_associator
from tracker.association.base import WeightedAssociation, as_association
from tracker.association.gating import gate_threshold
from tracker.association.jpda import (
    JpdaAssociator,
    cluster_marginals,
    event_count,
    joint_events,
)
from tracker.evaluation import evaluate_many
from tracker.management import TrackSet
from tracker.measurements import Measurements
from tracker.pipeline import Tracker
from tracker.scene_source import SceneSource
from tracker.update import KalmanUpdate, PdaUpdate

GATE = 0.999


def brute_force_marginals(inputs, star: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(T, D) pair and (T,) miss probabilities by enumerating every joint event of the scan;
    with ``star`` (JPDA*) only the most likely event of those that detect the same tracks with
    the same detections counts."""
    tracks, detections = inputs.num_tracks, inputs.num_detections
    ratio = np.zeros((tracks, detections))
    for i, j in itertools.product(range(tracks), range(detections)):
        nu = inputs.detections[j] - inputs.predicted_positions[i]
        s = inputs.track_covariances[i][:2, :2] + inputs.detection_covariances[j]
        d2 = nu @ np.linalg.solve(s, nu)
        if d2 <= gate_threshold(GATE):
            ratio[i, j] = (inputs.detection_probability[i] * math.exp(-0.5 * d2)
                           / (2 * math.pi * math.sqrt(np.linalg.det(s)))
                           / inputs.clutter_density[j])
    miss = 1.0 - inputs.detection_probability * GATE
    events = {}
    for event in itertools.product(range(-1, detections), repeat=tracks):
        taken = [j for j in event if j >= 0]
        if len(set(taken)) < len(taken):
            continue
        weight = math.prod(ratio[i, j] if j >= 0 else miss[i] for i, j in enumerate(event))
        if weight > 0:
            events[event] = weight
    if star:
        def kind(event):  # which tracks are detected, with which detections
            return (frozenset(i for i, j in enumerate(event) if j >= 0),
                    frozenset(j for j in event if j >= 0))
        best = {}
        for event, weight in events.items():
            best[kind(event)] = max(best.get(kind(event), 0.0), weight)
        events = {event: weight for event, weight in events.items()
                  if weight == best[kind(event)]}
    pair, missed, total = np.zeros((tracks, detections)), np.zeros(tracks), 0.0
    for event, weight in events.items():
        total += weight
        for i, j in enumerate(event):
            if j >= 0:
                pair[i, j] += weight
            else:
                missed[i] += weight
    return pair / total, missed / total


def dense(association: WeightedAssociation) -> np.ndarray:
    result = np.zeros((association.num_tracks, association.num_detections))
    result[association.track_index, association.detection_index] = association.weight
    return result


@given(seed=st.integers(0, 2**31 - 1), tracks=st.integers(1, 4), detections=st.integers(0, 5),
       exact=st.booleans())
def test_marginals_equal_brute_force_enumeration(seed, tracks, detections, exact):
    """Exact enumeration, and k-best with k above the event count (so it is exact too)."""
    inputs = make_scan(np.random.default_rng(seed), tracks, detections, spread=30.0)
    associator = (JpdaAssociator() if exact
                  else JpdaAssociator(max_exact_events=1, k_best=event_count(tracks, detections),
                                      kbest_solves=10**6))
    result = as_association(associator.associate(inputs), tracks, detections)
    pair, missed = brute_force_marginals(inputs)
    np.testing.assert_allclose(dense(result), pair, atol=1e-9)
    np.testing.assert_allclose(result.missed, missed, atol=1e-9)


@given(seed=st.integers(0, 2**31 - 1), tracks=st.integers(1, 4), detections=st.integers(0, 5),
       exact=st.booleans())
def test_jpda_star_marginals_equal_brute_force_enumeration(seed, tracks, detections, exact):
    """JPDA*: exact enumeration, and k-best with every event kept."""
    inputs = make_scan(np.random.default_rng(seed), tracks, detections, spread=30.0)
    associator = (JpdaAssociator(star=True) if exact
                  else JpdaAssociator(max_exact_events=1, k_best=event_count(tracks, detections),
                                      kbest_solves=10**6, star=True))
    result = as_association(associator.associate(inputs), tracks, detections)
    pair, missed = brute_force_marginals(inputs, star=True)
    np.testing.assert_allclose(dense(result), pair, atol=1e-9)
    np.testing.assert_allclose(result.missed, missed, atol=1e-9)


def test_jpda_star_keeps_only_the_better_permutation_of_two_close_tracks():
    """Two tracks, two detections, the event classes by hand: {(0,1), (1,0)} detect both tracks
    with both detections, so JPDA* drops the worse of them; single detections and misses keep
    their weights (log weights 0 = miss, a = 0->0, b = 1->1, c = 0->1, d = 1->0)."""
    a, b, c, d = 2.0, 1.5, 1.0, 0.8
    log_ratio = np.array([[[a, c], [d, b]]])
    log_miss = np.zeros((1, 2))
    weights = {(0, 1): a + b, (1, 0): c + d, (0, 2): a, (1, 2): c, (2, 0): d, (2, 1): b,
               (2, 2): 0.0}
    for star, dropped in ((False, None), (True, (1, 0))):
        kept = {event: math.exp(w) for event, w in weights.items() if event != dropped}
        total = sum(kept.values())
        expected = np.zeros((2, 3))
        for event, w in kept.items():
            for track, column in enumerate(event):
                expected[track, column] += w / total
        got = cluster_marginals(log_ratio, log_miss, max_exact_events=100, k_best=10, star=star)
        np.testing.assert_allclose(got[0], expected, atol=1e-12)


def test_k_best_marginals_approach_the_exact_ones_on_a_large_cluster():
    """6 tracks x 7 detections in one cluster (37,633 events, flat weights): the error of the
    k-best marginals shrinks as k grows (measured 0.29, 0.12, 0.032 for seed 5)."""
    inputs = make_scan(np.random.default_rng(5), 6, 7, spread=15.0)
    exact = JpdaAssociator(max_exact_events=10**6).associate(inputs)
    errors = [np.abs(JpdaAssociator(max_exact_events=1, k_best=k, kbest_solves=10**6)
                     .associate(inputs).weight - exact.weight).max() for k in (10, 100, 1000)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 0.04


def test_large_clusters_keep_fewer_events_within_the_solve_budget():
    inputs = make_scan(np.random.default_rng(5), 6, 7, spread=15.0)
    capped = JpdaAssociator(max_exact_events=1, k_best=1000, kbest_solves=60).associate(inputs)
    ten = JpdaAssociator(max_exact_events=1, k_best=10, kbest_solves=10**6).associate(inputs)
    np.testing.assert_allclose(capped.weight, ten.weight, atol=1e-12)  # 60 // 6 = 10 events


def test_joint_events_are_every_injective_partial_assignment():
    events, one_hot = joint_events(2, 2)  # miss = 2
    assert sorted(map(tuple, events.tolist())) == [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0),
                                                    (2, 1), (2, 2)]
    assert len(events) == event_count(2, 2) == 7 and one_hot.shape == (7, 2, 3)


def one_track(state, covariance, score=0.0):
    ints = np.zeros(1, dtype=np.int64)
    return TrackSet(np.ones(1, dtype=np.int64), np.array([state], float),
                    np.array([covariance], float), ints, ints + 1, ints + 1, ints,
                    np.ones(1, bool), np.array([score]))


def measurements(xy, noise=4.0, density=1e-4):
    count = len(xy)
    return Measurements(np.array(xy, float), np.tile(np.eye(2) * noise, (count, 1, 1)),
                        np.full(count, np.nan), np.full(count, np.nan),
                        np.ones(count, np.int64), np.zeros(count), np.full(count, density),
                        np.full(count, -1))


def test_pda_update_equals_the_textbook_formula_on_hand_made_numbers():
    prior_x = np.array([0.0, 0.0, 1.0, -1.0])
    prior_p = np.diag([9.0, 16.0, 4.0, 4.0])
    prior_p[0, 2] = prior_p[2, 0] = 2.0
    tracks = one_track(prior_x, prior_p)
    scan = measurements([[3.0, 1.0], [-2.0, 4.0]])
    beta = np.array([0.5, 0.3])  # miss 0.2
    association = WeightedAssociation(1, 2, np.zeros(2, np.int64), np.arange(2), beta,
                                      np.array([0.2]))
    updated = PdaUpdate().update(tracks, association, np.ones(1, bool), np.array([0.9]), scan,
                                 np.zeros(2))
    H = np.eye(2, 4)
    S = H @ prior_p @ H.T + 4.0 * np.eye(2)
    K = prior_p @ H.T @ np.linalg.inv(S)
    nus = scan.xy - prior_x[:2]
    nu = beta @ nus
    spread = sum(b * np.outer(n, n) for b, n in zip(beta, nus, strict=True)) - np.outer(nu, nu)
    P_c = (np.eye(4) - K @ H) @ prior_p
    expected_p = 0.2 * prior_p + 0.8 * P_c + K @ spread @ K.T
    np.testing.assert_allclose(updated.states[0], prior_x + K @ nu, atol=1e-12)
    np.testing.assert_allclose(updated.covariances[0], expected_p, atol=1e-9)


def test_pda_score_is_the_tracks_likelihood_ratio_and_hits_need_half_the_weight():
    tracks = one_track([0.0, 0.0, 0.0, 0.0], np.diag([5.0, 5.0, 1.0, 1.0]), score=1.0)
    scan = measurements([[1.0, 2.0]], noise=4.0, density=1e-4)
    for miss, hit in ((0.6, False), (0.4, True)):
        association = WeightedAssociation(1, 1, np.zeros(1, np.int64), np.zeros(1, np.int64),
                                          np.array([1.0 - miss]), np.array([miss]))
        updated = PdaUpdate(GATE).update(tracks, association, np.ones(1, bool),
                                         np.array([0.8]), scan, np.zeros(1))
        s = 9.0 * np.eye(2)
        g = math.exp(-0.5 * 5.0 / 9.0) / (2 * math.pi * math.sqrt(np.linalg.det(s)))
        assert updated.score[0] == pytest.approx(1.0 + math.log(1 - 0.8 * GATE + 0.8 * g / 1e-4))
        assert updated.hits[0] == 2 + hit - 1 and updated.scans[0] == 2
        assert updated.misses[0] == (0 if hit else 1)
    out_of_view = PdaUpdate(GATE).update(tracks, WeightedAssociation.none(1, 1),
                                         np.zeros(1, bool), np.array([0.8]), scan, np.zeros(1))
    assert out_of_view.score[0] == 1.0 and out_of_view.misses[0] == 0


def test_pda_update_of_a_hard_association_is_the_kalman_update():
    tracks = one_track([0.0, 0.0, 1.0, 0.0], np.diag([5.0, 5.0, 1.0, 1.0]))
    scan = measurements([[1.0, 2.0], [40.0, 0.0]])
    association = WeightedAssociation.from_assignment(np.array([0]), 2)
    pda = PdaUpdate().update(tracks, association, np.ones(1, bool), np.array([0.9]), scan,
                             np.zeros(2))
    kalman = KalmanUpdate().update(tracks, association, np.ones(1, bool), np.array([0.9]), scan,
                                   np.zeros(2))
    np.testing.assert_allclose(pda.states, kalman.states, atol=1e-12)
    np.testing.assert_allclose(pda.covariances, kalman.covariances, atol=1e-12)


def test_kalman_update_refuses_soft_weights():
    association = WeightedAssociation(1, 2, np.zeros(2, np.int64), np.arange(2),
                                      np.array([0.5, 0.5]), np.zeros(1))
    with pytest.raises(ValueError, match="needs a hard assignment"):
        KalmanUpdate().update(one_track([0, 0, 0, 0], np.eye(4)), association, np.ones(1, bool),
                              np.array([0.9]), measurements([[0, 0], [1, 1]]), np.zeros(2))


@pytest.mark.parametrize("weight, missed, message", [
    ([0.7, 0.7], [0.0], "sum to 1"),
    ([1.2, -0.2], [0.0], "in \\[0, 1\\]"),
    ([0.5], [0.6], "sum to 1"),
])
def test_as_association_refuses_bad_weights(weight, missed, message):
    count = len(weight)
    association = WeightedAssociation(1, 2, np.zeros(count, np.int64), np.arange(count),
                                      np.array(weight), np.array(missed))
    with pytest.raises(ValueError, match=message):
        as_association(association, 1, 2)


def test_claimed_detections_reach_half_the_weight():
    association = WeightedAssociation(2, 3, np.array([0, 1, 1]), np.array([0, 0, 2]),
                                      np.array([0.3, 0.3, 0.4]), np.array([0.7, 0.3]))
    assert association.claimed().tolist() == [True, False, False]
    assert association.hard_assignment() is None


def test_jpda_tracker_follows_a_clean_radar_scene():
    motion = MotionConfig(initial_targets=5, birth_rate=0.0, survival_prob=1.0,
                          birth_region=(-1500.0, 1500.0, 500.0, 2500.0))
    scene = generate(ScenarioConfig(frames=30, motion=motion,
                                    sensors=(RadarConfig(clutter_rate=5.0),)), 1)
    source = SceneSource(scene)
    tracker = Tracker(build_associator("jpda"), source.sensors)
    assert isinstance(tracker.updater, PdaUpdate)
    summary = evaluate_many(scene, {"jpda": tracker.run(source)})["jpda"].summary
    assert summary["MOTA"] > 0.85 and summary["IDSW"] == 0 and summary["MT"] >= 4
