"""What the association network sees: features a radar engineer would give it, per gated
(track, detection) pair, per track and per detection, plus the gnn baseline scores (priors).

Every feature is dimensionless and O(1) (fixed physical scalings, no learned statistics), and
missing sensor information (no Doppler, no amplitude) is a zero with an indicator, never NaN.

Pair features (``NUM_PAIR_FEATURES`` = 8), for innovation nu = z_j - H x_i and S = H P_i H^T + R_j:
    0, 1  normalised innovation along / across the track's heading: ``nu.u / sqrt(u^T S u)``
    2     squared Mahalanobis distance ``nu^T S^-1 nu`` / 10
    3     ``log det S`` / 10 (S in m^2)
    4     range-rate mismatch (measured - predicted from the track state and the sensor position)
          over its predicted standard deviation, clipped to +-10, / 3; 0 without Doppler
    5     1 if the detection has a range rate
    6     ``log1p(|nu| in m)``
    7     the gnn score / 10 (so the network can build on the baseline directly)
Track features (``NUM_TRACK_FEATURES`` = 4): ``log1p(age)``, misses in a row / 3,
    ``log det P_pos`` / 10, ``log1p(speed in m/s)``.
Detection features (``NUM_DET_FEATURES`` = 4): amplitude (SNR dB) / 10 (0 when none),
    1 if it has an amplitude, ``log1p(points)``, point spread (m) / 10.
"""

from __future__ import annotations

import numpy as np
import torch

from tracker.association.base import AssociationInput
from tracker.association.gating import GatedPairs
from tracker.association.gnn import GnnScores
from tracker.association.network import (
    NUM_DET_FEATURES,
    NUM_PAIR_FEATURES,
    NUM_TRACK_FEATURES,
    PairGraph,
)

RANGE_RATE_VARIANCE = 1.0
"""m^2/s^2 added to the predicted range-rate variance: a nominal Doppler measurement noise."""

_MISMATCH_CLIP = 10.0


def _quadratic(vector: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(K,) ``v^T M v`` for v (K, n) and M (K, n, n)."""
    return np.einsum("ki,kij,kj->k", vector, matrix, vector)


def _heading(velocity: np.ndarray) -> np.ndarray:
    """(K, 2) unit heading; the x axis where the speed is zero."""
    speed = np.linalg.norm(velocity, axis=-1, keepdims=True)
    return np.where(speed > 1e-9, velocity / np.maximum(speed, 1e-9), np.array([1.0, 0.0]))


def range_rate_mismatch(inputs: AssociationInput, track: np.ndarray, det: np.ndarray) -> np.ndarray:
    """(K,) measured minus predicted range rate over its predicted std, clipped; 0 without Doppler.

    Predicted range rate of track i seen from the sensor of detection j: ``u . v_i`` with u the
    unit line of sight from the sensor to the track's predicted position; its variance is
    ``u^T P_vel u + RANGE_RATE_VARIANCE``.
    """
    line_of_sight = inputs.predicted_positions[track] - inputs.sensor_positions[det]
    distance = np.maximum(np.linalg.norm(line_of_sight, axis=-1, keepdims=True), 1e-9)
    unit = line_of_sight / distance
    velocity = inputs.track_velocities[track]
    predicted = np.einsum("ki,ki->k", unit, velocity)
    velocity_covariance = inputs.state_space.velocity_covariance(inputs.track_covariances[track])
    variance = _quadratic(unit, velocity_covariance) + RANGE_RATE_VARIANCE
    measured = inputs.detection_range_rate[det]
    mismatch = (measured - predicted) / np.sqrt(variance)
    return np.clip(np.nan_to_num(mismatch, nan=0.0), -_MISMATCH_CLIP, _MISMATCH_CLIP)


def pair_features(inputs: AssociationInput, pairs: GatedPairs, baseline: GnnScores
                  ) -> np.ndarray:
    """Features (K, NUM_PAIR_FEATURES) of the K gated pairs."""
    track, det = pairs.track_index, pairs.detection_index
    innovation, covariance = inputs.pair_innovation(track, det)
    along = _heading(inputs.track_velocities[track])
    across = np.stack([-along[:, 1], along[:, 0]], axis=-1)
    has_doppler = np.isfinite(inputs.detection_range_rate[det])
    columns = [
        np.einsum("ki,ki->k", innovation, along) / np.sqrt(_quadratic(along, covariance)),
        np.einsum("ki,ki->k", innovation, across) / np.sqrt(_quadratic(across, covariance)),
        pairs.mahalanobis_sq / 10.0,
        pairs.log_det / 10.0,
        range_rate_mismatch(inputs, track, det) / 3.0,
        has_doppler.astype(np.float64),
        np.log1p(np.linalg.norm(innovation, axis=-1)),
        baseline.pair / 10.0,
    ]
    return np.stack(columns, axis=-1).reshape(-1, NUM_PAIR_FEATURES)


def track_features(inputs: AssociationInput) -> np.ndarray:
    """(T, NUM_TRACK_FEATURES) per-track features."""
    position_covariance = inputs.position_covariances
    columns = [
        np.log1p(inputs.track_age.astype(np.float64)),
        inputs.track_misses.astype(np.float64) / 3.0,
        np.linalg.slogdet(position_covariance)[1] / 10.0 if inputs.num_tracks else np.zeros(0),
        np.log1p(np.linalg.norm(inputs.track_velocities, axis=-1)),
    ]
    return np.stack(columns, axis=-1).reshape(-1, NUM_TRACK_FEATURES)


def detection_features(inputs: AssociationInput) -> np.ndarray:
    """(D, NUM_DET_FEATURES) per-detection features."""
    amplitude = inputs.amplitude_db
    columns = [
        np.nan_to_num(amplitude, nan=0.0) / 10.0,
        np.isfinite(amplitude).astype(np.float64),
        np.log1p(inputs.detection_points.astype(np.float64)),
        inputs.detection_spread.astype(np.float64) / 10.0,
    ]
    return np.stack(columns, axis=-1).reshape(-1, NUM_DET_FEATURES)


def build_graph(inputs: AssociationInput, pairs: GatedPairs, baseline: GnnScores,
                dtype: torch.dtype = torch.float32) -> PairGraph:
    """The one-frame :class:`PairGraph` of a scan, its gated pairs and their gnn scores; its
    groups are the connected components of the gate graph."""
    track_group, det_group, groups = pairs.components()

    def tensor(array: np.ndarray, kind: torch.dtype = dtype) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(array), dtype=kind)

    return PairGraph(
        pair_features=tensor(pair_features(inputs, pairs, baseline)),
        track_features=tensor(track_features(inputs)),
        det_features=tensor(detection_features(inputs)),
        pair_track=tensor(pairs.track_index, torch.long),
        pair_det=tensor(pairs.detection_index, torch.long),
        pair_prior=tensor(baseline.pair),
        track_prior=tensor(baseline.missed),
        det_prior=tensor(baseline.clutter),
        track_group=tensor(track_group, torch.long),
        det_group=tensor(det_group, torch.long),
        num_groups=groups,
    )


def collate(graphs: list[PairGraph]) -> PairGraph:
    """Concatenate several frames' graphs into one batch, re-indexing pairs and groups."""
    track_offsets = np.cumsum([0] + [g.track_features.shape[0] for g in graphs])
    det_offsets = np.cumsum([0] + [g.det_features.shape[0] for g in graphs])
    group_offsets = np.cumsum([0] + [g.num_groups for g in graphs])

    def cat(name: str, offsets: np.ndarray | None = None) -> torch.Tensor:
        parts = [getattr(g, name) + (int(offsets[i]) if offsets is not None else 0)
                 for i, g in enumerate(graphs)]
        return torch.cat(parts)

    return PairGraph(
        pair_features=cat("pair_features"),
        track_features=cat("track_features"),
        det_features=cat("det_features"),
        pair_track=cat("pair_track", track_offsets),
        pair_det=cat("pair_det", det_offsets),
        pair_prior=cat("pair_prior"),
        track_prior=cat("track_prior"),
        det_prior=cat("det_prior"),
        track_group=cat("track_group", group_offsets),
        det_group=cat("det_group", group_offsets),
        num_groups=int(group_offsets[-1]),
    )
