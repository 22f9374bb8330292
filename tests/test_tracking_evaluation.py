"""Scoring: the motmetrics API we rely on, GOSPA, association accuracy, whole evaluations."""

import itertools
import math
from dataclasses import replace

import motmetrics as mm
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import InputError
from sim import generate
from sim.config import MotionConfig, RadarConfig, ScenarioConfig
from tracker.evaluation import EvaluationConfig, evaluate_many, gospa
from tracker.tracks_io import TrackTable


def test_motmetrics_api_norm2squared_update_compute_many():
    """The motmetrics 1.4.0 calls we use, on numpy 2 / pandas 2; distances come back squared."""
    squared = mm.distances.norm2squared_matrix(np.array([[0.0, 0.0], [10.0, 0.0]]),
                                               np.array([[3.0, 4.0], [40.0, 0.0]]), max_d2=100.0)
    assert squared[0, 0] == 25.0 and np.isnan(squared[0, 1]) and np.isnan(squared[1, 1])
    accumulator = mm.MOTAccumulator(auto_id=False)
    accumulator.update([1, 2], [5, 6], np.sqrt(squared), frameid=0)
    accumulator.update([1, 2], [6, 5], np.sqrt(squared), frameid=1)
    summary = mm.metrics.create().compute_many(
        [accumulator], metrics=["mota", "motp", "num_switches", "num_misses",
                                "num_false_positives", "idf1"], names=["a"])
    row = summary.loc["a"]
    # frame 0: 1-5 match at 5 m, 2 missed, 6 false; frame 1: 1-6 at 5 m is a switch
    assert row.num_misses == 2 and row.num_false_positives == 2 and row.num_switches == 1
    assert row.mota == pytest.approx(1 - (2 + 2 + 1) / 4)
    assert row.motp == pytest.approx(5.0)


def brute_force_gospa(truth, estimates, cutoff):
    best = math.inf
    n, m = len(truth), len(estimates)
    for assignment in itertools.product(range(-1, m), repeat=n):
        taken = [a for a in assignment if a >= 0]
        if len(set(taken)) != len(taken):
            continue
        cost = sum(min(np.sum((truth[i] - estimates[a]) ** 2), cutoff**2) if a >= 0
                   else cutoff**2 / 2 for i, a in enumerate(assignment))
        cost += cutoff**2 / 2 * (m - len(taken))
        best = min(best, cost)
    return math.sqrt(best)


@given(seed=st.integers(0, 2**31), n=st.integers(0, 4), m=st.integers(0, 4))
def test_gospa_equals_brute_force(seed, n, m):
    rng = np.random.default_rng(seed)
    truth, estimates = rng.uniform(0, 30, (n, 2)), rng.uniform(0, 30, (m, 2))
    value, localisation, missed, false = gospa(truth, estimates, cutoff=10.0)
    assert value == pytest.approx(brute_force_gospa(truth, estimates, 10.0))
    assert value**2 == pytest.approx(localisation + 50.0 * (missed + false))
    assert missed - false == n - m


def test_gospa_of_one_missed_and_one_false_target():
    value, _, missed, false = gospa(np.array([[0.0, 0.0]]), np.array([[100.0, 0.0]]), 10.0)
    assert (missed, false) == (1, 1) and value == pytest.approx(10.0)


@pytest.fixture(scope="module")
def scene():
    motion = MotionConfig(initial_targets=3, birth_rate=0.0, survival_prob=1.0,
                          birth_region=(-500.0, 500.0, 500.0, 1500.0))
    config = ScenarioConfig(frames=12, motion=motion, sensors=(RadarConfig(clutter_rate=1.0),))
    return generate(config, 5)


def truth_table(scene, ids_of=lambda frame, ids: ids) -> TrackTable:
    """Tracks sitting exactly on the truth; ``ids_of(frame, ids)`` relabels them."""
    parts = []
    for frame in range(scene.num_frames):
        truth = scene.frame_truth(frame)
        parts.append(TrackTable.from_states(frame + 1, ids_of(frame, truth.id.astype(np.int64)),
                                            truth.state, np.tile(np.eye(4), (len(truth), 1, 1)),
                                            np.ones(len(truth), bool)))
    return TrackTable.concatenate(parts)


def test_perfect_tracks_score_perfectly(scene):
    result = evaluate_many(scene, {"perfect": truth_table(scene)})["perfect"]
    summary = result.summary
    assert summary["MOTA"] == 1.0 and summary["IDF1"] == 1.0 and summary["MOTP_m"] == 0.0
    assert summary["IDSW"] == summary["FP"] == summary["FN"] == 0
    assert summary["GOSPA_mean"] == 0.0
    np.testing.assert_array_equal(result.per_frame["prop_wrong"], 0.0)
    np.testing.assert_array_equal(result.per_frame["prop_any_wrong"], 0.0)


def test_swapped_identities_show_in_switches_and_association_accuracy(scene):
    ids = np.unique(scene.truth_id)
    swap = {int(ids[0]): int(ids[1]), int(ids[1]): int(ids[0])}

    def relabel(frame, frame_ids):
        return np.array([swap.get(int(i), int(i)) if frame >= 8 else int(i) for i in frame_ids])

    result = evaluate_many(scene, {"swapped": truth_table(scene, relabel)})["swapped"]
    assert result.summary["IDSW"] == 2 and result.summary["MOTA"] < 1.0
    per_frame = result.per_frame
    # each track keeps its first target in 8 of 12 frames: that is its owner
    np.testing.assert_array_equal(per_frame["prop_wrong"][:8], 0.0)
    np.testing.assert_allclose(per_frame["prop_wrong"][8:], 2 / 3, rtol=1e-6)
    np.testing.assert_array_equal(per_frame["prop_any_wrong"][8:], 1.0)
    assert result.summary["GOSPA_mean"] == 0.0  # GOSPA ignores identities


def test_tentative_rows_are_scored_only_on_request(scene):
    table = truth_table(scene)
    tentative = replace(table, confirmed=np.zeros(len(table), bool))
    confirmed_only = evaluate_many(scene, {"t": tentative})["t"].summary
    assert confirmed_only["FN"] == len(scene.truth_id)
    everything = evaluate_many(scene, {"t": tentative},
                               EvaluationConfig(confirmed_only=False))["t"].summary
    assert everything["MOTA"] == 1.0


def test_targets_outside_every_field_of_view_are_not_scored_by_default():
    radar = RadarConfig(max_range=1200.0, clutter_rate=0.0)
    motion = MotionConfig(initial_targets=4, birth_rate=0.0, survival_prob=1.0,
                          birth_region=(-1500.0, 1500.0, -1500.0, 1500.0))
    wide = generate(ScenarioConfig(frames=5, motion=motion, sensors=(radar,)), 9)
    outside = np.hypot(*wide.truth_state[:, :2].T) > 1200.0
    assert 0 < outside.sum() < len(outside)
    table = truth_table(wide)
    seen = evaluate_many(wide, {"t": table})["t"].summary
    assert seen["GT"] == np.count_nonzero(~outside)
    every = evaluate_many(wide, {"t": table}, EvaluationConfig(visible_only=False))["t"].summary
    assert every["GT"] == len(outside) and every["MOTA"] == 1.0
    assert seen["FP"] == np.count_nonzero(outside)  # tracks on unseen targets count as false


def test_tracks_beyond_the_last_frame_are_refused(scene):
    table = truth_table(scene)
    late = replace(table, frame=table.frame + 1)
    with pytest.raises(InputError, match="outside the scene"):
        evaluate_many(scene, {"late": late})


def test_scene_scoring_is_5_m_on_point_clouds_and_50_m_on_radars():
    from sim.presets import get_preset
    from tracker.evaluation import POINT_CLOUD_SCORING, scene_scoring

    cloud = generate(get_preset("pointcloud-groups").replace(frames=2), 0)
    radar = generate(get_preset("crossing").replace(frames=2), 0)
    assert scene_scoring(cloud) == POINT_CLOUD_SCORING
    assert (POINT_CLOUD_SCORING.match_distance, POINT_CLOUD_SCORING.gospa_cutoff) == (5.0, 5.0)
    assert scene_scoring(radar) == EvaluationConfig()
