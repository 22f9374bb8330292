"""Training objectives of the association network, one per training mode, and the permutation
operator that turns scores into assignments (:func:`tracker.perm.permute`: HSTE, Gumbel-Sinkhorn
or the other estimators of :data:`tracker.perm.OPERATORS`).

All three losses take the assignment entries read back from the augmented matrix (pairs,
missed, clutter; a leading Gumbel-sample dimension S) and the targets of the batch's problems, and
return the mean over scenes of a per-scene loss, so that data-parallel ranks holding equal numbers
of scenes average to exactly the single-process loss.

- ``supervised``: squared error between the assignment and the true association (labels from
  the simulator's ``det_target``), per row of the augmented matrix, the true targets' rows
  weighted up (``TRUTH_WEIGHT``).
- ``end-to-end``: no association labels. Each track is updated by a Kalman update with the
  detection the assignment gives it (a missed track keeps its prediction); the loss is the squared
  distance of the updated position to the true target position, over 10 m squared.
- ``unsupervised``: no labels at all. The assigned detection must reconstruct the track's
  predicted measurement (position and, with Doppler, range rate): cost ``d^2 + range-rate
  mismatch^2`` per taken pair, half the gate per missed track and per clutter detection.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

from tracker.association.network import (
    AssociationScores,
    AugmentedLayout,
    PairGraph,
    augmented_matrices,
    gather_assignment,
)
from tracker.perm import OPERATORS as PERM_OPERATORS
from tracker.perm import permute

MODES = ("supervised", "end-to-end", "unsupervised")
OPERATORS = tuple(PERM_OPERATORS)
TRUTH_WEIGHT = 10.0
"""Weight of the true targets' rows in the supervised loss. Most rows in cluttered scenes are
clutter-born tentative tracks and clutter detections; unweighted, the loss trades a true young
track's detection (a lost target: missed frames, a late confirmation) for tidier clutter rows
(which cost little: tentative tracks are not reported), and training makes tracking worse."""
POSITION_SCALE = 10.0
"""m: the end-to-end loss is the squared position error in units of this distance."""


@dataclass(frozen=True)
class OperatorConfig:
    """How scores become assignments in training: ``operator`` a name of
    :data:`tracker.perm.OPERATORS` (``hste``: Hungarian forward, straight-through backward;
    ``sinkhorn``: Gumbel-Sinkhorn, ``sinkhorn_iters`` iterations; ``perturbed``, ``blackbox``
    with strength ``lam``, ``hste-softmax``); temperature ``tau``, Gumbel noise scale ``noise``
    and ``samples`` noise samples per problem."""

    operator: str = "hste"
    tau: float = 1.0
    noise: float = 1.0
    samples: int = 4
    sinkhorn_iters: int = 20
    lam: float = 20.0


def assign(matrix: torch.Tensor, config: OperatorConfig,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Assignments (S, B, N, N) of augmented score matrices (B, N, N) under ``config`` (S = 1
    for ``perturbed``, which averages its samples). Samples of tracks and detections in pair-less
    groups stay fixed (missed, clutter)."""
    return permute(matrix, config.operator, tau=config.tau, noise=config.noise,
                   samples=config.samples, generator=generator,
                   sinkhorn_iters=config.sinkhorn_iters, lam=config.lam)


@dataclass
class FrameTargets:
    """What the losses compare against, aligned with a :class:`PairGraph`'s pairs (P), tracks (T)
    and detections (D); concatenated over the frames of a batch like the graph.

    ``pair_label`` (P,), ``missed_label`` (T,), ``clutter_label`` (D,): the true association, 0/1;
    ``track_follows_target`` (T,) 0/1: the track follows a true target (supervised weights).
    ``pair_position`` (P, 2) m: track i's position after a Kalman update with detection j.
    ``track_position`` (T, 2) m: predicted position (what a missed track keeps).
    ``track_truth`` (T, 2) m and ``track_has_truth`` (T,) 0/1: the true position of the target the
    track follows (nearest truth by a gated assignment; 0 where the track follows none).
    ``pair_cost`` (P,): reconstruction cost ``d^2 + range-rate mismatch^2``;
    ``track_unmatched_cost`` (T,) and ``det_unmatched_cost`` (D,): half the gate.
    """

    pair_label: torch.Tensor
    missed_label: torch.Tensor
    clutter_label: torch.Tensor
    track_follows_target: torch.Tensor
    pair_position: torch.Tensor
    track_position: torch.Tensor
    track_truth: torch.Tensor
    track_has_truth: torch.Tensor
    pair_cost: torch.Tensor
    track_unmatched_cost: torch.Tensor
    det_unmatched_cost: torch.Tensor

    @classmethod
    def concatenate(cls, parts: list[FrameTargets]) -> FrameTargets:
        return cls(**{f.name: torch.cat([getattr(p, f.name) for p in parts]) for f in fields(cls)})


def _per_scene(values: torch.Tensor, group: torch.Tensor, group_scene: torch.Tensor,
               num_scenes: int) -> torch.Tensor:
    """Sum (S, K) element values into (num_scenes,) scene totals, averaged over the S samples;
    ``group`` (K,) is each element's group, ``group_scene`` (B,) each group's scene."""
    totals = torch.zeros(num_scenes, dtype=values.dtype, device=values.device)
    return totals.index_add(0, group_scene[group], values.mean(0))


def _scene_average(total: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    return (total / count.clamp(min=1.0)).mean()


def supervised_loss(assignment: AssociationScores, targets: FrameTargets, graph: PairGraph,
                    group_scene: torch.Tensor, num_scenes: int) -> torch.Tensor:
    """Squared error against the true association, per augmented row, weighted mean over scenes.

    Rows of tracks that follow a target and of detections a track truly takes weigh
    ``TRUTH_WEIGHT``, the others 1 (see there)."""
    track_weight = 1.0 + (TRUTH_WEIGHT - 1.0) * targets.track_follows_target
    det_weight = 1.0 + (TRUTH_WEIGHT - 1.0) * (1.0 - targets.clutter_label)
    pair_group = graph.track_group[graph.pair_track]
    total = (
        _per_scene(track_weight[graph.pair_track] * (assignment.pair - targets.pair_label) ** 2,
                   pair_group, group_scene, num_scenes)
        + _per_scene(track_weight * (assignment.missed - targets.missed_label) ** 2,
                     graph.track_group, group_scene, num_scenes)
        + _per_scene(det_weight * (assignment.clutter - targets.clutter_label) ** 2,
                     graph.det_group, group_scene, num_scenes)
    )
    rows = (_per_scene(track_weight[None], graph.track_group, group_scene, num_scenes)
            + _per_scene(det_weight[None], graph.det_group, group_scene, num_scenes))
    return _scene_average(total, rows)


def end_to_end_loss(assignment: AssociationScores, targets: FrameTargets, graph: PairGraph,
                    group_scene: torch.Tensor, num_scenes: int) -> torch.Tensor:
    """Squared error of the updated track positions against the truth (in POSITION_SCALE units)."""
    samples, num_tracks = assignment.missed.shape
    updated = assignment.missed.unsqueeze(-1) * targets.track_position
    updated = updated.index_add(1, graph.pair_track,
                                assignment.pair.unsqueeze(-1) * targets.pair_position)
    error = ((updated - targets.track_truth) ** 2).sum(-1) / POSITION_SCALE**2
    total = _per_scene(error * targets.track_has_truth, graph.track_group, group_scene, num_scenes)
    count = _per_scene(targets.track_has_truth.expand(samples, num_tracks), graph.track_group,
                       group_scene, num_scenes)
    return _scene_average(total, count)


def unsupervised_loss(assignment: AssociationScores, targets: FrameTargets, graph: PairGraph,
                      group_scene: torch.Tensor, num_scenes: int) -> torch.Tensor:
    """Measurement reconstruction cost of the assignment, per augmented row, mean over scenes."""
    pair_group = graph.track_group[graph.pair_track]
    total = (
        _per_scene(assignment.pair * targets.pair_cost, pair_group, group_scene, num_scenes)
        + _per_scene(assignment.missed * targets.track_unmatched_cost, graph.track_group,
                     group_scene, num_scenes)
        + _per_scene(assignment.clutter * targets.det_unmatched_cost, graph.det_group,
                     group_scene, num_scenes)
    )
    return _scene_average(total, _row_count(graph, group_scene, num_scenes))


def _row_count(graph: PairGraph, group_scene: torch.Tensor, num_scenes: int) -> torch.Tensor:
    """(num_scenes,) tracks plus detections per scene: the rows of its augmented matrices."""
    groups = torch.cat([graph.track_group, graph.det_group])
    counts = torch.zeros(num_scenes, device=groups.device)
    return counts.index_add(0, group_scene[groups], torch.ones(groups.shape, device=groups.device))


LOSSES = {
    "supervised": supervised_loss,
    "end-to-end": end_to_end_loss,
    "unsupervised": unsupervised_loss,
}


def association_loss(mode: str, scores: AssociationScores, graph: PairGraph,
                     layout: AugmentedLayout, targets: FrameTargets, group_scene: torch.Tensor,
                     num_scenes: int, operator: OperatorConfig,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """The training loss of ``mode`` for network ``scores`` on a batch: augmented matrices ->
    assignment by the operator -> loss; a scalar, mean over the batch's scenes.
    ``group_scene`` (B,) long: the scene (0..num_scenes-1) of each group of ``graph``."""
    matrices = [assign(matrix, operator, generator)
                for matrix in augmented_matrices(scores, layout)]
    entries = gather_assignment(matrices, layout, lead=matrices[0].shape[:1] if matrices else (1,))
    loss = LOSSES[mode](entries, targets, graph, group_scene, num_scenes)
    # Keep every output in the autograd graph (zero gradient) for batches without any pair.
    return loss + 0.0 * (scores.pair.sum() + scores.missed.sum() + scores.clutter.sum())
