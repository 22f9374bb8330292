"""The one interface every association backend implements (``gnn``, ``learned``, ``sinkhorn``).

Per scan the tracker hands a backend an :class:`AssociationInput` (T predicted tracks, D
detections, everything in world-frame metres) and gets back, per track, the index of the
detection it takes or ``-1`` for a missed track. Detections that no track takes start tentative
tracks. A backend never changes tracks itself; the tracker updates, initiates and deletes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

MISSED = -1
"""Assignment value of a track that takes no detection in this scan."""


AMPLITUDE_LIMIT_DB = 200.0
"""Amplitudes (SNR, dB) beyond +- this are clipped before they become features."""


@dataclass(frozen=True)
class AssociationInput:
    """One scan as seen by an association backend: T predicted tracks and D detections.

    Positions in metres, velocities in m/s, covariances in the matching squared units, all in
    the world frame. Arrays are float64 unless noted.

    Tracks (after the predict step):
        track_states: (T, 4) predicted state ``[x, y, vx, vy]``.
        track_covariances: (T, 4, 4) predicted state covariance P.
        predicted_positions: (T, 2) predicted measurement ``H x`` (= ``track_states[:, :2]``).
        innovation_covariances: (T, 2, 2) ``S = H P H^T + R`` with R a nominal position noise;
            per-pair S is ``H P H^T + detection_covariances[j]`` (see :meth:`pair_innovation`).
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
    """

    track_states: np.ndarray
    track_covariances: np.ndarray
    predicted_positions: np.ndarray
    innovation_covariances: np.ndarray
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

    @property
    def amplitude_db(self) -> np.ndarray:
        """(D,) ``detection_amplitude`` as every feature reads it: NaN (no amplitude) where it
        is not finite, clipped to +-``AMPLITUDE_LIMIT_DB`` (no sensor gives more), so that an
        infinite or absurd value in a file cannot blow the network's inputs up."""
        amplitude = self.detection_amplitude
        return np.clip(np.where(np.isfinite(amplitude), amplitude, np.nan), -AMPLITUDE_LIMIT_DB,
                       AMPLITUDE_LIMIT_DB)

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
        position_covariance = self.track_covariances[track_index][:, :2, :2]
        innovation = self.detections[detection_index] - self.predicted_positions[track_index]
        return innovation, position_covariance + self.detection_covariances[detection_index]


@runtime_checkable
class Associator(Protocol):
    """An association backend: maps one scan to a detection index per track."""

    def associate(self, inputs: AssociationInput) -> np.ndarray:
        """Return (T,) int64: the detection index each track takes, or ``MISSED`` (-1).

        Each detection index appears at most once.
        """
        ...


@runtime_checkable
class EvidenceSource(Protocol):
    """A backend that also rates each detection's own signature (the learned backends); the
    tracker adds the ratings to its track scores (:mod:`tracker.pipeline`)."""

    def detection_evidence(self, inputs: AssociationInput) -> np.ndarray:
        """(D,) float64 log-likelihood ratio, target against clutter, of each detection's
        signature (amplitude, range, point count, spread); the tracks in ``inputs`` are unused."""
        ...


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
