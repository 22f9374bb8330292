"""The Tracker end to end on small simulated scenes, and its TOML config."""

import numpy as np
import pytest

from common.errors import InputError
from sim import generate
from sim.config import MotionConfig, PointCloudConfig, RadarConfig, ScenarioConfig
from tracker.association.gnn import GnnAssociator
from tracker.evaluation import EvaluationConfig, evaluate_many
from tracker.management import ManagementConfig
from tracker.pipeline import Tracker, TrackerConfig
from tracker.scene_source import SceneSource, drop_invalid_detections, track_scene
from tracker.sensors import CartesianSensor
from tracker.sources import position_scan

MOTION = MotionConfig(initial_targets=5, birth_rate=0.0, survival_prob=1.0,
                      birth_region=(-1500.0, 1500.0, 500.0, 2500.0))


RADAR = RadarConfig(clutter_rate=5.0)


def radar_scene(seed=1, frames=30, sensors=(RADAR,)):
    return generate(ScenarioConfig(frames=frames, motion=MOTION, sensors=sensors), seed)


def test_gnn_tracker_follows_every_target_of_a_clean_radar_scene():
    scene = radar_scene()
    table = track_scene(GnnAssociator(), scene)
    summary = evaluate_many(scene, {"gnn": table})["gnn"].summary
    # one of the five targets loses 2 of its first 4 detections and confirms late (seed 1)
    assert summary["MOTA"] > 0.85 and summary["IDSW"] == 0 and summary["MT"] >= 4
    # rows come per frame, ids stay unique within a frame
    assert np.all(np.diff(table.frame) >= 0)
    keys = table.frame * 10**6 + table.id
    assert np.unique(keys).size == keys.size


def test_two_overlapping_radars_give_one_track_per_target():
    sensors = (RadarConfig(clutter_rate=2.0),
               RadarConfig(position=(3000.0, 0.0), orientation=np.pi, clutter_rate=2.0))
    scene = radar_scene(sensors=sensors)
    table = track_scene(GnnAssociator(), scene)
    last = table.take((table.frame == scene.num_frames) & table.confirmed)
    assert len(last) == 5
    summary = evaluate_many(scene, {"gnn": table})["gnn"].summary
    assert summary["FP"] <= 5 and summary["MOTA"] > 0.85


def test_point_cloud_scene_is_tracked_from_centroids():
    lidar = PointCloudConfig(position=(0.0, 0.0), max_range=100.0, extent=(2.3, 0.9),
                             clutter_rate=5.0)
    motion = MotionConfig(initial_targets=4, birth_rate=0.0, survival_prob=1.0,
                          birth_region=(-40.0, 40.0, -40.0, 40.0), speed_range=(1.0, 8.0))
    scene = generate(ScenarioConfig(frames=40, dt=0.1, motion=motion, sensors=(lidar,)), 2)
    config = TrackerConfig(noise_diff_coeff=1.0, cluster_distance=2.0,
                           management=ManagementConfig(initial_speed_std=8.0))
    table = track_scene(GnnAssociator(config.gnn), scene, config)
    summary = evaluate_many(scene, {"gnn": table},
                            EvaluationConfig(match_distance=3.0, gospa_cutoff=3.0))["gnn"].summary
    assert summary["MOTA"] > 0.8 and summary["IDSW"] <= 2


def test_track_scores_add_log_likelihood_ratios_of_hits_and_misses():
    """One clean target, no clutter: the score climbs on every hit and drops by log(1 - Pd) on
    every miss."""
    radar = RadarConfig(clutter_rate=0.0, detection_prob=0.7)
    motion = MotionConfig(initial_targets=1, birth_rate=0.0, survival_prob=1.0,
                          birth_region=(0.0, 0.0, 1000.0, 1000.0), speed_range=(10.0, 10.0))
    scene = generate(ScenarioConfig(frames=12, motion=motion, sensors=(radar,)), 0)
    source = SceneSource(scene)
    tracker = Tracker(GnnAssociator(), source.sensors)
    checked = {"hit": 0, "miss": 0}
    previous = None
    for frame in range(scene.num_frames):
        detections = scene.frame_detections(frame)
        tracks = tracker.step(float(scene.frame_times[frame]), source.frame_scans(frame))
        if previous is not None and len(tracks) == 1:
            if len(detections) == 0:
                assert tracks.score[0] == pytest.approx(previous + np.log(0.3))
                checked["miss"] += 1
            else:
                assert tracks.score[0] > previous
                checked["hit"] += 1
        previous = tracks.score[0] if len(tracks) == 1 else None
    assert checked["hit"] >= 3 and checked["miss"] >= 1, checked
    assert tracks.confirmed.all()


@pytest.mark.parametrize("pd, misses_kept", [(0.9, 3), (0.7, 7)])
def test_score_drop_deletion_tolerates_more_misses_where_pd_is_lower(pd, misses_kept):
    """A target seen 8 times and then never again: with the score-drop rule (drop 9.2) its track
    lives through -9.2 / log(1 - pd) misses in a row (3 at Pd 0.9, 7 at 0.7) and is deleted at
    the next; the misses rule (4) deletes it after 4 misses whatever Pd is."""
    sensor = CartesianSensor(sigma=2.0, pd=pd, clutter_rate=1.0, region=(-2000, 2000, -2000, 2000))
    lives = {}
    for deleter in ("score-drop", "misses"):
        config = TrackerConfig(management=ManagementConfig(deleter=deleter))
        tracker = Tracker(GnnAssociator(), (sensor,), config)
        for frame in range(8):
            tracks = tracker.step(float(frame), [position_scan(frame, [[10.0 * frame, 0.0]])])
        assert tracks.confirmed.all() and len(tracks) == 1
        frame = 8
        while len(tracker.step(float(frame), [position_scan(frame, np.zeros((0, 2)))])):
            frame += 1
        lives[deleter] = frame - 8  # scans without a detection the track lived through
    assert lives == {"score-drop": misses_kept, "misses": 3}


def test_tracks_that_leave_every_field_of_view_are_deleted():
    radar = RadarConfig(max_range=1100.0, clutter_rate=0.0, detection_prob=1.0)
    motion = MotionConfig(initial_targets=1, birth_rate=0.0, survival_prob=1.0,
                          birth_region=(0.0, 0.0, 1000.0, 1000.0), speed_range=(30.0, 30.0))
    scene = generate(ScenarioConfig(frames=20, motion=motion, sensors=(radar,)), 1)
    table = track_scene(GnnAssociator(), scene)
    ranges = np.hypot(table.x, table.y)
    assert ranges.max() <= 1100.0
    leaving = np.hypot(*scene.truth_state[:, :2].T) > 1100.0
    assert leaving.any()  # the target does leave, so tracks had to stop
    last_truth_in_view = scene.truth_frame[~leaving].max() + 1
    assert table.frame.max() <= last_truth_in_view + 1


def test_injected_components_replace_the_configured_ones():
    class NeverAssociate:
        def associate(self, inputs):
            return np.full(inputs.num_tracks, -1)

    scene = radar_scene(frames=6)
    table = track_scene(NeverAssociate(), scene)
    # every detection starts a track that never gets a second hit, so none is confirmed
    assert not table.confirmed.any()
    assert table.id.max() == len(scene.det_frame)


def test_nan_detections_are_dropped_and_counted():
    scene = radar_scene(frames=5)
    xy = scene.det_xy.copy()
    xy[[0, 3]] = np.nan
    broken = scene.__class__(**{**scene.__dict__, "det_xy": xy})
    cleaned, dropped = drop_invalid_detections(broken)
    assert dropped == 2 and len(cleaned.det_frame) == len(scene.det_frame) - 2
    assert cleaned.det_offsets[-1] == len(cleaned.det_frame)
    assert np.isfinite(cleaned.det_xy).all()


def test_tracker_config_reads_toml_sections(tmp_path):
    path = tmp_path / "tracker.toml"
    path.write_text('motion_model = "ct"\nturn_rate_std = 0.05\nnoise_diff_coeff = 2.5\n'
                    '[management]\ninitiator = "two-point"\nmax_misses = 5\n'
                    '[gnn]\ngate_probability = 0.99\n')
    config = TrackerConfig.from_toml(path)
    assert config.motion_model == "ct" and config.turn_rate_std == 0.05
    assert config.management.initiator == "two-point" and config.management.max_misses == 5
    assert config.gnn.gate_probability == 0.99
    assert config.management.confirm_hits == ManagementConfig().confirm_hits


@pytest.mark.parametrize(("text", "message"), [
    ("colour = 1\n", "unknown setting"),
    ("[management]\nmax_misses = 0\n", "max_misses"),
    ('motion_model = "imm"\n', "unknown motion model"),
    ('motion_model = "ct"\nturn_rate_std = -0.1\n', "turn_rate_noise and turn_rate_std must"),
    ("turn_rate_noise = -1.0\n", "turn_rate_noise and turn_rate_std must"),
    ("motion_model = 2\n", "tracker.motion_model = 2: expected a value like 'cv'"),
    ("turn_rate = 0.1\n", r"unknown setting\(s\) turn_rate"),
    ("[gnn]\ngate_probability = 'high'\n", "gate"),
    ("not toml at all [\n", "TOML"),
])
def test_bad_tracker_configs_raise_input_error(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        TrackerConfig.from_toml(path)


class ReportLog:
    """A scan observer that keeps every report."""

    def __init__(self):
        self.reports = []

    def observe_scan(self, report):
        self.reports.append(report)


def test_observers_see_every_scan_its_problems_and_the_tracks_it_starts():
    scenario = radar_scene(frames=6)
    source = SceneSource(scenario)
    log = ReportLog()
    tracker = Tracker(GnnAssociator(), source.sensors, observers=[log])
    ids_before = set()
    for frame in range(scenario.num_frames):
        tracks = tracker.step(float(scenario.frame_times[frame]), source.frame_scans(frame))
        report = log.reports[-1]
        assert len(log.reports) == frame + 1  # one sensor: one report per frame
        # Births are exactly the new ids; each starts at its measurement's position.
        new_ids = set(tracks.ids.tolist()) - ids_before
        assert new_ids <= set(report.born_ids.tolist())
        for track_id, row in zip(report.born_ids, report.born_rows, strict=True):
            if track_id in tracks.ids:
                state = tracks.states[np.flatnonzero(tracks.ids == track_id)[0]]
                np.testing.assert_array_equal(state[:2], report.measurements.xy[row])
        for problem in report.problems:
            assert problem.track_ids.shape == (problem.inputs.num_tracks,)
            np.testing.assert_array_equal(problem.inputs.detections,
                                          report.measurements.xy[problem.detection_rows])
        ids_before = set(tracks.ids.tolist())
    assert any(report.problems for report in log.reports)
