"""The one interface every association backend implements (``gnn``, ``jpda``, ``learned``, ...).

Per scan the tracker hands a backend an :class:`AssociationInput` (T predicted tracks, D
detections, everything in world-frame metres) and gets back either a hard answer, per track the
index of the detection it takes or ``-1`` for a missed track, or a soft one, a
:class:`WeightedAssociation` (a weight per gated (track, detection) pair plus a miss weight per
track). :func:`as_association` turns either into a checked :class:`WeightedAssociation`, the one
form the tracker's update step (:mod:`tracker.update`) reads. Detections whose summed weight
stays below :data:`CLAIM_THRESHOLD` (for hard answers: the ones no track takes) start tentative
tracks. A backend never changes tracks itself; the tracker updates, initiates and deletes. A
backend whose answers need an update other than the Kalman update of hard assignments says which
by being an :class:`UpdaterSource`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from tracker.models import CV_SPACE, StateSpace

MISSED = -1
"""Assignment value of a track that takes no detection in this scan."""

CLAIM_THRESHOLD = 0.5
"""A detection whose association weights, summed over the tracks, reach this value is claimed by
the tracks (later stages and the initiator do not get it); below it, it starts a new tentative
track. For a hard assignment a detection is claimed exactly when a track takes it."""

WEIGHT_TOLERANCE = 1e-6
"""Slack allowed in the sums of a :class:`WeightedAssociation`'s weights."""


DETECTION_ID_STRIDE = 1 << 32
"""Detection ids are ``scan number * DETECTION_ID_STRIDE + row`` (rows of a scan < 2^32)."""


AMPLITUDE_LIMIT_DB = 200.0
"""Amplitudes (SNR, dB) beyond +- this are clipped before they become features."""


@dataclass(frozen=True)
class AssociationInput:
    """One scan as seen by an association backend: T predicted tracks and D detections.

    Positions in metres, velocities in m/s, covariances in the matching squared units, all in
    the world frame. Arrays are float64 unless noted.

    Tracks (after the predict step):
        track_states: (T, n) predicted states in the layout of ``state_space``; read their
            velocities and covariance blocks through it (:attr:`track_velocities`,
            :attr:`position_covariances`).
        track_covariances: (T, n, n) predicted state covariance P.
        predicted_positions: (T, 2) predicted measurement ``H x`` (the states' positions);
            a pair's innovation covariance is ``H P H^T + detection_covariances[j]``
            (:meth:`pair_innovation`).
        track_age: (T,) int, frames since the track started (0 in its first frame).
        track_misses: (T,) int, scans in a row without a detection.
    Detections:
        detections: (D, 2) world-frame position z.
        detection_covariances: (D, 2, 2) measurement covariance R_j of each detection.
        detection_range_rate: (D,) m/s, NaN where the sensor has no Doppler.
        detection_amplitude: (D,) SNR in dB, NaN where the sensor gives none.
        detection_points: (D,) int, points behind each detection (1 for radar).
        detection_spread: (D,) m, RMS distance of the points from their centroid (0 for radar).
        sensor_positions: (D, 2) world position of the sensor that made each detection.
    Sensor model of the scan (None where unknown):
        detection_probability: (T,) Pd of each track's target in this scan's sensor.
        clutter_density: (D,) expected clutter detections per m^2 at each detection.
    State layout:
        state_space: the components of ``track_states`` (:class:`tracker.models.StateSpace`).
    Identity, for backends that keep hypotheses of their own across scans (``mht``; None where
    the caller has none, e.g. training data):
        track_ids: (T,) int64 the tracker's track ids, stable over a track's life.
        track_model: (T,) int64 each track's motion model (:class:`tracker.models.MotionModels`).
        scan_time: s, the time the tracks were predicted to.
        detection_ids: (D,) int64 unique over the tracker's run: the scan's number times
            :data:`DETECTION_ID_STRIDE` plus the detection's row among the scan's measurements.
    """

    track_states: np.ndarray
    track_covariances: np.ndarray
    predicted_positions: np.ndarray
    track_age: np.ndarray
    track_misses: np.ndarray
    detections: np.ndarray
    detection_covariances: np.ndarray
    detection_range_rate: np.ndarray
    detection_amplitude: np.ndarray
    detection_points: np.ndarray
    detection_spread: np.ndarray
    sensor_positions: np.ndarray
    detection_probability: np.ndarray | None = None
    clutter_density: np.ndarray | None = None
    state_space: StateSpace = CV_SPACE
    track_ids: np.ndarray | None = None
    track_model: np.ndarray | None = None
    scan_time: float | None = None
    detection_ids: np.ndarray | None = None

    @property
    def track_velocities(self) -> np.ndarray:
        """(T, 2) predicted velocities m/s."""
        return self.state_space.velocity(self.track_states)

    @property
    def position_covariances(self) -> np.ndarray:
        """(T, 2, 2) predicted position covariances ``H P H^T`` m^2."""
        return self.state_space.position_covariance(self.track_covariances)

    @property
    def amplitude_db(self) -> np.ndarray:
        """(D,) ``detection_amplitude`` as every feature reads it: NaN (no amplitude) where it
        is not finite, clipped to +-``AMPLITUDE_LIMIT_DB`` (no sensor gives more), so that an
        infinite or absurd value in a file cannot blow the network's inputs up."""
        amplitude = self.detection_amplitude
        finite = np.where(np.isfinite(amplitude), amplitude, np.nan)  # NaN stays NaN below
        return np.minimum(np.maximum(finite, -AMPLITUDE_LIMIT_DB), AMPLITUDE_LIMIT_DB)

    @property
    def num_tracks(self) -> int:
        """T, the number of predicted tracks."""
        return int(self.track_states.shape[0])

    @property
    def num_detections(self) -> int:
        """D, the number of detections in the scan."""
        return int(self.detections.shape[0])

    def pair_innovation(self, track_index: np.ndarray, detection_index: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Innovation and its covariance for chosen (track, detection) pairs.

        Args:
            track_index: (K,) int track indices.
            detection_index: (K,) int detection indices.
        Returns:
            ``(nu, S)``: nu (K, 2) = z_j - H x_i in m; S (K, 2, 2) = H P_i H^T + R_j in m^2.
        """
        position_covariance = self.state_space.position_covariance(
            self.track_covariances[track_index])
        innovation = self.detections[detection_index] - self.predicted_positions[track_index]
        return innovation, position_covariance + self.detection_covariances[detection_index]


@dataclass(frozen=True)
class WeightedAssociation:
    """A soft association of T tracks and D detections: weights on K (track, detection) pairs.

    Attributes:
        num_tracks, num_detections: T and D.
        track_index: (K,) int64 track of each pair.
        detection_index: (K,) int64 detection of each pair (pairs unique).
        weight: (K,) float64 in [0, 1], the probability that the track's target made the
            detection.
        missed: (T,) float64 in [0, 1], the probability that the track's target made none; a
            track's pair weights and its miss weight sum to 1, a detection's weights to <= 1.
    """

    num_tracks: int
    num_detections: int
    track_index: np.ndarray
    detection_index: np.ndarray
    weight: np.ndarray
    missed: np.ndarray

    @classmethod
    def from_assignment(cls, assignment: np.ndarray, num_detections: int) -> WeightedAssociation:
        """The hard ``assignment`` (T,) (detection per track, ``MISSED`` for none) as weights 1."""
        tracks = np.flatnonzero(assignment != MISSED)
        return cls(assignment.size, num_detections, tracks, assignment[tracks],
                   np.ones(tracks.size), (assignment == MISSED).astype(np.float64))

    @classmethod
    def none(cls, num_tracks: int, num_detections: int) -> WeightedAssociation:
        """Every track missed."""
        empty = np.zeros(0, dtype=np.int64)
        return cls(num_tracks, num_detections, empty, empty, np.zeros(0), np.ones(num_tracks))

    def detection_weight(self) -> np.ndarray:
        """(D,) the weights of each detection summed over the tracks."""
        return np.bincount(self.detection_index, self.weight, minlength=self.num_detections)

    def claimed(self) -> np.ndarray:
        """(D,) bool, detections claimed by the tracks (see :data:`CLAIM_THRESHOLD`)."""
        return self.detection_weight() >= CLAIM_THRESHOLD

    def claimed_by(self, tracks: np.ndarray) -> np.ndarray:
        """(D,) bool, detections claimed by the tracks of the (T,) bool mask ``tracks``."""
        mine = tracks[self.track_index]
        weight = np.bincount(self.detection_index[mine], self.weight[mine],
                             minlength=self.num_detections)
        return weight >= CLAIM_THRESHOLD

    def hard_assignment(self) -> np.ndarray | None:
        """(T,) int64 detection per track (``MISSED`` for none) when every weight is 0 or 1 and
        each track has at most one pair of weight 1; None for a soft association."""
        taken = self.weight > 0.5
        if np.any(np.abs(self.weight - taken) > WEIGHT_TOLERANCE):
            return None
        result = np.full(self.num_tracks, MISSED, dtype=np.int64)
        result[self.track_index[taken]] = self.detection_index[taken]
        if np.count_nonzero(result != MISSED) != np.count_nonzero(taken):
            return None
        return result

    def merged(self, other: WeightedAssociation, track_rows: np.ndarray,
               detection_rows: np.ndarray) -> WeightedAssociation:
        """This association with ``other``, an association of the tracks ``track_rows`` and
        detections ``detection_rows`` (indices into this one's), written over those tracks."""
        missed = self.missed.copy()
        missed[track_rows] = other.missed
        keep = ~np.isin(self.track_index, track_rows)
        return WeightedAssociation(
            self.num_tracks, self.num_detections,
            np.concatenate([self.track_index[keep], track_rows[other.track_index]]),
            np.concatenate([self.detection_index[keep], detection_rows[other.detection_index]]),
            np.concatenate([self.weight[keep], other.weight]), missed)


@runtime_checkable
class Associator(Protocol):
    """An association backend: maps one scan to a detection per track, or to weights."""

    def associate(self, inputs: AssociationInput) -> np.ndarray | WeightedAssociation:
        """Return (T,) int64, the detection index each track takes or ``MISSED`` (-1), each
        detection index at most once; or a :class:`WeightedAssociation` of the scan."""
        ...


@runtime_checkable
class UpdaterSource(Protocol):
    """A backend whose answers need their own update step (:mod:`tracker.update`), e.g. the
    PDA update of ``jpda``'s weights; the tracker uses it unless it is given another."""

    def updater(self) -> Any:
        """The :class:`tracker.update.Updater` the tracker should apply to this backend's
        associations."""
        ...


@runtime_checkable
class HypothesisKeeper(Protocol):
    """A backend that keeps hypotheses of its own across scans (``mht``). The tracker hands it
    its motion models when it is built (which starts the backend afresh: one tracker per
    backend object), tells it of every new track and the detection that started it, and
    deletes the tracks it rejects."""

    def use_motion_models(self, motion_models: Any) -> None:
        """Predict with ``motion_models`` (:class:`tracker.models.MotionModels`) from now on and
        forget every hypothesis held."""
        ...

    def tracks_born(self, tracks: Any, detection_ids: np.ndarray, time: float) -> None:
        """New tentative ``tracks`` (:class:`tracker.management.TrackSet`), started at
        ``time`` s by the detections ``detection_ids`` (see :class:`AssociationInput`)."""
        ...

    def rejected(self, track_ids: np.ndarray) -> np.ndarray:
        """(T,) bool, the tracks of ``track_ids`` (T,) that the backend found to be no target
        since the last call (the tracker deletes them)."""
        ...


@runtime_checkable
class EvidenceSource(Protocol):
    """A backend that also rates each detection's own signature (the learned backends); the
    tracker adds the ratings to its track scores (:mod:`tracker.pipeline`)."""

    def detection_evidence(self, inputs: AssociationInput) -> np.ndarray:
        """(D,) float64 log-likelihood ratio, target against clutter, of each detection's
        signature (amplitude, range, point count, spread); the tracks in ``inputs`` are unused."""
        ...


def as_association(result: np.ndarray | WeightedAssociation, num_tracks: int,
                   num_detections: int) -> WeightedAssociation:
    """Validate a backend's answer (hard or weighted) and return it as weights.

    Raises:
        ValueError: a hard answer that :func:`check_assignment` refuses; weights of the wrong
            shape, pairs outside the scan or repeated, weights outside [0, 1], or sums that are not
            1 per track or exceed 1 per detection.
    """
    if not isinstance(result, WeightedAssociation):
        return WeightedAssociation.from_assignment(
            check_assignment(result, num_tracks, num_detections), num_detections)
    if (result.num_tracks, result.num_detections) != (num_tracks, num_detections):
        raise ValueError(f"association is for {result.num_tracks} tracks x "
                         f"{result.num_detections} detections, expected {num_tracks} x "
                         f"{num_detections}")
    pairs = result.track_index.size
    if (result.detection_index.shape, result.weight.shape, result.missed.shape) != (
            (pairs,), (pairs,), (num_tracks,)):
        raise ValueError("association arrays have inconsistent shapes")
    if pairs and (result.track_index.min() < 0 or result.track_index.max() >= num_tracks
                  or result.detection_index.min() < 0
                  or result.detection_index.max() >= num_detections):
        raise ValueError("association holds a pair outside the scan")
    keys = result.track_index * num_detections + result.detection_index
    if np.unique(keys).size != keys.size:
        raise ValueError("association holds a (track, detection) pair twice")
    weights = np.concatenate([result.weight, result.missed])
    if not (np.isfinite(weights).all() and (weights >= -WEIGHT_TOLERANCE).all()
            and (weights <= 1.0 + WEIGHT_TOLERANCE).all()):
        raise ValueError("association weights must be in [0, 1]")
    track_sums = np.bincount(result.track_index, result.weight, num_tracks) + result.missed
    if np.any(np.abs(track_sums - 1.0) > WEIGHT_TOLERANCE):
        raise ValueError("each track's weights and miss weight must sum to 1")
    if np.any(result.detection_weight() > 1.0 + WEIGHT_TOLERANCE):
        raise ValueError("a detection's weights sum to more than 1")
    return result


def check_assignment(assignment: np.ndarray, num_tracks: int, num_detections: int) -> np.ndarray:
    """Validate a backend's answer and return it as (T,) int64.

    Raises:
        ValueError: wrong shape, an index outside ``[-1, D)``, or a detection taken twice.
    """
    result = np.asarray(assignment, dtype=np.int64)
    if result.shape != (num_tracks,):
        raise ValueError(f"assignment has shape {result.shape}, expected ({num_tracks},)")
    if np.any((result < MISSED) | (result >= num_detections)):
        raise ValueError(f"assignment holds an index outside [-1, {num_detections})")
    taken = result[result != MISSED]
    if np.unique(taken).size != taken.size:
        raise ValueError("assignment gives one detection to several tracks")
    return result
