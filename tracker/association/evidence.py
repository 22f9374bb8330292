"""Learned detection evidence: is a detection's own signature that of a target or of clutter?

The track score of the sequential confirmation test (:class:`~tracker.management.ScoreInitiator`)
adds, per hit, the *kinematic* log-likelihood ratio of target against clutter (where the detection
fell against where the track predicted it). It ignores what the detection itself looks like,
although a radar's amplitude or a point cloud's point count and spread tell targets from clutter
too; radar trackers add an amplitude likelihood ratio for that (Lerro and Bar-Shalom, 1990).
Here a small network learns that ratio from labelled simulated detections:

    log LR(f) = log p(f | target) / p(f | clutter) = logit P(target | f) - log(n_target / n_clutter)

with f the detection's features below, ``logit P(target | f)`` trained by binary cross-entropy on
the detections of the training scenes and ``n_target / n_clutter`` their label counts (the
classifier's prior odds, removed so that what remains is the likelihood ratio). The tracker adds it
to a new track's score at birth and to a track's score with every detection it takes.

Features (``NUM_EVIDENCE_FEATURES`` = 6), each O(1), never NaN: amplitude (SNR dB) / 10 and the
same as a power ratio / 100, clipped at 10 (0 when none; fluctuating echoes have likelihoods
linear in power, e.g. Swerling I: log LR = a + b * power), 1 if there is an amplitude,
``log1p(points)``, point spread (m) / 10, ``log1p(range / 1 km)`` from the sensor (a target's echo
weakens with range, clutter's does not).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from tracker.association.base import AssociationInput

NUM_EVIDENCE_FEATURES = 6


def detection_signature(inputs: AssociationInput) -> tuple[np.ndarray, ...]:
    """A detection's own signature, the columns that the evidence features and the association
    network's detection features share: (D,) arrays amplitude (SNR dB) / 10 (0 when none), 1 if
    it has an amplitude (else 0), ``log1p(points)``, point spread (m) / 10; and last the (D,)
    amplitude in dB, NaN where there is none (:attr:`AssociationInput.amplitude_db`)."""
    amplitude = inputs.amplitude_db
    has_amplitude = np.isfinite(amplitude)
    return (np.where(has_amplitude, amplitude, 0.0) / 10.0, has_amplitude.astype(np.float64),
            np.log1p(inputs.detection_points.astype(np.float64)),
            inputs.detection_spread.astype(np.float64) / 10.0, amplitude)


def evidence_features(inputs: AssociationInput) -> np.ndarray:
    """(D, NUM_EVIDENCE_FEATURES) signature features of the scan's D detections."""
    features = np.empty((inputs.num_detections, NUM_EVIDENCE_FEATURES))
    decibels_10, has_amplitude, log_points, spread_10, amplitude = detection_signature(inputs)
    decibels = np.where(np.isfinite(amplitude), amplitude, -np.inf)
    offset = inputs.detections - inputs.sensor_positions
    dx, dy = offset[:, 0], offset[:, 1]
    features[:, 0] = decibels_10
    features[:, 1] = np.minimum(10.0 ** (decibels / 10.0) / 100.0, 10.0)
    features[:, 2] = has_amplitude
    features[:, 3] = log_points
    features[:, 4] = spread_10
    features[:, 5] = np.log1p(np.sqrt(dx * dx + dy * dy) / 1000.0)
    return features


class DetectionEvidence(nn.Module):
    """Target-against-clutter classifier of single detections (module docstring).

    Its output layer starts at zero and its label counts empty, so an untrained model gives every
    detection a log-likelihood ratio of exactly 0 (the kinematic score alone).
    """

    def __init__(self, hidden: int = 32, features: int = NUM_EVIDENCE_FEATURES):
        super().__init__()
        self.classifier = nn.Sequential(nn.Linear(features, hidden), nn.SiLU(),
                                        nn.Linear(hidden, 1))
        nn.init.zeros_(self.classifier[-1].weight)
        nn.init.zeros_(self.classifier[-1].bias)
        self.register_buffer("label_counts", torch.zeros(2, dtype=torch.float64))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits ``logit P(target | f)`` (D,) of features (D, F), under the training mix."""
        return self.classifier(features).squeeze(-1)

    def observe(self, clutter: float, target: float) -> None:
        """Add training label counts (clutter and target detections) for the prior odds."""
        self.label_counts += torch.tensor([clutter, target], dtype=torch.float64)

    def prior_log_odds(self) -> float:
        """``log(n_target / n_clutter)`` of the labels seen (0 before any)."""
        clutter, target = self.label_counts.tolist()
        return math.log(target / clutter) if target > 0 and clutter > 0 else 0.0

    def log_likelihood_ratio(self, features: torch.Tensor) -> torch.Tensor:
        """``log p(f | target) / p(f | clutter)`` (D,) of features (D, F)."""
        return self(features) - self.prior_log_odds()


def evidence_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of logits (D,) against labels (D,) (1 target, 0 clutter); a
    zero that keeps ``logits`` in the graph when D = 0."""
    if labels.numel() == 0:
        return logits.sum() * 0.0
    return nn.functional.binary_cross_entropy_with_logits(logits, labels)
