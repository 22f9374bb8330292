"""Initiator and deleter rules, and the track set bookkeeping."""

import numpy as np
import pytest

from tracker.management import (
    AnyDeleter,
    CovarianceDeleter,
    ManagementConfig,
    MissesDeleter,
    MofNInitiator,
    ScoreDropDeleter,
    ScoreInitiator,
    TrackSet,
    build_deleter,
    build_initiator,
)
from tracker.models import ConstantVelocity


def tracks_with(scans, hits, misses=None, confirmed=None, position_var=None,
                score=None, peak_score=None) -> TrackSet:
    count = len(scans)
    covariances = np.tile(np.eye(4), (count, 1, 1))
    if position_var is not None:
        covariances[:, 0, 0] = position_var
    return TrackSet(
        ids=np.arange(1, count + 1), states=np.zeros((count, 4)), covariances=covariances,
        age=np.asarray(scans) - 1, scans=np.asarray(scans), hits=np.asarray(hits),
        misses=np.zeros(count, int) if misses is None else np.asarray(misses),
        confirmed=np.zeros(count, bool) if confirmed is None else np.asarray(confirmed),
        score=np.zeros(count) if score is None else np.asarray(score, float),
        peak_score=None if peak_score is None else np.asarray(peak_score, float))


def test_m_of_n_confirms_with_m_hits_and_rejects_when_m_is_out_of_reach():
    initiator = MofNInitiator(hits=3, scans=4, speed_std=10.0)
    #                  scans: 1  2  3  3  4  4  2
    tracks = tracks_with([1, 2, 3, 3, 4, 4, 2], [1, 2, 3, 2, 2, 3, 1])
    confirm, reject = initiator.confirm(tracks)
    np.testing.assert_array_equal(confirm, [0, 0, 1, 0, 0, 1, 0])
    # 2 hits in 4 scans: out of reach; 1 hit in 2 scans: 2 more scans can still give 3
    np.testing.assert_array_equal(reject, [0, 0, 0, 0, 1, 0, 0])


def test_confirmed_tracks_are_neither_confirmed_again_nor_rejected():
    initiator = MofNInitiator(hits=3, scans=4, speed_std=10.0)
    confirm, reject = initiator.confirm(tracks_with([9], [2], confirmed=[True]))
    assert not confirm.any() and not reject.any()


def test_two_point_initiator_needs_the_next_scan():
    initiator = build_initiator(ManagementConfig(initiator="two-point"))
    confirm, reject = initiator.confirm(tracks_with([2, 2, 1], [2, 1, 1]))
    np.testing.assert_array_equal(confirm, [1, 0, 0])
    np.testing.assert_array_equal(reject, [0, 1, 0])


def test_score_initiator_is_a_sequential_ratio_test_on_tentative_tracks():
    initiator = build_initiator(ManagementConfig(initiator="score", confirm_score=9.0,
                                                 reject_score=-2.0))
    assert isinstance(initiator, ScoreInitiator)
    tracks = tracks_with([3] * 5, [3] * 5, score=[9.0, 8.9, -1.9, -2.0, 12.0],
                         confirmed=[False, False, False, False, True])
    confirm, reject = initiator.confirm(tracks)
    np.testing.assert_array_equal(confirm, [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(reject, [0, 0, 0, 1, 0])


def test_new_tracks_start_at_the_measurement_with_unknown_velocity():
    initiator = MofNInitiator(hits=2, scans=3, speed_std=15.0)
    covariance = np.array([[[4.0, 1.0], [1.0, 9.0]]])
    states, covariances = initiator.initiate(np.array([[10.0, -5.0]]), covariance,
                                             ConstantVelocity())
    np.testing.assert_array_equal(states, [[10.0, -5.0, 0.0, 0.0]])
    np.testing.assert_array_equal(covariances[0, :2, :2], covariance[0])
    np.testing.assert_array_equal(np.diag(covariances[0])[2:], [225.0, 225.0])
    assert np.count_nonzero(covariances[0, :2, 2:]) == 0


def test_misses_deleter_ends_confirmed_tracks_after_max_misses_in_a_row():
    tracks = tracks_with([9, 9, 9, 2], [5, 5, 5, 1], misses=[2, 3, 4, 3],
                         confirmed=[True, True, True, False])
    np.testing.assert_array_equal(MissesDeleter(3).delete(tracks), [0, 1, 1, 0])


def test_score_drop_deleter_ends_confirmed_tracks_fallen_below_their_peak():
    tracks = tracks_with([9] * 4 + [2], [5] * 4 + [1], confirmed=[True] * 4 + [False],
                         score=[20.0, 10.0, 10.9, -5.0, -20.0], peak_score=[20.0, 20.0, 20.0,
                                                                           4.0, 0.0])
    # drops 0, 10, 9.1 (kept: not more than 9.2), 9 and a tentative track's 20
    np.testing.assert_array_equal(ScoreDropDeleter(9.2).delete(tracks), [0, 1, 0, 0, 0])


def test_score_drop_deleter_is_configured_by_name():
    deleter = build_deleter(ManagementConfig(deleter="score-drop", score_drop=3.0))
    tracks = tracks_with([5, 5], [5, 5], misses=[9, 0], confirmed=[True, True],
                         score=[10.0, 6.9], peak_score=[11.0, 10.0])
    np.testing.assert_array_equal(deleter.delete(tracks), [0, 1])  # misses do not count


def test_peak_score_starts_at_the_score_and_only_rises():
    tracks = tracks_with([1, 1], [1, 1], score=[2.0, -1.0])
    np.testing.assert_array_equal(tracks.peak_score, [2.0, -1.0])
    lower = TrackSet(**{**tracks.__dict__, "score": np.array([1.0, 3.0])}).with_peak_scores()
    np.testing.assert_array_equal(lower.peak_score, [2.0, 3.0])
    np.testing.assert_array_equal(lower.take(np.array([1])).peak_score, [3.0])


def test_covariance_deleter_uses_the_largest_position_std():
    tracks = tracks_with([5, 5], [5, 5], position_var=[99.0**2, 101.0**2])
    np.testing.assert_array_equal(CovarianceDeleter(100.0).delete(tracks), [0, 1])


def test_configured_deleter_combines_both_rules():
    deleter = build_deleter(ManagementConfig(max_misses=2, max_position_std=50.0))
    assert isinstance(deleter, AnyDeleter)
    tracks = tracks_with([5, 5, 5], [5, 5, 5], misses=[2, 0, 0], confirmed=[True] * 3,
                         position_var=[1.0, 60.0**2, 1.0])
    np.testing.assert_array_equal(deleter.delete(tracks), [1, 1, 0])


def test_track_set_take_and_extend():
    tracks = tracks_with([1, 2, 3], [1, 2, 3])
    joined = tracks.take(np.array([2, 0])).extend(TrackSet.empty())
    np.testing.assert_array_equal(joined.ids, [3, 1])
    assert len(joined) == 2 and joined.covariances.shape == (2, 4, 4)


@pytest.mark.parametrize("changes", [dict(initiator="jpda"), dict(confirm_hits=5),
                                     dict(max_misses=0), dict(initial_speed_std=0.0),
                                     dict(confirm_score=-1.0), dict(reject_score=0.5),
                                     dict(deleter="never"), dict(score_drop=0.0),
                                     dict(score_drop=float("inf"))])
def test_bad_management_settings_are_refused(changes):
    with pytest.raises(ValueError):
        ManagementConfig(**changes)
