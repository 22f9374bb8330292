"""Recording training problems from a tracked scene: one problem per association call, the
detection rows of every stage, track identities and the labels they give."""

from __future__ import annotations

import numpy as np
from learned_scans import single_thread  # noqa: F401 (autouse fixture)

from sim import generate
from sim.config import MotionConfig, RadarConfig, ScenarioConfig
from tracker.association.gnn import GnnAssociator
from tracker.pipeline import Tracker, TrackerConfig
from tracker.scene_source import SceneSource, track_scene
from tracker.training_data import (
    UNKNOWN,
    SceneRecorder,
    evidence_labels,
    follow_truth,
    record_scene,
)


def scene(frames: int = 15):
    motion = MotionConfig(initial_targets=4, birth_rate=0.0, survival_prob=1.0,
                          birth_region=(-600.0, 600.0, 900.0, 1800.0))
    return generate(ScenarioConfig(frames=frames, motion=motion,
                                   sensors=(RadarConfig(clutter_rate=5.0),)), 7)


def test_recording_does_not_change_the_tracks():
    scenario, config = scene(), TrackerConfig()
    plain = track_scene(GnnAssociator(config.gnn), scenario, config)
    recorder = SceneRecorder(config.gnn)
    source = SceneSource(scenario)
    recorded = Tracker(GnnAssociator(config.gnn), source.sensors, config,
                       observers=[recorder]).run(source)
    np.testing.assert_array_equal(recorded.id, plain.id)
    np.testing.assert_array_equal(recorded.x, plain.x)
    assert recorder.identity and UNKNOWN not in recorder.identity.values()


def test_labels_give_each_track_its_own_targets_detection():
    scenario, config = scene(), TrackerConfig()
    frames = record_scene(scenario, config, GnnAssociator(config.gnn)).frames
    assert frames
    for frame in frames:
        graph, targets = frame.graph, frame.targets
        label = targets.pair_label > 0
        tracks = graph.pair_track[label]
        dets = graph.pair_det[label]
        assert tracks.unique().numel() == tracks.numel() and dets.unique().numel() == dets.numel()
        assert bool((targets.track_follows_target[tracks] == 1).all())
        assert bool((targets.clutter_label[dets] == 0).all())
        assert bool((targets.missed_label[tracks] == 0).all())
    total = sum(int(f.targets.pair_label.sum()) for f in frames)
    assert total > 0.7 * 4 * (scenario.num_frames - 2)


def test_follow_truth_is_one_to_one_and_within_the_radius():
    tracks = np.array([[0.0, 0.0], [5.0, 0.0], [500.0, 0.0]])
    truth = np.array([[4.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(follow_truth(tracks, truth), [1, 0, -1])


def test_evidence_labels_mark_one_detection_per_target_and_fragments_as_clutter():
    target = np.array([-1, 3, 3, 5, 3, 7])
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [1.0, 0.0], [5.0, 5.0], [2.0, 0.0], [9.0, 9.0]])
    labels = evidence_labels(target, xy, np.array([5, 3]), np.array([[5.0, 5.0], [0.0, 0.0]]))
    # target 3: the fragment at 1 m from its truth; 5: its only one; 7 (not in truth): its first
    np.testing.assert_array_equal(labels, [0.0, 0.0, 1.0, 1.0, 0.0, 1.0])
    assert evidence_labels(np.array([-1, -1]), np.zeros((2, 2)), np.zeros(0, dtype=np.int64),
                           np.zeros((0, 2))).tolist() == [0.0, 0.0]


def test_radar_evidence_labels_are_every_target_detection():
    recorded = record_scene(scene(), TrackerConfig(), GnnAssociator(TrackerConfig().gnn))
    from_targets = np.concatenate([scan.detections.target >= 0 for scan in SceneSource(scene())])
    np.testing.assert_array_equal(recorded.evidence.labels.numpy(), from_targets)


def test_evidence_labels_without_truth_keep_each_targets_first_measurement():
    labels = evidence_labels(np.array([4, 4, -1, 2]), np.zeros((4, 2)), np.zeros(0, dtype=np.int64),
                             np.zeros((0, 2)))
    np.testing.assert_array_equal(labels, [1.0, 0.0, 0.0, 1.0])
