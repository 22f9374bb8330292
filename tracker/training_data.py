"""Training examples for the association network: every association problem a tracker meets on
a simulated scene, with what each training mode compares against.

A scene is tracked by the ordinary :class:`~tracker.pipeline.Tracker` with a *behaviour*
associator (gnn by default); a :class:`RecordingAssociator` wrapped around it records, per scan
and stage, the network's input graph and the :class:`~tracker.association.losses.FrameTargets`:

- which truth each track follows: the nearest true target (Hungarian on squared distance, at most
  ``TRUTH_RADIUS`` m) at the frame: positions only, no association labels;
- the true association (supervised mode only): track i takes the gated detection of its truth's
  id (``det_target``; the nearest one when the target gave several), detections no track truly
  takes are clutter/new;
- for end-to-end: each gated pair's Kalman-updated position; for unsupervised: each pair's
  measurement reconstruction cost (``d^2`` + range-rate mismatch^2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tracker.association.base import AssociationInput, Associator
from tracker.association.features import (
    BaselineScores,
    baseline_scores,
    build_graph,
    range_rate_mismatch,
)
from tracker.association.gating import GatedPairs, gate, gate_threshold, pairs_within, solve_gated
from tracker.association.gnn import GnnConfig
from tracker.association.losses import FrameTargets
from tracker.association.network import PairGraph
from tracker.filtering import update
from tracker.measurements import Measurements
from tracker.pipeline import Tracker, TrackerConfig

TRUTH_RADIUS = 50.0
"""m: a track follows the nearest true target within this distance of its prediction."""


@dataclass
class TrainingFrame:
    """One association problem: the network input and the loss targets."""

    graph: PairGraph
    targets: FrameTargets


def follow_truth(positions: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(T,) index into ``truth`` (N, 2) of the target each track at ``positions`` (T, 2) follows,
    -1 for none: the one-to-one assignment minimising squared distance within TRUTH_RADIUS."""
    near = pairs_within(positions, truth, TRUTH_RADIUS)
    unmatched = -0.5 * TRUTH_RADIUS**2
    return solve_gated(near, -near.mahalanobis_sq, np.full(len(positions), unmatched),
                       np.full(len(truth), unmatched))


def true_pairs(pairs: GatedPairs, track_target: np.ndarray, det_target: np.ndarray) -> np.ndarray:
    """(K,) bool: the gated pairs of the true association, at most one per track and detection.

    ``track_target`` (T,) true id each track follows (-1 none); ``det_target`` (D,) id of each
    detection's target (-1 clutter). A track takes the nearest (in d^2) of its target's detections.
    """
    track, det = pairs.track_index, pairs.detection_index
    candidate = np.flatnonzero((track_target[track] >= 0)
                               & (track_target[track] == det_target[det]))
    order = candidate[np.lexsort((pairs.mahalanobis_sq[candidate], track[candidate]))]
    _, first = np.unique(track[order], return_index=True)
    label = np.zeros(track.size, dtype=bool)
    label[order[first]] = True
    return label


def frame_targets(inputs: AssociationInput, pairs: GatedPairs, det_target: np.ndarray,
                  truth_id: np.ndarray, truth_xy: np.ndarray, gate_value: float) -> FrameTargets:
    """The :class:`FrameTargets` of one association problem (see the module docstring)."""
    follows = follow_truth(inputs.predicted_positions, truth_xy)
    track_target = np.where(follows >= 0, truth_id[np.maximum(follows, 0)], -1)
    label = true_pairs(pairs, track_target, det_target)
    track, det = pairs.track_index, pairs.detection_index
    taken_by_track = np.zeros(inputs.num_tracks, dtype=bool)
    taken_by_track[track[label]] = True
    taken_det = np.zeros(inputs.num_detections, dtype=bool)
    taken_det[det[label]] = True
    posterior = update(inputs.track_states[track], inputs.track_covariances[track],
                       inputs.detections[det], inputs.detection_covariances[det])
    mismatch = range_rate_mismatch(inputs, track, det)

    def tensor(array) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(array), dtype=torch.float32)

    return FrameTargets(
        pair_label=tensor(label),
        missed_label=tensor(~taken_by_track),
        clutter_label=tensor(~taken_det),
        pair_position=tensor(posterior.states[:, :2].reshape(-1, 2)),
        track_position=tensor(inputs.predicted_positions),
        track_truth=tensor(np.where(follows[:, None] >= 0, truth_xy[np.maximum(follows, 0)], 0.0)
                           .reshape(-1, 2)),
        track_has_truth=tensor(follows >= 0),
        pair_cost=tensor(pairs.mahalanobis_sq + mismatch**2),
        track_unmatched_cost=tensor(np.full(inputs.num_tracks, gate_value / 2)),
        det_unmatched_cost=tensor(np.full(inputs.num_detections, gate_value / 2)),
    )


class RecordingAssociator:
    """Associates with ``behaviour`` and records a :class:`TrainingFrame` per call.

    Before each sensor scan, :class:`RecordingTracker` hands it the scan's measurements and the
    frame's truth; within a scan, the pipeline's stages see the detections left free by earlier
    stages, which this class follows to know each call's detection rows.
    """

    def __init__(self, behaviour: Associator, gnn_config: GnnConfig) -> None:
        self.behaviour = behaviour
        self.gnn_config = gnn_config
        self.gate_value = gate_threshold(gnn_config.gate_probability)
        self.frames: list[TrainingFrame] = []
        self.truth_id = np.zeros(0, dtype=np.int64)
        self.truth_xy = np.zeros((0, 2))
        self._targets = np.zeros(0, dtype=np.int64)
        self._free = np.zeros(0, dtype=bool)

    def start_frame(self, truth_id: np.ndarray, truth_xy: np.ndarray) -> None:
        self.truth_id, self.truth_xy = np.asarray(truth_id), np.asarray(truth_xy, dtype=float)

    def start_scan(self, measurements: Measurements) -> None:
        self._targets = measurements.target
        self._free = np.ones(len(measurements), dtype=bool)

    def associate(self, inputs: AssociationInput) -> np.ndarray:
        rows = np.flatnonzero(self._free)
        if rows.size != inputs.num_detections:
            raise RuntimeError("recording lost track of the scan's free detections")
        pairs = gate(inputs, self.gnn_config.gate_probability)
        baseline: BaselineScores = baseline_scores(inputs, pairs, self.gnn_config)
        self.frames.append(TrainingFrame(
            build_graph(inputs, pairs, baseline),
            frame_targets(inputs, pairs, self._targets[rows], self.truth_id, self.truth_xy,
                          self.gate_value)))
        assignment = self.behaviour.associate(inputs)
        self._free[rows[assignment[assignment >= 0]]] = False
        return assignment


class RecordingTracker(Tracker):
    """A :class:`Tracker` that tells its :class:`RecordingAssociator` about every scan."""

    associator: RecordingAssociator

    def _scan(self, sensor, measurements: Measurements) -> None:
        self.associator.start_scan(measurements)
        super()._scan(sensor, measurements)


def record_scene(scenario, tracker_config: TrackerConfig, behaviour: Associator
                 ) -> list[TrainingFrame]:
    """Track ``scenario`` with ``behaviour`` and return every association problem met, in order."""
    recorder = RecordingAssociator(behaviour, tracker_config.gnn)
    tracker = RecordingTracker(recorder, scenario.sensors, tracker_config)
    for frame in range(scenario.num_frames):
        truth = scenario.frame_truth(frame)
        recorder.start_frame(truth.id, truth.state[:, :2])
        tracker.step(float(scenario.frame_times[frame]), scenario.frame_detections(frame))
    return recorder.frames
