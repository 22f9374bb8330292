"""The detection evidence model: features, the likelihood ratio it reports, training data, and
how the tracker's scores use it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from learned_scans import random_scan, single_thread  # noqa: F401 (autouse fixture)
from test_tracking_pipeline import radar_scene

from tracker.association.base import EvidenceSource
from tracker.association.evidence import (
    NUM_EVIDENCE_FEATURES,
    DetectionEvidence,
    evidence_features,
    evidence_loss,
)
from tracker.association.gnn import GnnAssociator
from tracker.management import ManagementConfig
from tracker.pipeline import Tracker, TrackerConfig
from tracker.scene_source import SceneSource
from tracker.training_data import record_scene


def test_features_by_hand():
    scan = random_scan(np.random.default_rng(0), tracks=2, targets_seen=1, clutter=1)
    amplitude = scan.detection_amplitude.copy()
    amplitude[1] = np.nan
    scan = type(scan)(**{**scan.__dict__, "detection_amplitude": amplitude})
    features = evidence_features(scan)
    assert features.shape == (2, NUM_EVIDENCE_FEATURES)
    distance = np.linalg.norm(scan.detections[0] - scan.sensor_positions[0])
    power = min(10 ** (amplitude[0] / 10) / 100, 10.0)
    expected = [amplitude[0] / 10, power, 1.0, math.log(2.0), 0.0, math.log1p(distance / 1000)]
    np.testing.assert_allclose(features[0], expected)
    assert features[1, 0] == features[1, 1] == features[1, 2] == 0.0


def test_untrained_model_rates_every_detection_zero_and_counts_give_the_prior():
    model = DetectionEvidence(hidden=8)
    features = torch.randn(5, NUM_EVIDENCE_FEATURES)
    assert torch.equal(model.log_likelihood_ratio(features), torch.zeros(5))
    model.observe(clutter=3, target=1)
    model.observe(clutter=1, target=1)
    assert model.prior_log_odds() == pytest.approx(math.log(2 / 4))
    assert torch.allclose(model.log_likelihood_ratio(features), torch.full((5,), math.log(2.0)))


def test_trained_model_recovers_a_known_likelihood_ratio():
    # Amplitude feature ~ N(+1, 1) for targets and N(-1, 1) for clutter, 1 target per 4 clutter:
    # the true log-likelihood ratio is 2 x, whatever the mix.
    generator = torch.Generator().manual_seed(0)
    labels = (torch.rand(4000, generator=generator) < 0.2).float()
    features = torch.zeros(4000, NUM_EVIDENCE_FEATURES)
    features[:, 0] = 2 * labels - 1 + torch.randn(4000, generator=generator)
    torch.manual_seed(0)
    model = DetectionEvidence(hidden=16)
    model.observe(clutter=float((labels == 0).sum()), target=float(labels.sum()))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(300):
        optimizer.zero_grad()
        evidence_loss(model(features), labels).backward()
        optimizer.step()
    probe = torch.zeros(3, NUM_EVIDENCE_FEATURES)
    probe[:, 0] = torch.tensor([-1.0, 0.0, 1.0])
    ratio = model.log_likelihood_ratio(probe).detach()
    assert torch.allclose(ratio, torch.tensor([-2.0, 0.0, 2.0]), atol=0.3), ratio


def test_evidence_loss_of_no_detections_is_a_zero_in_the_graph():
    logits = torch.zeros(0, requires_grad=True)
    loss = evidence_loss(logits, torch.zeros(0))
    assert loss.item() == 0.0 and loss.requires_grad


def test_evidence_examples_are_every_measurement_with_its_label():
    scene, config = radar_scene(frames=5), TrackerConfig()
    examples = record_scene(scene, config, GnnAssociator(config.gnn)).evidence
    assert examples.features.shape == (scene.det_xy.shape[0], NUM_EVIDENCE_FEATURES)
    assert examples.labels.tolist() == (scene.det_target >= 0).astype(float).tolist()


class ConstantEvidence(GnnAssociator):
    """gnn association that rates every detection ``value``."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def detection_evidence(self, inputs) -> np.ndarray:
        return np.full(inputs.num_detections, self.value)


def test_tracker_adds_the_evidence_to_its_scores():
    scene = radar_scene(frames=3)
    assert isinstance(ConstantEvidence(0.0), EvidenceSource)
    assert not isinstance(GnnAssociator(), EvidenceSource)
    config = TrackerConfig(management=ManagementConfig(confirm_score=9.2))
    source = SceneSource(scene)
    first = source.frame_scans(0)
    strong = Tracker(ConstantEvidence(20.0), source.sensors, config)
    tracks = strong.step(float(scene.frame_times[0]), first)
    # born with score 20 >= 9.2: confirmed in the frame that started them
    assert len(tracks) == len(first[0].detections) and tracks.confirmed.all()
    assert np.allclose(tracks.score, 20.0)
    weak = Tracker(ConstantEvidence(-5.0), source.sensors, config)
    # born with score -5 <= -2.3: rejected at once
    assert len(weak.step(float(scene.frame_times[0]), first)) == 0
    plain = Tracker(GnnAssociator(), source.sensors, config)
    plain_tracks = plain.step(float(scene.frame_times[0]), first)
    assert not plain_tracks.confirmed.any() and np.all(plain_tracks.score == 0.0)
    # a hit adds the evidence on top of the kinematic increment
    mid = Tracker(ConstantEvidence(1.5), source.sensors, config)
    mid.step(float(scene.frame_times[0]), first)
    for tracker in (plain, mid):
        tracker.step(float(scene.frame_times[1]), source.frame_scans(1))
    common = np.intersect1d(plain.tracks.ids, mid.tracks.ids)
    hit = plain.tracks.hits[np.isin(plain.tracks.ids, common)] == 2
    gap = (mid.tracks.score[np.isin(mid.tracks.ids, common)]
           - plain.tracks.score[np.isin(plain.tracks.ids, common)])
    assert hit.any() and np.allclose(gap[hit], 3.0)
