"""Kalman filtering of many tracks at once: the filterpy equations, batched over tracks.

``predict`` and ``update`` compute exactly what ``filterpy.kalman.predict`` and
``filterpy.kalman.update`` (Joseph-form covariance) compute for one track, for a stack of T
tracks in one numpy call each. With 1,000 tracks a per-object filterpy loop costs far more
than the rest of a frame (``benchmarks/tracking.py`` measures both side by side), so the tracker
uses these; the tests check them against filterpy track by track. The measurement matrix H comes
from the tracks' state space (:attr:`tracker.models.StateSpace.measurement_matrix`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def predict(states: np.ndarray, covariances: np.ndarray, transition: np.ndarray,
            process_noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kalman predict for T tracks: ``x' = F x``, ``P' = F P F^T + Q``.

    Args:
        states: (T, n) state means.
        covariances: (T, n, n) state covariances.
        transition: F (n, n).
        process_noise: Q (n, n).
    Returns:
        ``(states, covariances)`` of the prediction, shapes as given.
    """
    predicted_states = states @ transition.T
    predicted_covariances = transition @ covariances @ transition.T + process_noise
    return predicted_states, predicted_covariances


def innovation_covariance(covariances: np.ndarray, measurement_covariances: np.ndarray,
                          measurement_matrix: np.ndarray) -> np.ndarray:
    """``S = H P H^T + R`` for K (track, measurement) pairs.

    Args:
        covariances: (K, n, n) predicted state covariances.
        measurement_covariances: (K, m, m) or (m, m) measurement covariances R.
        measurement_matrix: H (m, n).
    Returns:
        S (K, m, m).
    """
    return measurement_matrix @ covariances @ measurement_matrix.T + measurement_covariances


@dataclass(frozen=True)
class UpdateResult:
    """Posterior of K updated tracks and the innovation statistics of their measurements.

    Attributes:
        states: (K, n) posterior means.
        covariances: (K, n, n) posterior covariances (Joseph form, symmetric).
        innovations: (K, m) ``z - H x`` before the update.
        innovation_covariances: (K, m, m) ``S = H P H^T + R``.
    """

    states: np.ndarray
    covariances: np.ndarray
    innovations: np.ndarray
    innovation_covariances: np.ndarray

    def normalised_innovation_squared(self) -> np.ndarray:
        """(K,) NIS ``nu^T S^-1 nu``; chi-square (m dof) when the filter is consistent."""
        solved = np.linalg.solve(self.innovation_covariances, self.innovations[..., None])[..., 0]
        return np.einsum("ki,ki->k", self.innovations, solved)


def update(states: np.ndarray, covariances: np.ndarray, measurements: np.ndarray,
           measurement_covariances: np.ndarray, measurement_matrix: np.ndarray) -> UpdateResult:
    """Kalman update for K tracks, each with its own measurement and measurement covariance.

    ``K = P H^T S^-1``, ``x += K (z - H x)``, ``P = (I - K H) P (I - K H)^T + K R K^T``.

    Args:
        states: (K, n) predicted means.
        covariances: (K, n, n) predicted covariances.
        measurements: (K, m) measurements z.
        measurement_covariances: (K, m, m) their covariances R.
        measurement_matrix: H (m, n).
    Returns:
        The posterior and the innovation statistics, see :class:`UpdateResult`.
    """
    innovations = measurements - states @ measurement_matrix.T
    innovation_covariances = innovation_covariance(covariances, measurement_covariances,
                                                   measurement_matrix)
    cross = covariances @ measurement_matrix.T
    gains = np.linalg.solve(innovation_covariances, cross.transpose(0, 2, 1)).transpose(0, 2, 1)
    posterior_states = states + (gains @ innovations[..., None])[..., 0]
    reduction = np.eye(states.shape[1]) - gains @ measurement_matrix
    posterior_covariances = (reduction @ covariances @ reduction.transpose(0, 2, 1)
                             + gains @ measurement_covariances @ gains.transpose(0, 2, 1))
    return UpdateResult(posterior_states, posterior_covariances, innovations,
                        innovation_covariances)
