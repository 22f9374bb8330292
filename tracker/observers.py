"""The tracker's observer hook: what each scan did, for training data, evaluation and debugging.

A :class:`~tracker.pipeline.Tracker` built with ``observers=[...]`` hands every observer one
:class:`ScanReport` at the end of each sensor scan: the scan's measurements, every association
problem it posed (one per stage) with the backend's answer, the detection evidence it used and the
tracks it started. Tracks are named by their ids (``TrackSet.ids``), which never change and are
never reused, so an observer can follow a track from scan to scan without looking inside the
tracker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from tracker.association.base import AssociationInput, WeightedAssociation
from tracker.management import TrackSet
from tracker.measurements import Measurements
from tracker.sensors import SensorModel


@dataclass(frozen=True)
class AssociationProblem:
    """One association call: the backend saw ``inputs`` and answered ``association``.

    Attributes:
        track_ids: (T,) int64 ids of the tracks in ``inputs``, in its row order.
        detection_rows: (D,) int64 rows of the scan's measurements in ``inputs``, in its order.
        inputs: what the backend saw.
        association: its answer, local to ``inputs``' rows.
    """

    track_ids: np.ndarray
    detection_rows: np.ndarray
    inputs: AssociationInput
    association: WeightedAssociation


@dataclass(frozen=True)
class ScanReport:
    """One sensor scan, as the tracker met it.

    Attributes:
        sensor: the sensor model of the scan.
        measurements: its D measurements (point clouds already clustered).
        problems: the association problems of the scan, in the order they were solved.
        evidence: (D,) the detection evidence (log-likelihood ratio) the tracker used, zeros
            when the backend gives none.
        born_ids: (B,) int64 ids of the tentative tracks started from free measurements.
        born_rows: (B,) int64 the measurement row each of them started from.
        before: the tracks the scan started from (predicted to the frame time).
        after: the tracks after it: ``before``'s, updated, then the B born ones.
    """

    sensor: SensorModel
    measurements: Measurements
    problems: tuple[AssociationProblem, ...]
    evidence: np.ndarray
    born_ids: np.ndarray
    born_rows: np.ndarray
    before: TrackSet
    after: TrackSet


@runtime_checkable
class ScanObserver(Protocol):
    """Anything told about every scan a tracker processes."""

    def observe_scan(self, report: ScanReport) -> None:
        """Called once per sensor scan, after the update and the track births."""
        ...
