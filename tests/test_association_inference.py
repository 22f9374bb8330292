"""The numpy inference forward (NumpyScorer) against the torch network it mirrors, and the
component-wise features against their vector definitions."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from learned_scans import random_scan, single_thread  # noqa: F401 (autouse fixture)

from sim import generate
from sim.presets import get_preset
from tracker.association import features as features_module
from tracker.association.base import AssociationInput
from tracker.association.evidence import evidence_features
from tracker.association.features import (
    CONTEXT_FAR,
    build_graph,
    detection_features,
    neighbourhood,
    pair_features,
    track_features,
)
from tracker.association.gating import gate, solve_gated
from tracker.association.gnn import GnnConfig, gnn_scores
from tracker.association.inference import NumpyScorer
from tracker.association.learned import AssociationModel, LearnedAssociator, load_model
from tracker.association.network import AssociationNetwork, NetworkConfig
from tracker.pipeline import Tracker, TrackerConfig
from tracker.scene_source import SceneSource

CONFIG = GnnConfig()
CHECKPOINT = Path(__file__).resolve().parents[1] / "docs/results/unroll/crossing-end-to-end/best.pt"


def random_network(seed: int, hidden: int = 16, rounds: int = 2,
                   context: bool = False) -> AssociationNetwork:
    """Every parameter random (the zero-initialised heads too), so every layer matters."""
    torch.manual_seed(seed)
    network = AssociationNetwork(NetworkConfig.sized(hidden, rounds, context))
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.normal_(0.0, 0.5)
    return network


def torch_scores(network: AssociationNetwork, scan: AssociationInput):
    """The reference: the torch forward on the scan's PairGraph, as float64 numpy arrays."""
    pairs = gate(scan, CONFIG.gate_probability)
    with torch.no_grad():
        scores = network(build_graph(scan, pairs, gnn_scores(scan, pairs, CONFIG),
                                     context=network.config.context))
    return pairs, tuple(x.double().numpy() for x in (scores.pair, scores.missed, scores.clutter))


def numpy_scores(scorer: NumpyScorer, scan: AssociationInput):
    pairs = gate(scan, CONFIG.gate_probability)
    baseline = gnn_scores(scan, pairs, CONFIG)
    context = scorer.network.config.context
    return scorer.scores(pair_features(scan, pairs, baseline), track_features(scan, context),
                         detection_features(scan, context), pairs.track_index,
                         pairs.detection_index,
                         baseline.pair, baseline.missed, baseline.clutter)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), tracks=st.integers(1, 14), seen=st.integers(0, 14),
       clutter=st.integers(0, 20), spacing=st.sampled_from([8.0, 20.0, 60.0]),
       hidden=st.sampled_from([4, 16, 32]), rounds=st.integers(0, 3), context=st.booleans())
def test_numpy_scores_equal_the_torch_forward_and_give_the_same_assignment(
        seed, tracks, seen, clutter, spacing, hidden, rounds, context):
    rng = np.random.default_rng(seed)
    scan = random_scan(rng, tracks, seen, clutter, spacing=spacing)
    network = random_network(seed % 1000, hidden, rounds, context)
    pairs, expected = torch_scores(network, scan)
    if pairs.track_index.size == 0:
        return
    got = numpy_scores(NumpyScorer(network), scan)
    for value, reference in zip(got, expected, strict=True):
        assert value.dtype == np.float64 and value.shape == reference.shape
        np.testing.assert_allclose(value, reference, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(solve_gated(pairs, *got), solve_gated(pairs, *expected))


def test_neighbourhood_features_by_hand():
    """Three points on the x axis, variances 1 / 1 / 4 m^2: d2(0, 1) = 9 / 2 = 4.5, d2(1, 2) =
    25 / 5 = 5, d2(0, 2) = 64 / 5 = 12.8; within 3 sigma (d2 < 9): 1, 2, 1 others."""
    positions = np.array([[0.0, 0.0], [3.0, 0.0], [8.0, 0.0]])
    covariances = np.array([np.eye(2), np.eye(2), 4.0 * np.eye(2)])
    features = neighbourhood(positions, covariances)
    np.testing.assert_allclose(features[:, 0], np.log1p([4.5, 4.5, 5.0]) / 3.0, rtol=1e-12)
    np.testing.assert_array_equal(features[:, 1], np.log1p([1.0, 2.0, 1.0]))
    alone = neighbourhood(positions[:1], covariances[:1])
    np.testing.assert_array_equal(alone, [[np.log1p(CONTEXT_FAR) / 3.0, 0.0]])
    assert neighbourhood(np.zeros((0, 2)), np.zeros((0, 2, 2))).shape == (0, 2)
    coincident = neighbourhood(np.zeros((2, 2)), np.zeros((2, 2, 2)))  # zero variances
    np.testing.assert_array_equal(coincident, [[0.0, np.log1p(1.0)]] * 2)


def test_neighbourhood_in_row_chunks_equals_one_block(monkeypatch):
    rng = np.random.default_rng(3)
    positions = rng.normal(0.0, 30.0, (50, 2))
    roots = rng.normal(size=(50, 2, 2))
    covariances = roots @ roots.transpose(0, 2, 1) + np.eye(2)
    whole = neighbourhood(positions, covariances)
    monkeypatch.setattr(features_module, "_CONTEXT_ROWS", 7)
    np.testing.assert_array_equal(neighbourhood(positions, covariances), whole)


def test_dense_scan_of_many_pairs_per_track_and_detection():
    """Segments longer than 8 entries (numpy sums them pairwise, torch sequentially)."""
    scan = random_scan(np.random.default_rng(3), 30, 30, 40, spacing=4.0)
    network = random_network(3, 32, 2)
    pairs, expected = torch_scores(network, scan)
    assert np.bincount(pairs.track_index).max() > 8
    got = numpy_scores(NumpyScorer(network), scan)
    for value, reference in zip(got, expected, strict=True):
        np.testing.assert_allclose(value, reference, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(solve_gated(pairs, *got), solve_gated(pairs, *expected))


def test_evidence_equals_the_torch_log_likelihood_ratio():
    network = random_network(1)
    network.evidence.observe(clutter=300.0, target=40.0)
    scan = random_scan(np.random.default_rng(1), 5, 5, 30)
    features = evidence_features(scan)
    with torch.no_grad():
        expected = network.evidence.log_likelihood_ratio(
            torch.as_tensor(features, dtype=torch.float32)).double().numpy()
    got = NumpyScorer(network).evidence(features)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_in_place_weight_updates_are_seen_without_a_new_scorer():
    network = random_network(2)
    scorer = NumpyScorer(network)
    scan = random_scan(np.random.default_rng(2), 6, 6, 8, spacing=20.0)
    before = numpy_scores(scorer, scan)
    optimizer = torch.optim.SGD(network.parameters(), lr=0.1)
    for parameter in network.parameters():
        parameter.grad = torch.ones_like(parameter)
    optimizer.step()
    network.evidence.observe(clutter=10.0, target=5.0)
    after = numpy_scores(scorer, scan)
    assert not np.allclose(after[0], before[0])
    for value, reference in zip(after, torch_scores(network, scan)[1], strict=True):
        np.testing.assert_allclose(value, reference, rtol=1e-5, atol=1e-5)
    features = evidence_features(scan)
    with torch.no_grad():
        expected = network.evidence.log_likelihood_ratio(
            torch.as_tensor(features, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(scorer.evidence(features), expected, rtol=1e-5, atol=1e-5)


def test_layer_norms_of_one_round_must_share_eps():
    network = random_network(0)
    network.rounds[0].det_norm.eps = 1e-3
    with pytest.raises(ValueError, match="different eps"):
        NumpyScorer(network)


class TorchLearned(LearnedAssociator):
    """The learned backend as it was: the torch forward for scores and evidence."""

    def associate(self, inputs):
        pairs, (pair, missed, clutter) = torch_scores(self.model.network, inputs)
        if pairs.track_index.size == 0:
            return np.full(inputs.num_tracks, -1, dtype=np.int64)
        return solve_gated(pairs, pair, missed, clutter)

    def detection_evidence(self, inputs):
        features = torch.as_tensor(evidence_features(inputs), dtype=torch.float32)
        with torch.no_grad():
            return self.model.network.evidence.log_likelihood_ratio(features).double().numpy()


def test_committed_checkpoint_tracks_a_scene_exactly_as_the_torch_forward():
    scenario = generate(dataclasses.replace(get_preset("crossing"), frames=30), 11)
    source = SceneSource(scenario)
    model = load_model(CHECKPOINT)
    tables = [Tracker(associator, source.sensors, TrackerConfig()).run(source)
              for associator in (LearnedAssociator(model), TorchLearned(model))]
    assert len(tables[0].frame) > 100
    for column in ("frame", "id", "x", "y", "vx", "vy", "confirmed"):
        np.testing.assert_array_equal(getattr(tables[0], column), getattr(tables[1], column))


def test_untrained_scorer_adds_exactly_zero_to_the_priors():
    scan = random_scan(np.random.default_rng(4), 8, 6, 10, spacing=20.0)
    pairs = gate(scan, CONFIG.gate_probability)
    baseline = gnn_scores(scan, pairs, CONFIG)
    model = AssociationModel(AssociationNetwork(), "hste", CONFIG)
    got = numpy_scores(NumpyScorer(model.network), scan)
    for value, prior in zip(got, (baseline.pair, baseline.missed, baseline.clutter),
                            strict=True):
        np.testing.assert_array_equal(value, prior.astype(np.float32).astype(np.float64))


def _reference_pair_features(inputs, pairs, baseline):
    """The vector definitions of the pair features (module docstring of features.py)."""
    track, det = pairs.track_index, pairs.detection_index
    innovation, covariance = inputs.pair_innovation(track, det)
    velocity = inputs.track_states[track, 2:4]
    speed = np.linalg.norm(velocity, axis=-1, keepdims=True)
    along = np.where(speed > 1e-9, velocity / np.maximum(speed, 1e-9), np.array([1.0, 0.0]))
    across = np.stack([-along[:, 1], along[:, 0]], axis=-1)

    def quadratic(v, m):
        return np.einsum("ki,kij,kj->k", v, m, v)

    sight = inputs.predicted_positions[track] - inputs.sensor_positions[det]
    unit = sight / np.maximum(np.linalg.norm(sight, axis=-1, keepdims=True), 1e-9)
    variance = quadratic(unit, inputs.track_covariances[track][:, 2:4, 2:4]) + 1.0
    mismatch = ((inputs.detection_range_rate[det] - np.einsum("ki,ki->k", unit, velocity))
                / np.sqrt(variance))
    return np.stack([
        np.einsum("ki,ki->k", innovation, along) / np.sqrt(quadratic(along, covariance)),
        np.einsum("ki,ki->k", innovation, across) / np.sqrt(quadratic(across, covariance)),
        pairs.mahalanobis_sq / 10.0, pairs.log_det / 10.0,
        np.clip(np.nan_to_num(mismatch, nan=0.0), -10.0, 10.0) / 3.0,
        np.isfinite(inputs.detection_range_rate[det]).astype(float),
        np.log1p(np.linalg.norm(innovation, axis=-1)), baseline.pair / 10.0], axis=-1)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), tracks=st.integers(1, 10), clutter=st.integers(0, 10))
def test_pair_features_equal_their_vector_definitions(seed, tracks, clutter):
    rng = np.random.default_rng(seed)
    scan = random_scan(rng, tracks, tracks, clutter, spacing=15.0)
    range_rate = scan.detection_range_rate.copy()
    range_rate[rng.random(range_rate.size) < 0.3] = np.nan  # no Doppler
    range_rate[rng.random(range_rate.size) < 0.1] = np.inf
    states = scan.track_states.copy()
    states[rng.random(tracks) < 0.3, 2:4] = 0.0  # standing tracks: heading along x
    scan = AssociationInput(**{**scan.__dict__, "detection_range_rate": range_rate,
                               "track_states": states})
    pairs = gate(scan, 0.9999)
    baseline = gnn_scores(scan, pairs, CONFIG)
    np.testing.assert_allclose(pair_features(scan, pairs, baseline),
                               _reference_pair_features(scan, pairs, baseline),
                               rtol=1e-13, atol=1e-13)
