"""The three training objectives: exact values on known assignments, per-scene averaging (what
makes data-parallel ranks agree), training steps that reduce the loss, and a network that learns
to associate far better than chance from the features alone."""

from __future__ import annotations

import numpy as np
import torch
from learned_scans import random_scan, single_thread  # noqa: F401 (autouse fixture)

from tracker.association.features import build_graph, collate
from tracker.association.gating import gate, gate_threshold
from tracker.association.gnn import GnnConfig, gnn_scores
from tracker.association.losses import (
    LOSSES,
    TRUTH_WEIGHT,
    FrameTargets,
    OperatorConfig,
    association_loss,
)
from tracker.association.network import (
    AssociationNetwork,
    AssociationScores,
    NetworkConfig,
    augmented_layout,
    augmented_matrices,
    gather_assignment,
)
from tracker.perm import hungarian
from tracker.training_data import TrainingFrame, frame_targets

CONFIG = GnnConfig()


def labelled_frame(rng: np.random.Generator, tracks: int = 8, seen: int = 6, clutter: int = 8,
                   spacing: float = 25.0) -> TrainingFrame:
    """A random scan whose detection j < seen is track j's target (id j + 1) at its position."""
    scan = random_scan(rng, tracks, seen, clutter, spacing)
    pairs = gate(scan, CONFIG.gate_probability)
    det_target = np.concatenate([np.arange(1, min(seen, tracks) + 1), -np.ones(clutter, int)])
    targets = frame_targets(scan, pairs, det_target, np.arange(1, tracks + 1),
                            scan.track_states[:, :2], gate_threshold(CONFIG.gate_probability))
    return TrainingFrame(build_graph(scan, pairs, gnn_scores(scan, pairs, CONFIG)), targets)


def batch_of(frames: list[TrainingFrame]):
    graph = collate([f.graph for f in frames])
    targets = FrameTargets.concatenate([f.targets for f in frames])
    groups = torch.tensor([f.graph.num_groups for f in frames])
    return graph, targets, torch.repeat_interleave(torch.arange(len(frames)), groups)


def labels_as_assignment(targets: FrameTargets) -> AssociationScores:
    return AssociationScores(targets.pair_label[None], targets.missed_label[None],
                             targets.clutter_label[None])


def test_the_true_association_has_zero_supervised_loss_and_a_wrong_one_does_not():
    graph, targets, group_scene = batch_of([labelled_frame(np.random.default_rng(0))])
    truth = labels_as_assignment(targets)
    assert LOSSES["supervised"](truth, targets, graph, group_scene, 1) == 0.0
    nothing = AssociationScores(torch.zeros_like(truth.pair), torch.ones_like(truth.missed),
                                torch.ones_like(truth.clutter))
    taken = float(targets.pair_label.sum())
    weight = TRUTH_WEIGHT
    rows = (graph.track_group.numel() + (weight - 1) * float(targets.track_follows_target.sum())
            + graph.det_group.numel() + (weight - 1) * taken)
    expected = 3 * weight * taken / rows
    torch.testing.assert_close(LOSSES["supervised"](nothing, targets, graph, group_scene, 1),
                               torch.tensor(expected))


def test_end_to_end_loss_is_the_mean_squared_updated_position_error():
    graph, targets, group_scene = batch_of([labelled_frame(np.random.default_rng(1))])
    truth = labels_as_assignment(targets)
    updated = targets.track_position.clone()
    chosen = targets.pair_label > 0
    updated[graph.pair_track[chosen]] = targets.pair_position[chosen]
    has = targets.track_has_truth > 0
    expected = ((updated - targets.track_truth)[has] ** 2).sum(-1).mean() / 100.0
    torch.testing.assert_close(LOSSES["end-to-end"](truth, targets, graph, group_scene, 1),
                               expected)


def test_unsupervised_loss_is_the_mean_reconstruction_cost_per_row():
    graph, targets, group_scene = batch_of([labelled_frame(np.random.default_rng(2))])
    truth = labels_as_assignment(targets)
    rows = graph.track_group.numel() + graph.det_group.numel()
    expected = ((truth.pair * targets.pair_cost).sum()
                + (truth.missed * targets.track_unmatched_cost).sum()
                + (truth.clutter * targets.det_unmatched_cost).sum()) / rows
    torch.testing.assert_close(LOSSES["unsupervised"](truth, targets, graph, group_scene, 1),
                               expected)


NO_NOISE = OperatorConfig(noise=0.0, samples=1)


def loss_of(network, frames, mode="supervised", operator=NO_NOISE):
    graph, targets, group_scene = batch_of(frames)
    return association_loss(mode, network(graph), graph, augmented_layout(graph), targets,
                            group_scene, len(frames), operator)


def test_a_batch_loss_is_the_mean_of_its_scenes_losses():
    rng = np.random.default_rng(3)
    frames = [labelled_frame(rng, 6, 5, 6), labelled_frame(rng, 9, 6, 12)]
    torch.manual_seed(0)
    network = AssociationNetwork(NetworkConfig(hidden=8, rounds=1))
    for mode in LOSSES:
        together = loss_of(network, frames, mode)
        alone = [loss_of(network, [frame], mode) for frame in frames]
        torch.testing.assert_close(together, (alone[0] + alone[1]) / 2)


def test_one_sinkhorn_step_and_a_few_hste_steps_reduce_the_loss():
    rng = np.random.default_rng(4)
    frames = [labelled_frame(rng, spacing=12.0) for _ in range(3)]
    for operator, steps in (("sinkhorn", 1), ("hste", 15)):
        torch.manual_seed(1)
        network = AssociationNetwork(NetworkConfig(hidden=16, rounds=1))
        optimizer = torch.optim.Adam(network.parameters(), lr=3e-2)
        config = OperatorConfig(operator=operator, noise=0.0, samples=1)
        before = float(loss_of(network, frames, operator=config).detach())
        for _ in range(steps):
            optimizer.zero_grad()
            loss_of(network, frames, operator=config).backward()
            optimizer.step()
        assert float(loss_of(network, frames, operator=config).detach()) < before, operator


def accuracy(network, frames) -> float:
    """Fraction of tracks whose assignment (a detection or missed) is the true one."""
    graph, targets, _ = batch_of(frames)
    with torch.no_grad():
        layout = augmented_layout(graph)
        chosen = gather_assignment([hungarian(m) for m in augmented_matrices(network(graph),
                                                                             layout)], layout)
    wrong = torch.zeros(graph.track_group.numel()).index_add(
        0, graph.pair_track, (chosen.pair - targets.pair_label).abs())
    return float((wrong == 0).float().mean())


def without_priors(frame: TrainingFrame) -> TrainingFrame:
    graph = frame.graph
    graph.pair_prior = torch.zeros_like(graph.pair_prior)
    graph.track_prior = torch.zeros_like(graph.track_prior)
    graph.det_prior = torch.zeros_like(graph.det_prior)
    graph.pair_features[:, 7] = 0.0
    return frame


def train_without_priors(train, test, seed: int) -> tuple[float, float]:
    """(chance, trained) test accuracy of a network whose heads start random (seed ``seed``),
    trained for 40 supervised HSTE steps on frames without the gnn prior."""
    torch.manual_seed(seed)
    network = AssociationNetwork(NetworkConfig(hidden=16, rounds=1))
    with torch.no_grad():
        for head in (network.pair_head, network.missed_head, network.clutter_head):
            head.weight.normal_(0.0, 0.1)
    chance = accuracy(network, test)
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)
    operator = OperatorConfig(noise=0.5, samples=2)
    generator = torch.Generator().manual_seed(0)
    for step in range(40):
        graph, targets, group_scene = batch_of(train[step % 4 * 2:step % 4 * 2 + 2])
        loss = association_loss("supervised", network(graph), graph, augmented_layout(graph),
                                targets, group_scene, 2, operator, generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return chance, accuracy(network, test)


def test_a_trained_network_beats_chance_without_the_gnn_prior():
    rng = np.random.default_rng(5)
    train = [without_priors(labelled_frame(rng, spacing=12.0)) for _ in range(8)]
    test = [without_priors(labelled_frame(rng, spacing=12.0)) for _ in range(4)]
    # Three initialisations: every one beats chance clearly, and the typical one is accurate.
    runs = [train_without_priors(train, test, seed) for seed in (2, 3, 4)]
    assert all(trained > chance + 0.2 for chance, trained in runs), runs
    assert np.median([trained for _, trained in runs]) > 0.8, runs
