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
Context features (``NUM_CONTEXT_FEATURES`` = 2, appended to the track and to the detection
    features when asked for; :func:`neighbourhood`): how crowded the track's (detection's)
    surroundings are among the scan's other tracks (detections), in sigmas of both: ``log1p(d2)
    / 3`` of the nearest one's normalised squared distance ``d2`` (capped at ``CONTEXT_FAR``)
    and ``log1p(count within 3 sigma)``. They tell a target in a group, or a fragment beside its
    siblings, from one alone.
"""

from __future__ import annotations

import numpy as np
import torch

from tracker.association.base import AssociationInput
from tracker.association.evidence import detection_signature
from tracker.association.gating import GatedPairs
from tracker.association.gnn import GnnScores
from tracker.association.network import (
    NUM_CONTEXT_FEATURES,
    NUM_DET_FEATURES,
    NUM_PAIR_FEATURES,
    NUM_TRACK_FEATURES,
    PairGraph,
)

RANGE_RATE_VARIANCE = 1.0
"""m^2/s^2 added to the predicted range-rate variance: a nominal Doppler measurement noise."""

_MISMATCH_CLIP = 10.0

CONTEXT_FAR = 1e4
"""Normalised squared distance that stands for "no neighbour" (about 100 sigmas)."""

_CONTEXT_ROWS = 1024
"""Rows of the pairwise distance matrix computed at once: the temporaries take about 48 bytes
x rows x K (K = 10,000 points: 0.5 GB, 3 s), so very large scans cost; training and inference
compute them only for a network that reads them."""

_VARIANCE_FLOOR = 1e-12
"""m^2 added to a pair's summed variances, so coincident points of zero variance give a finite
(huge) distance instead of 0 / 0."""


def _quadratic(vector: tuple[np.ndarray, np.ndarray], matrix: np.ndarray) -> np.ndarray:
    """(K,) ``v^T M v`` for a 2-vector v given as its (K,) components and M (K, 2, 2), summed
    term by term in index order (``np.einsum("ki,kij,kj->k")`` bit for bit)."""
    v0, v1 = vector
    return (v0 * matrix[:, 0, 0] * v0 + v0 * matrix[:, 0, 1] * v1 + v1 * matrix[:, 1, 0] * v0
            + v1 * matrix[:, 1, 1] * v1)


def _heading(vx: np.ndarray, vy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K,) components of the unit heading of velocities (vx, vy); the x axis where the speed
    is zero."""
    speed = np.sqrt(vx * vx + vy * vy)
    moving = speed > 1e-9
    speed = np.maximum(speed, 1e-9)
    return np.where(moving, vx / speed, 1.0), np.where(moving, vy / speed, 0.0)


def range_rate_mismatch(inputs: AssociationInput, track: np.ndarray, det: np.ndarray,
                        states: np.ndarray | None = None,
                        covariances: np.ndarray | None = None) -> np.ndarray:
    """(K,) measured minus predicted range rate over its predicted std, clipped; 0 without Doppler.

    Predicted range rate of track i seen from the sensor of detection j: ``u . v_i`` with u the
    unit line of sight from the sensor to the track's predicted position; its variance is
    ``u^T P_vel u + RANGE_RATE_VARIANCE``. ``states`` (K, n) and ``covariances`` (K, n, n) are
    the pairs' track rows when the caller has gathered them already.
    """
    space = inputs.state_space
    states = inputs.track_states[track] if states is None else states
    covariances = inputs.track_covariances[track] if covariances is None else covariances
    velocity = space.velocity(states)
    line_of_sight = inputs.predicted_positions[track] - inputs.sensor_positions[det]
    lx, ly = line_of_sight[:, 0], line_of_sight[:, 1]
    distance = np.maximum(np.sqrt(lx * lx + ly * ly), 1e-9)
    unit = (lx / distance, ly / distance)
    predicted = unit[0] * velocity[:, 0] + unit[1] * velocity[:, 1]
    variance = _quadratic(unit, space.velocity_covariance(covariances)) + RANGE_RATE_VARIANCE
    mismatch = (inputs.detection_range_rate[det] - predicted) / np.sqrt(variance)
    return np.minimum(np.maximum(np.where(np.isnan(mismatch), 0.0, mismatch), -_MISMATCH_CLIP),
                      _MISMATCH_CLIP)


def pair_features(inputs: AssociationInput, pairs: GatedPairs, baseline: GnnScores
                  ) -> np.ndarray:
    """Features (K, NUM_PAIR_FEATURES) of the K gated pairs.

    Written component by component on (K,) arrays (2-D vectors), so a scan of a few pairs costs
    a few dozen small numpy calls, not einsum and norm calls on (K, 2) arrays.
    """
    track, det = pairs.track_index, pairs.detection_index
    space = inputs.state_space
    states, covariances = inputs.track_states[track], inputs.track_covariances[track]
    innovation = inputs.detections[det] - inputs.predicted_positions[track]
    covariance = space.position_covariance(covariances) + inputs.detection_covariances[det]
    nu0, nu1 = innovation[:, 0], innovation[:, 1]
    velocity = space.velocity(states)
    along = _heading(velocity[:, 0], velocity[:, 1])
    across = (-along[1], along[0])
    features = np.empty((track.size, NUM_PAIR_FEATURES))
    features[:, 0] = (nu0 * along[0] + nu1 * along[1]) / np.sqrt(_quadratic(along, covariance))
    features[:, 1] = (nu0 * across[0] + nu1 * across[1]) / np.sqrt(_quadratic(across, covariance))
    features[:, 2] = pairs.mahalanobis_sq / 10.0
    features[:, 3] = pairs.log_det / 10.0
    features[:, 4] = range_rate_mismatch(inputs, track, det, states, covariances) / 3.0
    features[:, 5] = np.isfinite(inputs.detection_range_rate[det])
    features[:, 6] = np.log1p(np.sqrt(nu0 * nu0 + nu1 * nu1))
    features[:, 7] = baseline.pair / 10.0
    return features


def neighbourhood(positions: np.ndarray, covariances: np.ndarray) -> np.ndarray:
    """(K, NUM_CONTEXT_FEATURES) context features of K points (K, 2) m with covariances
    (K, 2, 2) m^2: with ``s_i^2`` the mean of point i's two variances and ``d2_ij = |x_i -
    x_j|^2 / (s_i^2 + s_j^2)``, ``log1p(min_j d2_ij) / 3`` (``min`` capped at
    :data:`CONTEXT_FAR`) and ``log1p(#{j : d2_ij < 9})``, over the other points j."""
    count = positions.shape[0]
    variance = 0.5 * (covariances[:, 0, 0] + covariances[:, 1, 1])
    nearest = np.full(count, CONTEXT_FAR)
    close = np.zeros(count)
    for start in range(0, count, _CONTEXT_ROWS):
        rows = slice(start, min(start + _CONTEXT_ROWS, count))
        offset = positions[rows, None, :] - positions[None, :, :]
        d2 = (offset[..., 0] ** 2 + offset[..., 1] ** 2) / (variance[rows, None] + variance
                                                             + _VARIANCE_FLOOR)
        d2[np.arange(d2.shape[0]), np.arange(start, rows.stop)] = np.inf  # not itself
        nearest[rows] = np.minimum(d2.min(axis=1, initial=np.inf), CONTEXT_FAR)
        close[rows] = (d2 < 9.0).sum(axis=1)
    features = np.empty((count, NUM_CONTEXT_FEATURES))
    features[:, 0] = np.log1p(nearest) / 3.0
    features[:, 1] = np.log1p(close)
    return features


def track_features(inputs: AssociationInput, context: bool = False) -> np.ndarray:
    """(T, NUM_TRACK_FEATURES) per-track features; with ``context`` also the
    :func:`neighbourhood` of the predicted positions, (T, NUM_TRACK_FEATURES +
    NUM_CONTEXT_FEATURES)."""
    features = np.empty((inputs.num_tracks, NUM_TRACK_FEATURES))
    features[:, 0] = np.log1p(inputs.track_age.astype(np.float64))
    features[:, 1] = inputs.track_misses.astype(np.float64) / 3.0
    if inputs.num_tracks:
        features[:, 2] = np.linalg.slogdet(inputs.position_covariances)[1] / 10.0
    velocity = inputs.track_velocities
    vx, vy = velocity[:, 0], velocity[:, 1]
    features[:, 3] = np.log1p(np.sqrt(vx * vx + vy * vy))
    if not context:
        return features
    return np.concatenate([features, neighbourhood(inputs.predicted_positions,
                                                   inputs.position_covariances)], axis=1)


def detection_features(inputs: AssociationInput, context: bool = False) -> np.ndarray:
    """(D, NUM_DET_FEATURES) per-detection features; with ``context`` also the
    :func:`neighbourhood` of the detections, (D, NUM_DET_FEATURES + NUM_CONTEXT_FEATURES)."""
    features = np.stack(detection_signature(inputs)[:NUM_DET_FEATURES], axis=-1).reshape(
        -1, NUM_DET_FEATURES)
    if not context:
        return features
    return np.concatenate([features, neighbourhood(inputs.detections,
                                                   inputs.detection_covariances)], axis=1)


def build_graph(inputs: AssociationInput, pairs: GatedPairs, baseline: GnnScores,
                dtype: torch.dtype = torch.float32, context: bool = False) -> PairGraph:
    """The one-frame :class:`PairGraph` of a scan, its gated pairs and their gnn scores, with the
    context columns when ``context`` (for a network with ``NetworkConfig.context``); its groups
    are the connected components of the gate graph."""
    track_group, det_group, groups = pairs.components()

    def tensor(array: np.ndarray, kind: torch.dtype = dtype) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(array), dtype=kind)

    return PairGraph(
        pair_features=tensor(pair_features(inputs, pairs, baseline)),
        track_features=tensor(track_features(inputs, context)),
        det_features=tensor(detection_features(inputs, context)),
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
