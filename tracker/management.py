"""Track management: the live tracks and the swappable rules that start, confirm and end them.

Modelled on Stone Soup's initiators and deleters. An :class:`Initiator` turns detections that no
track took into new tentative tracks and decides when a tentative track is confirmed or rejected:
:class:`MofNInitiator` (M hits in its first N scans; two-point confirmation is 2 of 2; rejected
once M is out of reach) or :class:`ScoreInitiator` (Wald's sequential test on the track's
log-likelihood ratio, so the evidence needed grows with the clutter density).
A :class:`Deleter` ends tracks: :class:`MissesDeleter` (misses in a row), :class:`ScoreDropDeleter`
(the track score fallen far below its peak, so the misses it takes depend on Pd) and
:class:`CovarianceDeleter` (position uncertainty grown too large), combined by :class:`AnyDeleter`.
All parameters live in :class:`ManagementConfig`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Protocol

import numpy as np

from common.config import option
from tracker.association.gating import largest_eigenvalue_2x2
from tracker.models import CV_SPACE, MotionModel, MotionModels, StateSpace


@dataclass(frozen=True)
class TrackSet:
    """T live tracks as parallel arrays.

    Attributes:
        ids: (T,) int64 track id >= 1, stable over the track's life.
        states: (T, n) state means in the layout of ``space`` (``[x, y, vx, vy]`` m, m/s for
            constant velocity); read positions and velocities through ``space``.
        covariances: (T, n, n) state covariances.
        age: (T,) int64 frames since the track started (0 in its first frame).
        scans: (T,) int64 scans (sensor looks) the track was in view of, its first one included.
        hits: (T,) int64 scans with a detection, its first one included.
        misses: (T,) int64 scans in view without a detection, in a row.
        confirmed: (T,) bool.
        score: (T,) float64 track log-likelihood ratio, target against clutter: each hit adds
            ``log Pd + log N(nu; 0, S) - log lambda`` (lambda the clutter density per m^2 at
            the detection) plus the detection's signature evidence, each miss in view
            ``log(1 - Pd)``; at birth the evidence of the detection that started it. The evidence
            is 0 unless the associator rates signatures (learned backends, :mod:`tracker.pipeline`).
        peak_score: (T,) float64 the highest ``score`` the track has had after a scan (the
            tracker raises it after each update); None when building: ``score``.
        model: (T,) int64 index of each track's motion model among the tracker's
            (:class:`tracker.models.MotionModels`); None when building: all 0.
        space: the state layout (:class:`tracker.models.StateSpace`).
    """

    ids: np.ndarray
    states: np.ndarray
    covariances: np.ndarray
    age: np.ndarray
    scans: np.ndarray
    hits: np.ndarray
    misses: np.ndarray
    confirmed: np.ndarray
    score: np.ndarray
    model: np.ndarray | None = None
    peak_score: np.ndarray | None = None
    space: StateSpace = CV_SPACE

    def __post_init__(self) -> None:
        if self.model is None:
            object.__setattr__(self, "model", np.zeros(self.ids.shape, dtype=np.int64))
        if self.peak_score is None:
            object.__setattr__(self, "peak_score", np.array(self.score, dtype=np.float64))

    def with_peak_scores(self) -> TrackSet:
        """These tracks with ``peak_score`` raised to the current ``score`` where it is higher."""
        return dataclasses.replace(self, peak_score=np.maximum(self.peak_score, self.score))

    @classmethod
    def empty(cls, space: StateSpace = CV_SPACE) -> TrackSet:
        """No tracks."""
        integers = np.zeros(0, dtype=np.int64)
        states, covariances = space.empty()
        return cls(integers, states, covariances, integers, integers, integers, integers,
                   np.zeros(0, dtype=bool), np.zeros(0), integers, np.zeros(0), space)

    def __len__(self) -> int:
        return int(self.ids.size)

    @property
    def positions(self) -> np.ndarray:
        """(T, 2) positions m."""
        return self.space.position(self.states)

    @property
    def position_covariances(self) -> np.ndarray:
        """(T, 2, 2) position covariances m^2."""
        return self.space.position_covariance(self.covariances)

    def take(self, index: np.ndarray) -> TrackSet:
        """The tracks at ``index`` (int or bool array)."""
        return TrackSet(*(getattr(self, name)[index] for name in _TRACK_FIELDS),
                        space=self.space)

    def extend(self, other: TrackSet) -> TrackSet:
        """These tracks followed by ``other``'s (ValueError for another state space)."""
        if other.space != self.space:
            raise ValueError(f"cannot join tracks of state spaces {self.space.components} and "
                             f"{other.space.components}")
        return TrackSet(*(np.concatenate([getattr(self, name), getattr(other, name)])
                          for name in _TRACK_FIELDS), space=self.space)


_TRACK_FIELDS = tuple(f.name for f in fields(TrackSet) if f.name != "space")
"""The per-track array fields of :class:`TrackSet`."""


INITIATORS = ("score", "m-of-n", "two-point")
"""The initiators :func:`build_initiator` builds (``ManagementConfig.initiator``)."""

DELETERS = ("misses", "score-drop")
"""The deletion rules :func:`build_deleter` builds (``ManagementConfig.deleter``)."""


@dataclass(frozen=True)
class ManagementConfig:
    """Parameters of track initiation, confirmation and deletion.

    Attributes:
        initiator: ``"score"`` (sequential likelihood-ratio test), ``"m-of-n"`` or
            ``"two-point"`` (2 of 2).
        confirm_score: score at which a tentative track is confirmed (``"score"``):
            ``log((1 - beta) / alpha)``, 9.2 for a false-track probability alpha = 1e-4 and a
            missed-target probability beta = 0.1.
        reject_score: score at which a tentative track is rejected (``"score"``):
            ``log(beta / (1 - alpha))``.
        confirm_hits: M, hits needed to confirm a tentative track (``"m-of-n"``).
        confirm_scans: N, the first N scans in which those hits must come (``"m-of-n"``).
        initial_speed_std: m/s, std of each velocity component of a new track (its speed is
            unknown: zero mean); about half the fastest target's speed.
        deleter: ``"misses"`` (``max_misses`` misses in a row) or ``"score-drop"`` (the track
            score ``score_drop`` below its peak: each miss in view lowers the score by
            ``-log(1 - Pd)`` under the Kalman update (``-log(1 - Pd P_G)`` under PDA), so a drop
            of 9.2 is about 4 misses in a row at Pd 0.9 (5 just below 0.9, and under jpda) and
            8 at Pd 0.7, and poorly fitting detections lower it too; under mht a track moved to
            another branch keeps the peak of its earlier one); either way also
            ``max_position_std``.
        max_misses: delete a confirmed track after this many scans in view without a detection,
            in a row (``"misses"``).
        score_drop: log-likelihood ratio units a confirmed track's score may fall below its
            peak before it is deleted (``"score-drop"``); 9.2 mirrors ``confirm_score``.
        max_position_std: m, delete a track whose largest position std exceeds this.
    """

    initiator: str = field(default="score", metadata=option(choices=INITIATORS))
    confirm_score: float = 9.2
    reject_score: float = -2.3
    confirm_hits: int = 3
    confirm_scans: int = 4
    initial_speed_std: float = 20.0
    deleter: str = field(default="misses", metadata=option(choices=DELETERS))
    max_misses: int = 4
    score_drop: float = 9.2
    max_position_std: float = 200.0

    def __post_init__(self) -> None:
        if self.initiator not in INITIATORS:
            raise ValueError(f"initiator must be one of {sorted(INITIATORS)}")
        if self.deleter not in DELETERS:
            raise ValueError(f"deleter must be one of {sorted(DELETERS)}")
        if not 0.0 < self.score_drop < math.inf:
            raise ValueError("score_drop must be > 0 and finite")
        if not 1 <= self.confirm_hits <= self.confirm_scans:
            raise ValueError("need 1 <= confirm_hits <= confirm_scans")
        if self.max_misses < 1 or self.initial_speed_std <= 0 or self.max_position_std <= 0:
            raise ValueError("max_misses, initial_speed_std and max_position_std must be > 0")
        if not self.reject_score < 0.0 < self.confirm_score:
            raise ValueError("need reject_score < 0 < confirm_score")


class Initiator(Protocol):
    """Starts tentative tracks and decides their confirmation."""

    def initiate(self, positions: np.ndarray, covariances: np.ndarray,
                 model: MotionModel | MotionModels) -> tuple[np.ndarray, np.ndarray]:
        """States (K, n) and covariances (K, n, n) of new tracks at K measured positions (K, 2)
        with measurement covariances (K, 2, 2), built by ``model``'s ``initial_state`` from
        the initiator's velocity guess (the tracker passes its motion models)."""
        ...

    def confirm(self, tracks: TrackSet) -> tuple[np.ndarray, np.ndarray]:
        """``(confirm, reject)``: (T,) bool masks over tentative tracks."""
        ...


@dataclass(frozen=True)
class SinglePointInitiation:
    """Starts a tentative track at each unused measurement with zero velocity of std
    ``speed_std`` m/s per axis, so that its first update gives the two-point velocity."""

    speed_std: float

    def initiate(self, positions: np.ndarray, covariances: np.ndarray,
                 model: MotionModel | MotionModels) -> tuple[np.ndarray, np.ndarray]:
        """See :class:`Initiator`."""
        count = positions.shape[0]
        speed_variance = np.tile(np.eye(2) * self.speed_std**2, (count, 1, 1))
        return model.initial_state(positions, np.zeros((count, 2)), covariances, speed_variance)


@dataclass(frozen=True)
class MofNInitiator(SinglePointInitiation):
    """Single-point initiation; confirmed after M hits within its first N scans, rejected once
    M hits are out of reach."""

    hits: int
    scans: int

    def confirm(self, tracks: TrackSet) -> tuple[np.ndarray, np.ndarray]:
        """See :class:`Initiator`."""
        tentative = ~tracks.confirmed
        remaining = np.maximum(self.scans - tracks.scans, 0)
        return (tentative & (tracks.hits >= self.hits),
                tentative & (tracks.hits + remaining < self.hits))


@dataclass(frozen=True)
class ScoreInitiator(SinglePointInitiation):
    """Single-point initiation; Wald's sequential probability ratio test on the track score:
    confirmed at ``confirm_score``, rejected at ``reject_score``."""

    confirm_score: float
    reject_score: float

    def confirm(self, tracks: TrackSet) -> tuple[np.ndarray, np.ndarray]:
        """See :class:`Initiator`."""
        tentative = ~tracks.confirmed
        return (tentative & (tracks.score >= self.confirm_score),
                tentative & (tracks.score <= self.reject_score))


class Deleter(Protocol):
    """Decides which tracks end."""

    def delete(self, tracks: TrackSet) -> np.ndarray:
        """(T,) bool, True for tracks to delete."""
        ...


@dataclass(frozen=True)
class MissesDeleter:
    """Deletes confirmed tracks after ``max_misses`` scans in view without a detection, in a row."""

    max_misses: int

    def delete(self, tracks: TrackSet) -> np.ndarray:
        """See :class:`Deleter`."""
        return tracks.confirmed & (tracks.misses >= self.max_misses)


@dataclass(frozen=True)
class ScoreDropDeleter:
    """Deletes confirmed tracks whose score has fallen more than ``drop`` below its peak
    (Blackman and Popoli's score-drop rule): the misses in a row it tolerates grow as Pd falls."""

    drop: float

    def delete(self, tracks: TrackSet) -> np.ndarray:
        """See :class:`Deleter`."""
        return tracks.confirmed & (tracks.score < tracks.peak_score - self.drop)


@dataclass(frozen=True)
class CovarianceDeleter:
    """Deletes tracks whose largest position standard deviation exceeds ``max_position_std`` m."""

    max_position_std: float

    def delete(self, tracks: TrackSet) -> np.ndarray:
        """See :class:`Deleter`."""
        largest = largest_eigenvalue_2x2(tracks.position_covariances)
        return largest > self.max_position_std**2


@dataclass(frozen=True)
class AnyDeleter:
    """Deletes a track when any of its ``deleters`` does."""

    deleters: tuple[Deleter, ...]

    def delete(self, tracks: TrackSet) -> np.ndarray:
        """See :class:`Deleter`."""
        result = np.zeros(len(tracks), dtype=bool)
        for deleter in self.deleters:
            result |= deleter.delete(tracks)
        return result


def build_initiator(config: ManagementConfig) -> Initiator:
    """The initiator ``config`` names (two-point = 2 of 2)."""
    speed_std = config.initial_speed_std
    if config.initiator == "score":
        return ScoreInitiator(speed_std, config.confirm_score, config.reject_score)
    if config.initiator == "two-point":
        return MofNInitiator(speed_std, hits=2, scans=2)
    return MofNInitiator(speed_std, config.confirm_hits, config.confirm_scans)


def build_deleter(config: ManagementConfig) -> Deleter:
    """The configured rule (misses in a row or score drop) or covariance growth, whichever
    comes first."""
    rule = (ScoreDropDeleter(config.score_drop) if config.deleter == "score-drop"
            else MissesDeleter(config.max_misses))
    return AnyDeleter((rule, CovarianceDeleter(config.max_position_std)))
