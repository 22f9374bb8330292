"""``gnn``: the classical global-nearest-neighbour association (the baseline).

Each gated pair scores its log-likelihood ratio against clutter: detection with probability Pd
times the Gaussian likelihood of the innovation,
``log Pd - d2/2 - log det S / 2 - log 2 pi``; a missed track scores ``log(1 - Pd)`` and a
detection left to clutter or a new track scores ``log lambda`` (clutter density per m^2). The
best joint assignment of the augmented matrix (chi-square gate, Hungarian per connected component
of the gate graph) is the maximum-likelihood association of the scan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from common.config import build_config
from tracker.association.base import AssociationInput
from tracker.association.gating import GatedPairs, gate, solve_gated

REMOVED_SETTINGS = ("detection_probability", "clutter_density")
"""Former GnnConfig fields, fallbacks for scans without a sensor model that the tracker never
used (every scan has one): Pd and the clutter density come from the sensor models
(:mod:`tracker.sensors`: ``pd``, ``clutter_rate``). Old checkpoints may still hold them."""


@dataclass(frozen=True)
class GnnConfig:
    """Settings of the gnn backend (Pd and clutter density are the scan's sensor model's).

    Attributes:
        gate_probability: chi-square gate probability P_G (2 degrees of freedom).
    """

    gate_probability: float = 0.999

    def __post_init__(self) -> None:
        if not 0.0 < self.gate_probability < 1.0:
            raise ValueError("gate_probability must be in (0, 1)")

    @classmethod
    def from_checkpoint(cls, data: dict) -> GnnConfig:
        """From a checkpoint's ``gnn`` dict, ignoring :data:`REMOVED_SETTINGS`; InputError for a
        value of the wrong type (:func:`common.config.build_config`)."""
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in REMOVED_SETTINGS}
        return build_config(cls, data, "checkpoint gnn")


class GnnAssociator:
    """Global nearest neighbour: Hungarian on Mahalanobis log-likelihood scores with a gate."""

    def __init__(self, config: GnnConfig | None = None) -> None:
        self.config = config or GnnConfig()

    def associate(self, inputs: AssociationInput) -> np.ndarray:
        """(T,) detection index per track, -1 for a missed track (see the module docstring)."""
        pairs = gate(inputs, self.config.gate_probability)
        scores = gnn_scores(inputs, pairs, self.config)
        return solve_gated(pairs, scores.pair, scores.missed, scores.clutter)


@dataclass(frozen=True)
class GnnScores:
    """The gnn log-likelihood-ratio scores of one scan (larger = better).

    Attributes:
        pair: (K,) ``log Pd - d2/2 - log det S / 2 - log 2 pi`` of each gated pair.
        missed: (T,) ``log(1 - Pd)`` of leaving each track without a detection.
        clutter: (D,) ``log lambda`` of leaving each detection to clutter or a new track.
    """

    pair: np.ndarray
    missed: np.ndarray
    clutter: np.ndarray


def gnn_scores(inputs: AssociationInput, pairs: GatedPairs, config: GnnConfig) -> GnnScores:
    """The gnn scores of the gated ``pairs``, with Pd and clutter density from the scan's
    sensor model.

    Raises:
        ValueError: the scan carries no Pd or no clutter density.
    """
    if inputs.detection_probability is None or inputs.clutter_density is None:
        raise ValueError("gnn scores need the scan's detection_probability and clutter_density "
                         "(from its sensor model)")
    detection_probability = np.minimum(np.maximum(  # np.clip, without its Python overhead
        np.asarray(inputs.detection_probability, dtype=float), 1e-6), 1.0 - 1e-6)
    clutter_density = np.maximum(np.asarray(inputs.clutter_density, dtype=float), 1e-30)
    pair = (np.log(detection_probability[pairs.track_index]) - 0.5 * pairs.mahalanobis_sq
            - 0.5 * pairs.log_det - math.log(2.0 * math.pi))
    return GnnScores(pair, np.log1p(-detection_probability), np.log(clutter_density))


def build_gnn(config: GnnConfig | None = None) -> GnnAssociator:
    """Registry factory for ``--assoc gnn``."""
    return GnnAssociator(config)
