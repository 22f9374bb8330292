"""Training examples for the association network: every association problem a tracker meets on
a simulated scene, with what each training mode compares against.

A scene is tracked by the ordinary :class:`~tracker.pipeline.Tracker` with a *behaviour*
associator (gnn by default); a :class:`SceneRecorder`, one of the tracker's observers
(:mod:`tracker.observers`), records, per scan and stage, the network's input graph and the
:class:`~tracker.association.losses.FrameTargets`:

- the true association (supervised mode): each track follows the target of the detection that
  started it and of the last detection it took (``det_target``), so identities stay put where
  targets cross; it takes the gated detection of that target (the nearest one when the target
  gave several); detections no track truly takes are clutter/new;
- which truth each track is near, for end-to-end (positions only, no association labels): the
  nearest true target (Hungarian on squared distance, at most ``TRUTH_RADIUS`` m);
- for end-to-end: each gated pair's Kalman-updated position; for unsupervised: each pair's
  measurement reconstruction cost (``d^2`` + range-rate mismatch^2).

Besides the association problems, every detection of a scene is an example for the detection
evidence model (:mod:`tracker.association.evidence`): its signature features and whether it is a
target's detection, recorded as the tracker meets it (point clouds clustered). Where a target's
points fall into several clusters, only the cluster nearest the target is its detection; the
other fragments are labelled like clutter (no track should start on them;
:func:`evidence_labels`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from tracker.association.base import AssociationInput, Associator
from tracker.association.evidence import NUM_EVIDENCE_FEATURES, evidence_features
from tracker.association.features import build_graph, range_rate_mismatch
from tracker.association.gating import GatedPairs, gate, gate_threshold, pairs_within, solve_gated
from tracker.association.gnn import GnnConfig, GnnScores, gnn_scores
from tracker.association.losses import FrameTargets
from tracker.association.network import PairGraph
from tracker.filtering import update
from tracker.management import TrackSet
from tracker.observers import ScanReport
from tracker.pipeline import Tracker, TrackerConfig, association_input
from tracker.scene_source import SceneSource

UNKNOWN = -2
"""Identity of a track whose start the recording did not see."""
TRUTH_RADIUS = 50.0
"""m: a track follows the nearest true target within this distance of its prediction."""


@dataclass
class TrainingFrame:
    """One association problem: the network input and the loss targets."""

    graph: PairGraph
    targets: FrameTargets


@dataclass
class EvidenceExamples:
    """Detections as examples for the evidence model: ``features`` (E, NUM_EVIDENCE_FEATURES)
    float32 and ``labels`` (E,) float32, 1 for a target's detection and 0 for clutter."""

    features: torch.Tensor
    labels: torch.Tensor

    @classmethod
    def concatenate(cls, parts: list[EvidenceExamples]) -> EvidenceExamples:
        return cls(torch.cat([p.features for p in parts]), torch.cat([p.labels for p in parts]))


@dataclass
class RecordedScene:
    """What one training scene gives: its association problems and its evidence examples."""

    frames: list[TrainingFrame]
    evidence: EvidenceExamples


def follow_truth(positions: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(T,) index into ``truth`` (N, 2) of the target each track at ``positions`` (T, 2) follows,
    -1 for none: the one-to-one assignment minimising squared distance within TRUTH_RADIUS."""
    near = pairs_within(positions, truth, TRUTH_RADIUS)
    unmatched = -0.5 * TRUTH_RADIUS**2
    return solve_gated(near, -near.mahalanobis_sq, np.full(len(positions), unmatched),
                       np.full(len(truth), unmatched))


def evidence_labels(target: np.ndarray, xy: np.ndarray, truth_id: np.ndarray,
                    truth_xy: np.ndarray) -> np.ndarray:
    """(D,) float64 evidence labels of one scan's measurements: 1 for each target's detection,
    0 for clutter and for a target's other fragments.

    ``target`` (D,) true id of each measurement (-1 clutter), ``xy`` (D, 2) m their positions;
    ``truth_id`` (N,), ``truth_xy`` (N, 2) m the frame's true targets. Of a target's
    measurements the one nearest its true position is its detection (the first, where the
    target is not in the frame's truth).
    """
    labels = np.zeros(len(target))
    rows = np.flatnonzero(target >= 0)
    if rows.size == 0:
        return labels
    truth_id = np.asarray(truth_id)
    by_id = np.argsort(truth_id, kind="stable")
    slot = np.minimum(np.searchsorted(truth_id[by_id], target[rows]), truth_id.size - 1)
    known = (truth_id[by_id][slot] == target[rows] if truth_id.size
             else np.zeros(rows.size, dtype=bool))
    distance = np.zeros(rows.size)
    distance[known] = np.linalg.norm(xy[rows[known]] - truth_xy[by_id[slot[known]]], axis=1)
    order = np.lexsort((rows, distance, target[rows]))
    _, first = np.unique(target[rows][order], return_index=True)
    labels[rows[order[first]]] = 1.0
    return labels


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
                  truth_id: np.ndarray, truth_xy: np.ndarray, gate_value: float,
                  track_identity: np.ndarray | None = None) -> FrameTargets:
    """The :class:`FrameTargets` of one association problem (see the module docstring).

    ``track_identity`` (T,): the target id each track has followed so far (the target of the
    last detection it took, or of the detection that started it; -1 none, -2 unknown); where
    known it defines the true association, else the nearest truth does."""
    follows = follow_truth(inputs.predicted_positions, truth_xy)
    # Index -1 (follows nothing) reads the appended "no target" entries.
    nearest_target = np.append(truth_id, -1)[follows]
    nearest_xy = np.concatenate([np.asarray(truth_xy, dtype=float).reshape(-1, 2),
                                 np.zeros((1, 2))])[follows]
    if track_identity is None:
        track_target = nearest_target
    else:
        track_target = np.where(track_identity == UNKNOWN, nearest_target, track_identity)
        track_target = np.where(np.isin(track_target, truth_id), track_target, -1)
    label = true_pairs(pairs, track_target, det_target)
    track, det = pairs.track_index, pairs.detection_index
    taken_by_track = np.zeros(inputs.num_tracks, dtype=bool)
    taken_by_track[track[label]] = True
    taken_det = np.zeros(inputs.num_detections, dtype=bool)
    taken_det[det[label]] = True
    posterior = update(inputs.track_states[track], inputs.track_covariances[track],
                       inputs.detections[det], inputs.detection_covariances[det],
                       inputs.state_space.measurement_matrix)
    mismatch = range_rate_mismatch(inputs, track, det)

    def tensor(array) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(array), dtype=torch.float32)

    return FrameTargets(
        pair_label=tensor(label),
        missed_label=tensor(~taken_by_track),
        clutter_label=tensor(~taken_det),
        track_follows_target=tensor(track_target >= 0),
        pair_position=tensor(inputs.state_space.position(posterior.states).reshape(-1, 2)),
        track_position=tensor(inputs.predicted_positions),
        track_truth=tensor(nearest_xy.reshape(-1, 2)),
        track_has_truth=tensor(follows >= 0),
        pair_cost=tensor(pairs.mahalanobis_sq + mismatch**2),
        track_unmatched_cost=tensor(np.full(inputs.num_tracks, gate_value / 2)),
        det_unmatched_cost=tensor(np.full(inputs.num_detections, gate_value / 2)),
    )


class SceneRecorder:
    """A :class:`~tracker.observers.ScanObserver` that records a :class:`TrainingFrame` per
    association problem and the evidence examples of every scan.

    Before each frame :func:`record_scene` hands it the truth. It follows each track's identity
    (the target of the detection that started it and of every detection it took) by the track's
    id, for the supervised labels. The tracker's associator (the *behaviour*) must answer with
    hard assignments.
    """

    def __init__(self, gnn_config: GnnConfig, context: bool = False) -> None:
        self.gnn_config = gnn_config
        self.context = context  # graphs with the context features (NetworkConfig.context)
        self.gate_value = gate_threshold(gnn_config.gate_probability)
        self.frames: list[TrainingFrame] = []
        self.truth_id = np.zeros(0, dtype=np.int64)
        self.truth_xy = np.zeros((0, 2))
        self.identity: dict[int, int] = {}
        self._evidence_features: list[np.ndarray] = [np.zeros((0, NUM_EVIDENCE_FEATURES))]
        self._evidence_labels: list[np.ndarray] = [np.zeros(0)]

    def start_frame(self, truth_id: np.ndarray, truth_xy: np.ndarray) -> None:
        """The truth of the frame about to be tracked: ids (N,), positions (N, 2) m."""
        self.truth_id, self.truth_xy = np.asarray(truth_id), np.asarray(truth_xy, dtype=float)

    def observe_scan(self, report: ScanReport) -> None:
        """Record the scan's association problems with their targets and its measurements as
        evidence examples; then follow the identities its associations and births give."""
        target = report.measurements.target
        for problem in report.problems:
            inputs, det_target = problem.inputs, target[problem.detection_rows]
            identity = np.array([self.identity.get(i, UNKNOWN) for i in problem.track_ids.tolist()],
                                dtype=np.int64)
            pairs = gate(inputs, self.gnn_config.gate_probability)
            baseline: GnnScores = gnn_scores(inputs, pairs, self.gnn_config)
            self.frames.append(TrainingFrame(
                build_graph(inputs, pairs, baseline, context=self.context),
                frame_targets(inputs, pairs, det_target, self.truth_id, self.truth_xy,
                              self.gate_value, identity)))
            assignment = problem.association.hard_assignment()
            if assignment is None:
                raise ValueError("training data needs a behaviour associator with hard answers")
            for track_id, taken in zip(problem.track_ids.tolist(), assignment.tolist(),
                                       strict=True):
                if taken >= 0:
                    self.identity[track_id] = int(det_target[taken])
        for track_id, row in zip(report.born_ids.tolist(), report.born_rows.tolist(), strict=True):
            self.identity[track_id] = int(target[row])
        if len(report.measurements):
            scan = association_input(TrackSet.empty(), report.measurements, report.sensor,
                                     np.zeros(0))
            self._evidence_features.append(evidence_features(scan))
            self._evidence_labels.append(evidence_labels(target, report.measurements.xy,
                                                         self.truth_id, self.truth_xy))

    def evidence_examples(self) -> EvidenceExamples:
        """The evidence examples of every scan recorded so far."""
        return EvidenceExamples(
            torch.as_tensor(np.concatenate(self._evidence_features), dtype=torch.float32),
            torch.as_tensor(np.concatenate(self._evidence_labels), dtype=torch.float32))


def record_scene(scenario, tracker_config: TrackerConfig, behaviour: Associator,
                 context: bool = False) -> RecordedScene:
    """Track ``scenario`` with ``behaviour``; every association problem met, in order (graphs
    with the context features when ``context``), and every measurement as an evidence example."""
    recorder = SceneRecorder(tracker_config.gnn, context)
    source = SceneSource(scenario)
    tracker = Tracker(behaviour, source.sensors, tracker_config, observers=[recorder])
    for frame in range(scenario.num_frames):
        truth = scenario.frame_truth(frame)
        recorder.start_frame(truth.id, truth.state[:, :2])
        tracker.step(float(scenario.frame_times[frame]), source.frame_scans(frame))
    return RecordedScene(recorder.frames, recorder.evidence_examples())
