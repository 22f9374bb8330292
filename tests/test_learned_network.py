"""The association network and its augmented matrix: layout, batching, message passing, and
an untrained network reproducing the gnn baseline exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from learned_scans import random_scan, single_thread  # noqa: F401 (autouse fixture)

from tracker.association.features import build_graph, collate
from tracker.association.gating import gate
from tracker.association.gnn import GnnAssociator, GnnConfig, gnn_scores
from tracker.association.learned import AssociationModel, LearnedAssociator
from tracker.association.network import (
    AssociationNetwork,
    NetworkConfig,
    augmented_layout,
    augmented_matrices,
    gather_assignment,
    segment_softmax,
)
from tracker.perm import augmented_scores, hungarian, hungarian_augmented

CONFIG = GnnConfig()


def graph_of(scan):
    pairs = gate(scan, CONFIG.gate_probability)
    return build_graph(scan, pairs, gnn_scores(scan, pairs, CONFIG))


def perturbed_network(seed: int = 0) -> AssociationNetwork:
    """A network whose zero-initialised heads are given random weights (so outputs vary)."""
    torch.manual_seed(seed)
    network = AssociationNetwork(NetworkConfig(hidden=16, rounds=2))
    with torch.no_grad():
        for head in (network.pair_head, network.missed_head, network.clutter_head):
            head.weight.normal_()
    return network


@settings(max_examples=15)
@given(sizes=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4), st.integers(0, 4)),
                      min_size=1, max_size=4), seed=st.integers(0, 1000))
def test_each_group_gets_the_augmented_scores_of_its_tracks_and_detections(sizes, seed):
    rng = np.random.default_rng(seed)
    batch = collate([graph_of(random_scan(rng, t, s, c, spacing=20.0)) for t, s, c in sizes])
    scores = perturbed_network(seed)(batch)
    layout = augmented_layout(batch)
    matrices = [m.detach() for m in augmented_matrices(scores, layout)]
    dense = torch.full((batch.track_features.shape[0], batch.det_features.shape[0]), -torch.inf)
    dense[batch.pair_track, batch.pair_det] = scores.pair.detach()
    pair_groups = set(batch.track_group[batch.pair_track].tolist())
    assert sum(m.shape[0] for m in matrices) == len(pair_groups)
    for group in pair_groups:
        tracks = torch.nonzero(batch.track_group == group).flatten()
        dets = torch.nonzero(batch.det_group == group).flatten()
        t, d = tracks.numel(), dets.numel()
        expected = augmented_scores(dense[tracks][:, dets], scores.missed[tracks].detach(),
                                    scores.clutter[dets].detach())
        bucket, matrix = next((b, m) for b, m in zip(layout.buckets, matrices, strict=True)
                              if bool((b.tracks == tracks[0]).any()))
        slot = bucket.missed_index[0][bucket.tracks == tracks[0]]
        assert matrix.shape[-1] >= t + d > matrix.shape[-1] // 2
        assert torch.equal(matrix[slot[0], :t + d, :t + d], expected)
        padding = matrix[slot[0], t + d:, t + d:]
        assert torch.equal(padding, torch.where(torch.eye(padding.shape[0], dtype=torch.bool),
                                                0.0, -torch.inf))


def solve(scores, layout):
    return gather_assignment([hungarian(m) for m in augmented_matrices(scores, layout)], layout)


def test_solving_group_by_group_equals_solving_the_whole_frame():
    rng = np.random.default_rng(11)
    scan = random_scan(rng, 12, 9, 14, spacing=25.0)
    graph = graph_of(scan)
    assert graph.num_groups > 1
    scores = perturbed_network()(graph)
    grouped = solve(scores, augmented_layout(graph))
    dense = torch.full((12, scan.num_detections), -torch.inf)
    dense[graph.pair_track, graph.pair_det] = scores.pair.detach()
    whole = hungarian_augmented(dense, scores.missed.detach(), scores.clutter.detach())
    assert torch.equal(grouped.pair, whole[graph.pair_track, graph.pair_det])
    assert torch.equal(grouped.missed, 1.0 - whole.sum(1))
    assert torch.equal(grouped.clutter, 1.0 - whole.sum(0))


def test_gather_reads_back_what_the_matrices_hold():
    rng = np.random.default_rng(3)
    batch = collate([graph_of(random_scan(rng, 4, 3, 2)), graph_of(random_scan(rng, 2, 2, 3))])
    scores = perturbed_network()(batch)
    layout = augmented_layout(batch)
    back = gather_assignment(augmented_matrices(scores, layout), layout)
    assert torch.equal(back.pair, scores.pair)
    for name, bucket_field in (("missed", "tracks"), ("clutter", "dets")):
        inside = torch.cat([getattr(b, bucket_field) for b in layout.buckets])
        assert torch.equal(getattr(back, name)[inside], getattr(scores, name)[inside])


def test_scores_of_a_frame_do_not_depend_on_the_other_frames_in_its_batch():
    rng = np.random.default_rng(4)
    first, second = graph_of(random_scan(rng, 5, 4, 3)), graph_of(random_scan(rng, 6, 5, 6))
    network = perturbed_network()
    alone = network(first)
    together = network(collate([first, second]))
    pairs = first.pair_features.shape[0]
    torch.testing.assert_close(together.pair[:pairs], alone.pair)
    torch.testing.assert_close(together.missed[:5], alone.missed)


def test_a_pair_score_depends_on_its_competitors_in_the_row():
    rng = np.random.default_rng(5)
    graph = graph_of(random_scan(rng, 1, 1, 6, spacing=10.0))
    assert graph.pair_features.shape[0] >= 2
    network = perturbed_network()
    before = network(graph).pair[0]
    graph.pair_features[1:] += 1.0
    assert not torch.isclose(network(graph).pair[0], before)


def test_segment_softmax_sums_to_one_per_segment():
    logits = torch.tensor([1.0, 2.0, -3.0, 0.5, 100.0])
    segment = torch.tensor([0, 0, 2, 2, 3])
    weights = segment_softmax(logits, segment, 4)
    totals = torch.zeros(4).index_add(0, segment, weights)
    torch.testing.assert_close(totals, torch.tensor([1.0, 0.0, 1.0, 1.0]))


@pytest.mark.parametrize("seed", range(5))
def test_untrained_network_is_exactly_the_gnn_tracker(seed):
    rng = np.random.default_rng(seed)
    scan = random_scan(rng, 12, 10, 15, spacing=25.0)
    model = AssociationModel(AssociationNetwork(), "hste", CONFIG)
    learned = LearnedAssociator(model).associate(scan)
    np.testing.assert_array_equal(learned, GnnAssociator(CONFIG).associate(scan))


def test_hungarian_on_the_batch_assigns_every_real_row():
    rng = np.random.default_rng(6)
    batch = collate([graph_of(random_scan(rng, 3, 2, 4)), graph_of(random_scan(rng, 0, 0, 2))])
    assignment = solve(perturbed_network()(batch), augmented_layout(batch))
    per_track = torch.zeros(3).index_add(0, batch.pair_track, assignment.pair) + assignment.missed
    assert torch.equal(per_track, torch.ones(3))
