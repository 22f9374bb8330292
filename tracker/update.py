"""The update step of one scan, a component of the Tracker: what the association does to tracks.

An :class:`Updater` takes the predicted tracks and the scan's checked association (a
:class:`~tracker.association.base.WeightedAssociation`) and returns the tracks after the state
update, the hit / miss bookkeeping and the score increments (see
:class:`~tracker.management.TrackSet`):

- :class:`KalmanUpdate`, for hard assignments (``gnn``, ``learned``, ``sinkhorn``): the Kalman
  update of each matched track with its detection.
- :class:`PdaUpdate`, for weights (``jpda``): the probabilistic data association update, the
  moment-matched mixture of the "missed" prior and one Kalman posterior per weighted detection
  (with per-detection measurement covariances), whose covariance carries the spread of the
  innovations.

A track counts a hit when its detection weights sum to at least 1/2 (a matched track for hard
assignments), else, when in view, a miss.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tracker.association.base import CLAIM_THRESHOLD, WeightedAssociation
from tracker.association.gating import mahalanobis_2x2
from tracker.filtering import update
from tracker.management import TrackSet
from tracker.measurements import Measurements


class Updater(Protocol):
    """The update step of a scan."""

    def update(self, tracks: TrackSet, association: WeightedAssociation, in_view: np.ndarray,
               pd: np.ndarray, measurements: Measurements, evidence: np.ndarray) -> TrackSet:
        """Tracks (T) after the scan.

        Args:
            tracks: the predicted tracks.
            association: the scan's association of these tracks and ``measurements`` (D).
            in_view: (T,) bool, tracks in the sensor's field of view (only they can miss).
            pd: (T,) detection probability of each track in this sensor.
            measurements: the scan's measurements.
            evidence: (D,) log-likelihood ratio of each measurement's signature (0 unless the
                associator rates signatures).
        """
        ...


def _log_pair_likelihood(innovations: np.ndarray, covariances: np.ndarray) -> np.ndarray:
    """(K,) ``log N(nu; 0, S)`` of K 2-D innovations nu (K, 2) m with covariances S (K, 2, 2)."""
    distance, log_det = mahalanobis_2x2(innovations, covariances)
    return -0.5 * distance - 0.5 * log_det - np.log(2.0 * np.pi)


def _bookkept(tracks: TrackSet, hit: np.ndarray, in_view: np.ndarray, states: np.ndarray,
              covariances: np.ndarray, score: np.ndarray) -> TrackSet:
    """``tracks`` with new states, covariances and scores, and the scans / hits / misses counts
    after a scan in which the (T,) ``hit`` tracks had a detection."""
    return dataclasses.replace(
        tracks, states=states, covariances=covariances, scans=tracks.scans + in_view,
        hits=tracks.hits + hit, misses=np.where(hit, 0, tracks.misses + in_view), score=score)


def _clipped(pd: np.ndarray) -> np.ndarray:
    return np.clip(pd, 1e-6, 1.0 - 1e-6)


@dataclass(frozen=True)
class KalmanUpdate:
    """Kalman update of each track with the one detection a hard assignment gives it.

    Score: each hit adds ``log Pd + log N(nu; 0, S) - log lambda`` plus the detection's evidence,
    each miss in view ``log(1 - Pd)``.
    """

    def update(self, tracks: TrackSet, association: WeightedAssociation, in_view: np.ndarray,
               pd: np.ndarray, measurements: Measurements, evidence: np.ndarray) -> TrackSet:
        """See :class:`Updater`; ValueError for a soft association."""
        assignment = association.hard_assignment()
        if assignment is None:
            raise ValueError("the Kalman update needs a hard assignment; soft association "
                             "weights need the PDA update (tracker.update.PdaUpdate)")
        matched = assignment >= 0
        states, covariances = tracks.states.copy(), tracks.covariances.copy()
        pd = _clipped(pd)
        score = tracks.score + np.where(in_view & ~matched, np.log1p(-pd), 0.0)
        if matched.any():
            chosen = assignment[matched]
            posterior = update(states[matched], covariances[matched], measurements.xy[chosen],
                               measurements.covariances[chosen], tracks.space.measurement_matrix)
            states[matched], covariances[matched] = posterior.states, posterior.covariances
            distance, log_det = mahalanobis_2x2(posterior.innovations,
                                                posterior.innovation_covariances)
            score[matched] += (np.log(pd[matched]) - 0.5 * distance - 0.5 * log_det
                               - np.log(2.0 * np.pi)
                               - np.log(measurements.clutter_density[chosen]) + evidence[chosen])
        return _bookkept(tracks, matched, in_view, states, covariances, score)


@dataclass(frozen=True)
class PdaUpdate:
    """PDA update of each track with all its weighted detections.

    With beta_0 the miss weight and beta_j the pair weights, x_j, P_j the Kalman posterior with
    detection j and x^, P^ the prediction: ``x = beta_0 x^ + sum_j beta_j x_j`` and ``P =
    beta_0 (P^ + d_0 d_0^T) + sum_j beta_j (P_j + d_j d_j^T)``, ``d_j = x_j - x``. With one
    measurement covariance for all detections this is the textbook ``x = x^ + K nu``,
    ``P = beta_0 P^ + (1 - beta_0) P_c + K (sum_j beta_j nu_j nu_j^T - nu nu^T) K^T``,
    ``nu = sum_j beta_j nu_j`` (Bar-Shalom & Li).

    Score: in view, the track's own likelihood ratio of the scan, ``log(1 - Pd P_G + sum_j Pd
    N(nu_j; 0, S_j) / lambda_j)`` over its paired detections, plus ``sum_j beta_j`` times their
    evidence; a false track's increments average <= 0 (clutter in the gate contributes Pd P_G on
    average), a true track's grow.

    Attributes:
        gate_probability: P_G of the gate that chose the pairs.
    """

    gate_probability: float = 0.999

    def update(self, tracks: TrackSet, association: WeightedAssociation, in_view: np.ndarray,
               pd: np.ndarray, measurements: Measurements, evidence: np.ndarray) -> TrackSet:
        """See :class:`Updater`."""
        count = len(tracks)
        pd = _clipped(pd)
        states, covariances = tracks.states.copy(), tracks.covariances.copy()
        ratio = 1.0 - pd * self.gate_probability
        pair_track, pair_detection = association.track_index, association.detection_index
        weighted_evidence = np.zeros(count)
        if pair_track.size:
            posterior = update(states[pair_track], covariances[pair_track],
                               measurements.xy[pair_detection],
                               measurements.covariances[pair_detection],
                               tracks.space.measurement_matrix)
            ratio = ratio + np.bincount(
                pair_track, pd[pair_track] * np.exp(
                    _log_pair_likelihood(posterior.innovations, posterior.innovation_covariances)
                    - np.log(measurements.clutter_density[pair_detection])), count)
            weighted_evidence = np.bincount(pair_track, association.weight
                                            * evidence[pair_detection], count)
            touched = np.unique(pair_track)
            states[touched], covariances[touched] = _mixture(
                tracks.states[touched], tracks.covariances[touched], association.missed[touched],
                np.searchsorted(touched, pair_track), association.weight, posterior.states,
                posterior.covariances)
        score = tracks.score + np.where(in_view, np.log(ratio) + weighted_evidence, 0.0)
        hit = association.missed <= 1.0 - CLAIM_THRESHOLD
        return _bookkept(tracks, hit, in_view, states, covariances, score)


def _mixture(prior_states: np.ndarray, prior_covariances: np.ndarray, prior_weight: np.ndarray,
             owner: np.ndarray, weight: np.ndarray, states: np.ndarray, covariances: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Moment-matched Gaussian of each of U mixtures: prior (U, n), (U, n, n) with weight (U,)
    plus K components (K, n), (K, n, n) of ``weight`` (K,) belonging to mixture ``owner`` (K,).

    Returns the means (U, n) and covariances (U, n, n); weights of a mixture must sum to 1.
    """
    mean = prior_weight[:, None] * prior_states
    np.add.at(mean, owner, weight[:, None] * states)
    prior_offset = prior_states - mean
    covariance = prior_weight[:, None, None] * (
        prior_covariances + prior_offset[:, :, None] * prior_offset[:, None, :])
    offset = states - mean[owner]
    np.add.at(covariance, owner, weight[:, None, None] * (
        covariances + offset[:, :, None] * offset[:, None, :]))
    return mean, 0.5 * (covariance + covariance.transpose(0, 2, 1))
