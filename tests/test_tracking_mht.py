"""mht: the global-hypothesis solver against brute force, N-scan revision of a decision on a
hand-made scene, window 1 against gnn, and the backend's seams and settings."""

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import generate
from sim.presets import get_preset
from tracker.association import build_associator
from tracker.association.base import DETECTION_ID_STRIDE, MISSED, AssociationInput
from tracker.association.hypothesis_selection import (
    NO_KEY,
    NoGlobalHypothesis,
    best_hypotheses,
)
from tracker.association.mht import MhtAssociator, MhtConfig
from tracker.filtering import update
from tracker.management import TrackSet
from tracker.models import MotionModels, build_motion_model
from tracker.pipeline import TrackerConfig
from tracker.scene_source import track_scene


def brute_force_best(track, score, keys, num_tracks):
    """Best total over every choice of one hypothesis per track with distinct keys (None if
    there is no such choice)."""
    options = [np.flatnonzero(track == t) for t in range(num_tracks)]
    best = None
    for choice in itertools.product(*options):
        used = keys[list(choice)]
        used = used[used >= 0]
        if np.unique(used).size == used.size:
            total = score[list(choice)].sum()
            best = total if best is None else max(best, total)
    return best


@st.composite
def hypothesis_sets(draw):
    tracks = draw(st.integers(1, 4))
    counts = draw(st.lists(st.integers(1, 4), min_size=tracks, max_size=tracks))
    track = np.repeat(np.arange(tracks), counts)
    score = np.array(draw(st.lists(st.floats(-20, 20), min_size=track.size,
                                   max_size=track.size)))
    window = draw(st.integers(1, 3))
    keys = np.full((track.size, window), NO_KEY, dtype=np.int64)
    for h in range(track.size):  # distinct keys per scan column, so a hypothesis never repeats one
        for w in range(window):
            if draw(st.booleans()):
                keys[h, w] = w * 10 + draw(st.integers(0, 3))
    return track, score, keys, tracks


@settings(max_examples=300, deadline=None)
@given(hypothesis_sets(), st.sampled_from([0, 4096]))
def test_best_hypotheses_is_the_brute_force_optimum(problem, enumeration_limit):
    # enumeration_limit 0: every clashing component goes to the integer program
    track, score, keys, tracks = problem
    expected = brute_force_best(track, score, keys, tracks)
    if expected is None:
        with pytest.raises(NoGlobalHypothesis):
            best_hypotheses(track, score, keys, tracks, enumeration_limit)
        return
    chosen = best_hypotheses(track, score, keys, tracks, enumeration_limit)
    assert np.array_equal(track[chosen], np.arange(tracks))
    used = keys[chosen][keys[chosen] >= 0]
    assert np.unique(used).size == used.size
    assert score[chosen].sum() == pytest.approx(expected, abs=1e-9)


def test_best_hypotheses_resolves_a_clash_on_a_past_detection():
    # Both tracks' best hypotheses used detection 7 a scan ago; track 0 loses less by giving
    # it up (5 -> 4.5) than track 1 (6 -> 1), so track 1 keeps it.
    track = np.array([0, 0, 1, 1])
    score = np.array([5.0, 4.5, 6.0, 1.0])
    keys = np.array([[7, 20], [NO_KEY, 20], [7, NO_KEY], [NO_KEY, 21]])
    for limit in (0, 4096):  # integer program, enumeration
        assert best_hypotheses(track, score, keys, 2, limit).tolist() == [1, 2]
        # this scan's detection 20 is shared too once track 1's alternative takes it
        keys[3] = [NO_KEY, 20]
        assert best_hypotheses(track, score, keys, 2, limit).tolist() == [1, 2]
        keys[3] = [NO_KEY, 21]


def test_best_hypotheses_refuses_a_track_without_hypotheses():
    with pytest.raises(ValueError, match="every track"):
        best_hypotheses(np.array([0, 0]), np.zeros(2), np.full((2, 1), NO_KEY), 2)


MODELS = MotionModels((build_motion_model("cv", 1.0),))


def scan_input(tracks: TrackSet, detections, time, pd=0.9, density=1e-4) -> AssociationInput:
    """The scan at ``time`` (s, its number too) of ``detections`` (D, 2) m, as a Tracker
    gives it."""
    count = len(detections)
    return AssociationInput(
        track_states=tracks.states, track_covariances=tracks.covariances,
        predicted_positions=tracks.positions, track_age=tracks.age, track_misses=tracks.misses,
        detections=np.array(detections, float),
        detection_covariances=np.tile(np.eye(2) * 4.0, (count, 1, 1)),
        detection_range_rate=np.full(count, np.nan), detection_amplitude=np.full(count, np.nan),
        detection_points=np.ones(count, np.int64), detection_spread=np.zeros(count),
        sensor_positions=np.zeros((count, 2)), detection_probability=np.full(len(tracks), pd),
        clutter_density=np.full(count, density), track_ids=tracks.ids, track_model=tracks.model,
        scan_time=time, detection_ids=detection_ids(time, count))


def detection_ids(time, count):
    return int(time) * DETECTION_ID_STRIDE + np.arange(count)


def start_track() -> TrackSet:
    ints = np.zeros(1, dtype=np.int64)
    return TrackSet(np.ones(1, dtype=np.int64), np.array([[0.0, 0.0, 10.0, 0.0]]),
                    np.diag([4.0, 4.0, 25.0, 25.0])[None], ints, ints + 1, ints + 1, ints,
                    np.ones(1, bool), np.zeros(1))


def step(mht: MhtAssociator, tracks: TrackSet, detections, time, dt=1.0):
    """One scan as the tracker runs it: predict, associate (only with detections), update."""
    states, covariances = MODELS.predict(tracks.states, tracks.covariances, tracks.model, dt)
    predicted = dataclasses.replace(tracks, states=states, covariances=covariances)
    assignment = (mht.associate(scan_input(predicted, detections, time)) if detections
                  else None)
    after = mht.updater().update(predicted, None, np.ones(1, bool), np.full(1, 0.9), None, None)
    return assignment, after


CV_H = np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0]])


def kalman_path(detections_by_scan):
    """The Kalman filter's state and covariance after the detections, one per scan."""
    states, covariances = start_track().states, start_track().covariances
    for detection in detections_by_scan:
        states, covariances = MODELS.predict(states, covariances, np.zeros(1, np.int64), 1.0)
        posterior = update(states, covariances, np.array([detection], float),
                           np.eye(2)[None] * 4.0, CV_H)
        states, covariances = posterior.states, posterior.covariances
    return states, covariances


def test_a_later_scan_revises_a_decision_within_the_window():
    # The target turns away (y: 0 -> -4 -> -12). In scan 1 a clutter detection at y = +1 is
    # nearer the prediction than the target's at y = -4; scan 2's detection at y = -12 fits only
    # the branch that took y = -4. gnn (window 1) keeps the clutter; window 2 moves the track
    # to the branch through the target's detections.
    scan1, scan2 = [[10.0, 1.0], [10.0, -4.0]], [[20.0, -12.0]]
    for window, first in ((1, 0), (2, 0)):
        mht = MhtAssociator(settings=MhtConfig(window=window))
        mht.use_motion_models(MODELS)
        assignment, tracks = step(mht, start_track(), scan1, 1.0)
        assert assignment.tolist() == [first]  # nearest in scan 1 either way
        assignment, tracks = step(mht, tracks, scan2, 2.0)
        assert assignment.tolist() == [0]
        through = scan1[0] if window == 1 else scan1[1]
        expected_states, expected_covariances = kalman_path([through, scan2[0]])
        np.testing.assert_allclose(tracks.states, expected_states, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(tracks.covariances, expected_covariances, rtol=1e-9,
                                   atol=1e-9)
        assert tracks.hits.tolist() == [3] and tracks.misses.tolist() == [0]


def test_the_score_is_the_chosen_branchs_log_likelihood_ratio():
    mht = MhtAssociator(settings=MhtConfig(window=2))
    mht.use_motion_models(MODELS)
    _, tracks = step(mht, start_track(), [[10.0, 1.0], [10.0, -4.0]], 1.0)
    _, after = step(mht, tracks, [], 2.0)  # no detections, no association: a miss
    assert after.score[0] == pytest.approx(tracks.score[0] + np.log1p(-0.9))
    assert after.misses.tolist() == [1]


def test_window_one_is_gnn_on_a_simulated_scene():
    scenario = generate(get_preset("crossing").replace(frames=30), 7)
    gnn = track_scene(build_associator("gnn"), scenario)
    mht = track_scene(MhtAssociator(settings=MhtConfig(window=1, max_hypotheses=10_000,
                                                        prune_log_ratio=1e9)), scenario)
    assert len(gnn) == len(mht) > 0
    assert np.array_equal(gnn.id, mht.id)
    np.testing.assert_allclose(gnn.x, mht.x, rtol=0, atol=1e-9)


def test_mht_tracks_a_scene_and_keeps_its_hypotheses_bounded():
    scenario = generate(get_preset("crossing").replace(frames=20), 3)
    mht = MhtAssociator(settings=MhtConfig(window=3, max_hypotheses=4))
    table = track_scene(mht, scenario)
    assert len(table) > 0
    counts = np.unique(mht.leaves.owner, return_counts=True)[1]
    assert counts.max() <= 4
    # hypotheses of tracks deleted in the last frame go at the next scan's update
    assert np.isin(mht.leaves.owner, table.id[table.frame >= table.frame.max() - 1]).all()


def test_mht_outside_a_tracker_says_what_it_needs():
    mht = MhtAssociator()
    inputs = scan_input(start_track(), [[0.0, 0.0]], 1.0)
    with pytest.raises(ValueError, match="tracker.pipeline.Tracker"):
        mht.associate(inputs)
    mht.use_motion_models(MODELS)
    with pytest.raises(ValueError, match="detection ids"):
        mht.associate(dataclasses.replace(inputs, detection_ids=None))


def test_a_new_track_whose_first_detection_a_revised_branch_takes_is_rejected():
    # As in the revision test, but the target's detection in scan 1, left by the established
    # track, starts a new tentative track. Scan 2 moves the established track to the branch
    # through that detection, so the new track's only hypotheses hold a detection taken: it is
    # rejected, and the tracker deletes it.
    mht = MhtAssociator(settings=MhtConfig(window=2))
    mht.use_motion_models(MODELS)
    _, tracks = step(mht, start_track(), [[10.0, 1.0], [10.0, -4.0]], 1.0)
    ints = np.zeros(1, dtype=np.int64)
    born = TrackSet(np.array([2]), np.array([[10.0, -4.0, 0.0, 0.0]]),
                    np.diag([4.0, 4.0, 400.0, 400.0])[None], ints, ints + 1, ints + 1, ints,
                    np.zeros(1, bool), np.zeros(1))
    mht.tracks_born(born, detection_ids(1.0, 2)[1:], 1.0)
    assert mht.rejected(np.array([1, 2])).tolist() == [False, False]
    both = tracks.extend(born)  # scan 2: only the established track is associated (its
    states, covariances = MODELS.predict(both.states, both.covariances, both.model, 1.0)
    both = dataclasses.replace(both, states=states, covariances=covariances)
    assignment = mht.associate(scan_input(both.take(np.array([0])), [[20.0, -12.0]], 2.0))
    assert assignment.tolist() == [0]  # stage takes the one detection; none left for the next)
    mht.updater().update(both, None, np.ones(2, bool), np.full(2, 0.9), None, None)
    assert mht.rejected(both.ids).tolist() == [False, True]
    assert mht.rejected(both.ids).tolist() == [False, False]  # each rejection is said once
    assert set(mht.leaves.owner.tolist()) == {1}


@pytest.mark.parametrize("bad", [{"window": 0}, {"max_hypotheses": 0},
                                 {"prune_log_ratio": 0.0}, {"window": 10**6}])
def test_mht_settings_are_checked(bad):
    with pytest.raises(ValueError):
        MhtConfig(**bad)


def test_mht_settings_come_from_the_tracker_toml(tmp_path):
    path = tmp_path / "tracker.toml"
    path.write_text("[mht]\nwindow = 4\nmax_hypotheses = 5\n")
    config = TrackerConfig.from_toml(path)
    assert config.mht == MhtConfig(window=4, max_hypotheses=5)


def test_mht_assignment_is_missed_without_detections_in_the_gate():
    mht = MhtAssociator()
    mht.use_motion_models(MODELS)
    assignment, tracks = step(mht, start_track(), [[500.0, 500.0]], 1.0)
    assert assignment.tolist() == [MISSED] and tracks.misses.tolist() == [1]


def map_sequence_states(start: TrackSet, scans, pd, density, sigma):
    """Final states of the two tracks of ``start`` under the most likely sequence of joint
    assignments of every scan (each track a detection or a miss, none shared), by brute force:
    each track's branch filtered and scored as mht scores it."""
    from tracker.association.gating import gate_threshold

    def branch(row, choice):
        x, p, total = start.states[row:row + 1], start.covariances[row:row + 1], 0.0
        for detections, taken in zip(scans, choice, strict=True):
            x, p = MODELS.predict(x, p, np.zeros(1, np.int64), 1.0)
            if taken < 0:
                total += np.log1p(-pd)
                continue
            s = p[0, :2, :2] + np.eye(2) * sigma**2
            nu = detections[taken] - x[0, :2]
            d2 = nu @ np.linalg.solve(s, nu)
            if d2 > gate_threshold(0.999):
                return -np.inf, None
            total += (np.log(pd) - d2 / 2 - np.log(np.linalg.det(s)) / 2 - np.log(2 * np.pi)
                      - np.log(density))
            posterior = update(x, p, detections[taken][None], np.eye(2)[None] * sigma**2, CV_H)
            x, p = posterior.states, posterior.covariances
        return total, x[0]

    options = [[(a, b) for a in range(-1, len(d)) for b in range(-1, len(d)) if a < 0 or a != b]
               for d in scans]
    best, states = -np.inf, None
    for sequence in itertools.product(*options):
        (score_a, state_a), (score_b, state_b) = (
            branch(row, [pair[row] for pair in sequence]) for row in (0, 1))
        if score_a + score_b > best:
            best, states = score_a + score_b, np.stack([state_a, state_b])
    return states


@pytest.mark.parametrize("seed", [0, 1, 55, 68])
def test_an_unpruned_window_reports_the_most_likely_assignment_sequence(seed):
    # Two targets 25 m apart (2.5 sigma), Pd 0.9: with a window longer than the scene and no
    # pruning, the tracks' states are those of the brute-force best sequence of joint
    # assignments over every scan (checked on seeds 0-79). Seeds 55 and 68 are two of those
    # where scan-by-scan gnn (window 1) ends elsewhere, so the test tells the two apart.
    rng, pd, density, sigma = np.random.default_rng(seed), 0.9, 1e-6, 10.0
    ints = np.zeros(2, dtype=np.int64)
    tracks = TrackSet(np.array([1, 2]), np.array([[0.0, 0, 100, 0], [0.0, 25, 100, 0]]),
                      np.tile(np.diag([100.0, 100, 25, 25]), (2, 1, 1)), ints, ints + 1,
                      ints + 1, ints, np.ones(2, bool), np.zeros(2))
    scans = []
    for k in (1, 2, 3):
        seen = rng.random(2) < pd
        truth = np.array([[100.0 * k, 0.0], [100.0 * k, 25.0]])[seen]
        scans.append(truth + rng.normal(0, sigma, truth.shape))
    expected = map_sequence_states(tracks, scans, pd, density, sigma)
    mht = MhtAssociator(settings=MhtConfig(window=4, max_hypotheses=10_000,
                                           prune_log_ratio=1e9))
    mht.use_motion_models(MODELS)
    mht.tracks_born(tracks, np.array([10**12, 10**12 + 1]), 0.0)
    for k, detections in enumerate(scans, 1):
        states, covariances = MODELS.predict(tracks.states, tracks.covariances, tracks.model, 1.0)
        tracks = dataclasses.replace(tracks, states=states, covariances=covariances)
        if len(detections):
            mht.associate(dataclasses.replace(
                scan_input(tracks, detections.tolist(), float(k), pd=pd, density=density),
                detection_covariances=np.tile(np.eye(2) * sigma**2, (len(detections), 1, 1))))
        tracks = mht.updater().update(tracks, None, np.ones(2, bool), np.full(2, pd), None, None)
    np.testing.assert_allclose(tracks.states, expected, rtol=1e-9, atol=1e-9)


def test_mht_takes_no_other_updater_and_no_tracks_is_no_assignment():
    from tracker.pipeline import Tracker
    from tracker.scene_source import SceneSource
    from tracker.update import KalmanUpdate

    source = SceneSource(generate(get_preset("crossing").replace(frames=2), 1))
    with pytest.raises(ValueError, match="own update step"):
        Tracker(MhtAssociator(), source.sensors, updater=KalmanUpdate())
    mht = MhtAssociator()
    mht.use_motion_models(MODELS)
    empty = start_track().take(np.zeros(0, dtype=np.int64))
    assert mht.associate(scan_input(empty, [[0.0, 0.0]], 1.0)).shape == (0,)
