"""``mht``: track-oriented multiple-hypothesis association with N-scan pruning.

Each track keeps a few hypotheses, its *leaves*: filtered states that differ in which detections
(or misses) the track took over the last ``window - 1`` scans it was associated in (a scan with no
call for the track, out of view or in a stage without detections, does not move its window);
every older decision is final and shared by all of the track's leaves. A track's hypotheses
begin with the detection that started it (the tracker reports every new track,
:class:`~tracker.association.base.HypothesisKeeper`).
Per scan:

1. every leaf is predicted to the scan time (with the tracker's motion models) and gated against
   the scan's detections (the chi-square gate of gnn);
2. every leaf branches into a *miss* child, scoring ``log(1 - Pd)``, and one child per gated
   detection j, scoring ``log Pd + log N(nu; 0, S) - log lambda_j`` (lambda_j the clutter
   density per m^2) with the Kalman posterior given j; a child's score is its leaf's plus that,
   the track's log-likelihood ratio along the branch (the score
   :class:`tracker.update.KalmanUpdate` keeps). Children more than ``prune_log_ratio`` below
   their track's best are dropped;
3. the best global hypothesis takes one child per track such that no detection of the window
   is used twice, exactly (:func:`tracker.association.hypothesis_selection.best_hypotheses`).
   Each track also has a *no target* choice that uses no detection and scores
   :data:`REJECTION_PENALTY` below its best child. The penalty is far larger than the spread of
   any track's kept children, so the selection rejects as few tracks as it can: only when the
   tracks' branches cannot all be chosen without sharing a detection (a duplicate of another
   track, or a tentative track started by a detection that a revised branch of an established
   track has taken) is one rejected; the tracker then deletes it;
4. N-scan pruning: the decision ``window`` scans back becomes final, the chosen child's; the
   children that disagree with it are dropped, then all but the chosen one and the best others,
   ``max_hypotheses`` per track in all.

A track reports its chosen child: the association gives the tracker the chosen child's detection
of this scan, and the update step (:class:`MhtUpdate`) writes the chosen child's state,
covariance, score, hits and misses into the track. When a later scan makes another branch the
best, the track moves to that branch: a decision revised within the window. ``window = 1`` keeps
one leaf per track and is gnn.

Approximations: a leaf is predicted from its own time to the scan's in one step with the motion
model of the track's birth (exactly the frame-by-frame prediction for ``cv``, whose transition
and process noise compose; close to it for ``ct``); and a track whose reported leaf is dropped in
a scan without a call for it (:meth:`MhtAssociator._drop_held`) reports its best remaining leaf's
state from its next association on, not in that frame.

With staged association (confirmed tracks first, :class:`tracker.pipeline.TrackerConfig`) the
tracks of a later stage cannot take a detection of the window that an earlier stage's chosen
hypotheses hold: established tracks have priority. Signature evidence (the learned backends') is
not used: mht is a classical backend.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

import numpy as np

from common.limits import check_number
from tracker.association.base import MISSED, AssociationInput
from tracker.association.gating import gate
from tracker.association.gnn import GnnConfig, gnn_scores
from tracker.association.hypothesis_selection import NO_KEY, best_hypotheses, best_per_track
from tracker.filtering import update
from tracker.management import TrackSet
from tracker.measurements import Measurements
from tracker.models import MotionModels

MAX_WINDOW, MAX_HYPOTHESES = 50, 10_000
"""Limits of :class:`MhtConfig` (a window of 50 scans and 10,000 leaves per track are far past
any use; they bound the memory a bad config can ask for)."""

REJECTION_PENALTY = 1e4
"""Score of a track's *no target* choice relative to its best child: far below any kept child
(those are within ``prune_log_ratio`` of the best), so it is taken only when nothing else fits."""


@dataclass(frozen=True)
class MhtConfig:
    """Settings of the mht backend (``[mht]`` in the tracker's TOML, ``--mht-*`` options).

    Attributes:
        window: N of N-scan pruning, in scans: a decision is final after this many (1 = gnn;
            2 measured best on the formation and crossing presets, 3 worse than gnn there:
            docs/results/hard/mht/README.md).
        max_hypotheses: leaves kept per track.
        prune_log_ratio: leaves this far (natural log) below their track's best are dropped.
    """

    window: int = 2
    max_hypotheses: int = 8
    prune_log_ratio: float = 9.2

    def __post_init__(self) -> None:
        check_number("mht window", self.window, 1, MAX_WINDOW, integer=True)
        check_number("mht max_hypotheses", self.max_hypotheses, 1, MAX_HYPOTHESES, integer=True)
        if not self.prune_log_ratio > 0:
            raise ValueError("mht prune_log_ratio must be > 0")


@dataclass(frozen=True)
class Leaves:
    """L track hypotheses, as parallel arrays.

    Attributes:
        owner: (L,) int64 id of the track each belongs to.
        states: (L, n) state means at ``time``; covariances: (L, n, n).
        time: (L,) s, the time of the last scan that updated the leaf.
        model: (L,) int64 motion model (:class:`tracker.models.MotionModels` index).
        score: (L,) log-likelihood ratio gained since the track's hypotheses began.
        hits: (L,) int64 detections taken since then; misses: (L,) int64 misses in a row.
        keys: (L, window - 1) int64 detection key of each of the last scans, oldest first,
            ``NO_KEY`` for a miss or a scan before the track's first.
        reported: (L,) bool, the leaf its track chose in its last scan (and, for children
            being formed, the miss child of that leaf): the reported leaves of all tracks fit
            together, so their miss children are always kept and a global hypothesis exists.
    """

    owner: np.ndarray
    states: np.ndarray
    covariances: np.ndarray
    time: np.ndarray
    model: np.ndarray
    score: np.ndarray
    hits: np.ndarray
    misses: np.ndarray
    keys: np.ndarray
    reported: np.ndarray

    @classmethod
    def empty(cls, motion_models: MotionModels, window: int) -> Leaves:
        integers = np.zeros(0, dtype=np.int64)
        states, covariances = motion_models.space.empty()
        return cls(integers, states, covariances, np.zeros(0), integers, np.zeros(0), integers,
                   integers, np.zeros((0, window - 1), dtype=np.int64), np.zeros(0, dtype=bool))

    def __len__(self) -> int:
        return int(self.owner.size)

    def take(self, index: np.ndarray) -> Leaves:
        return Leaves(*(getattr(self, name)[index] for name in _LEAF_FIELDS))

    def extend(self, other: Leaves) -> Leaves:
        return Leaves(*(np.concatenate([getattr(self, name), getattr(other, name)])
                        for name in _LEAF_FIELDS))


_LEAF_FIELDS = tuple(f.name for f in fields(Leaves))


class MhtAssociator:
    """Track-oriented MHT (see the module docstring): a
    :class:`~tracker.association.base.HypothesisKeeper` whose :meth:`updater` the tracker
    applies.

    Args:
        config: the gate probability (Pd and the clutter density come from the scan).
        settings: window, hypotheses per track and pruning threshold.
    """

    def __init__(self, config: GnnConfig | None = None, settings: MhtConfig | None = None
                 ) -> None:
        self.config, self.settings = config or GnnConfig(), settings or MhtConfig()
        self.motion_models: MotionModels | None = None

    def use_motion_models(self, motion_models: MotionModels) -> None:
        """Predict with ``motion_models`` and start afresh (no hypotheses held)."""
        self.motion_models = motion_models
        self.leaves = Leaves.empty(motion_models, self.settings.window)
        self.base: dict[int, tuple[float, int]] = {}  # track id -> its score, hits at birth
        self.reports: list[Leaves] = []  # the chosen children of this scan's calls
        self.held = np.zeros(0, dtype=np.int64)  # detections this scan's chosen children hold
        self.rejected_ids = np.zeros(0, dtype=np.int64)

    def tracks_born(self, tracks: TrackSet, detection_ids: np.ndarray, time: float) -> None:
        """Start the hypotheses of new ``tracks``, each with the detection that started it."""
        self._check_bound()
        count = len(tracks)
        keys = np.full((count, self.settings.window - 1), NO_KEY, dtype=np.int64)
        if keys.shape[1]:
            keys[:, -1] = detection_ids
        self.leaves = self.leaves.extend(Leaves(
            tracks.ids, tracks.states, tracks.covariances, np.full(count, float(time)),
            tracks.model, np.zeros(count), np.zeros(count, dtype=np.int64), tracks.misses, keys,
            np.ones(count, dtype=bool)))
        self.base.update(zip(tracks.ids.tolist(),
                             zip(tracks.score.tolist(), tracks.hits.tolist(), strict=True),
                             strict=True))

    def rejected(self, track_ids: np.ndarray) -> np.ndarray:
        """(T,) bool, the tracks whose chosen hypothesis since the last call was *no target*."""
        result = np.isin(track_ids, self.rejected_ids)
        self.rejected_ids = np.zeros(0, dtype=np.int64)
        return result

    def associate(self, inputs: AssociationInput) -> np.ndarray:
        """(T,) the detection of each track's chosen hypothesis, ``MISSED`` for a miss or a
        track rejected.

        Raises:
            ValueError: inputs without track ids, scan time or detection ids, or no motion
                models bound (an mht backend runs inside a :class:`tracker.pipeline.Tracker`).
        """
        self._check_bound()
        if inputs.track_ids is None or inputs.scan_time is None or inputs.detection_ids is None:
            raise ValueError("mht needs the track ids, scan time and detection ids that a "
                             "tracker.pipeline.Tracker gives it")
        if inputs.num_tracks == 0:
            return np.zeros(0, dtype=np.int64)
        leaves, row = self._predicted_leaves(inputs)
        children, child_row, detection = self._branch(inputs, leaves, row)
        likely = self._likely(children, child_row, inputs.num_tracks)
        children, child_row, detection = children.take(likely), child_row[likely], detection[likely]
        options = self._with_rejections(children, child_row, inputs.num_tracks)
        chosen = best_hypotheses(np.r_[child_row, np.arange(inputs.num_tracks)], options,
                                 np.r_[children.keys, np.full((inputs.num_tracks,
                                                               self.settings.window), NO_KEY)],
                                 inputs.num_tracks)
        rejected = chosen >= len(children)
        self.rejected_ids = np.r_[self.rejected_ids, inputs.track_ids[rejected]]
        chosen = chosen[~rejected]
        self.reports.append(children.take(chosen))
        held = children.keys[chosen].ravel()
        self.held = np.r_[self.held, held[held != NO_KEY]]
        kept = self._pruned(children, child_row, chosen, ~rejected)
        self.leaves = self.leaves.take(~np.isin(self.leaves.owner, inputs.track_ids)).extend(
            dataclasses.replace(kept, keys=kept.keys[:, 1:]))
        assignment = np.full(inputs.num_tracks, MISSED, dtype=np.int64)
        assignment[~rejected] = detection[chosen]
        return assignment

    def _check_bound(self) -> None:
        if self.motion_models is None:
            raise ValueError("mht keeps hypotheses across scans: run it in a tracker.pipeline."
                             "Tracker, which gives it its motion models")

    def _predicted_leaves(self, inputs: AssociationInput) -> tuple[Leaves, np.ndarray]:
        """The leaves of the scan's tracks predicted to its time (a track without hypotheses
        gets one, its predicted state) and the (L,) input row of each leaf's track."""
        ids, time = inputs.track_ids, float(inputs.scan_time)
        # a track rejected earlier in this frame (deleted at its end) gets no leaf again
        fresh = np.flatnonzero(~np.isin(ids, self.leaves.owner) & ~np.isin(ids, self.rejected_ids))
        count = fresh.size
        model = (np.zeros(count, dtype=np.int64) if inputs.track_model is None
                 else inputs.track_model[fresh])
        leaves = self.leaves.take(np.isin(self.leaves.owner, ids)).extend(Leaves(
            ids[fresh], inputs.track_states[fresh], inputs.track_covariances[fresh],
            np.full(count, time), model, np.zeros(count), np.zeros(count, dtype=np.int64),
            inputs.track_misses[fresh].astype(np.int64),
            np.full((count, self.settings.window - 1), NO_KEY, dtype=np.int64),
            np.ones(count, dtype=bool)))
        states, covariances = leaves.states.copy(), leaves.covariances.copy()
        for last in np.unique(leaves.time[leaves.time < time]):
            rows = np.flatnonzero(leaves.time == last)
            states[rows], covariances[rows] = self.motion_models.predict(
                states[rows], covariances[rows], leaves.model[rows], time - last)
        return dataclasses.replace(leaves, states=states, covariances=covariances,
                                   time=np.full(len(leaves), time)), _rows(ids, leaves.owner)

    def _branch(self, inputs: AssociationInput, leaves: Leaves, row: np.ndarray
                ) -> tuple[Leaves, np.ndarray, np.ndarray]:
        """Every leaf's children: its miss, then one per gated detection. Returns the children,
        the (C,) input row of each child's track and (C,) the detection it took (``MISSED``
        for none)."""
        space = inputs.state_space
        scan = dataclasses.replace(
            inputs, track_states=leaves.states, track_covariances=leaves.covariances,
            predicted_positions=space.position(leaves.states), track_age=inputs.track_age[row],
            track_misses=leaves.misses, track_ids=None, track_model=None,
            detection_probability=(None if inputs.detection_probability is None
                                   else inputs.detection_probability[row]))
        pairs = gate(scan, self.config.gate_probability)
        scores = gnn_scores(scan, pairs, self.config)
        parent, taken = pairs.track_index, pairs.detection_index
        posterior = update(leaves.states[parent], leaves.covariances[parent],
                           inputs.detections[taken], inputs.detection_covariances[taken],
                           space.measurement_matrix)
        misses = dataclasses.replace(
            leaves, score=leaves.score + scores.missed, misses=leaves.misses + 1,
            keys=np.concatenate([leaves.keys, np.full((len(leaves), 1), NO_KEY)], axis=1))
        hits = Leaves(
            leaves.owner[parent], posterior.states, posterior.covariances, leaves.time[parent],
            leaves.model[parent], leaves.score[parent] + scores.pair - scores.clutter[taken],
            leaves.hits[parent] + 1, np.zeros(parent.size, dtype=np.int64),
            np.concatenate([leaves.keys[parent], inputs.detection_ids[taken][:, None]], axis=1),
            np.zeros(parent.size, dtype=bool))
        return (misses.extend(hits), np.concatenate([row, row[parent]]),
                np.concatenate([np.full(len(leaves), MISSED), taken]))

    def _likely(self, children: Leaves, track: np.ndarray, num_tracks: int) -> np.ndarray:
        """Indices of the children that hold no detection an earlier call of this scan chose,
        within ``prune_log_ratio`` of their track's best such child or the miss child of the
        leaf the track reported."""
        free = ~np.isin(children.keys, self.held).any(axis=1)
        best = np.full(num_tracks, -np.inf)
        np.maximum.at(best, track[free], children.score[free])
        return np.flatnonzero(free & (children.reported | (
            children.score >= best[track] - self.settings.prune_log_ratio)))

    def _drop_held(self) -> None:
        """Drop the leaves of the tracks that took part in none of this scan's calls (a later
        stage left without detections) that hold a detection this scan's chosen children took;
        a track left without leaves is rejected, one that lost its reported leaf reports its
        best remaining one from now on. Ends the scan: nothing is held any more."""
        reported = np.concatenate([report.owner for report in self.reports] or [[]])
        stale = ~np.isin(self.leaves.owner, reported) & np.isin(self.leaves.keys,
                                                                self.held).any(axis=1)
        self.held = np.zeros(0, dtype=np.int64)
        if not stale.any():
            return
        owners = np.unique(self.leaves.owner[stale])
        self.leaves = self.leaves.take(~stale)
        self.rejected_ids = np.r_[self.rejected_ids, owners[~np.isin(owners, self.leaves.owner)]]
        orphaned = np.setdiff1d(owners, self.leaves.owner[self.leaves.reported])
        rows = np.flatnonzero(np.isin(self.leaves.owner, orphaned))
        if rows.size:
            local = np.searchsorted(orphaned, self.leaves.owner[rows])
            reported_now = self.leaves.reported.copy()
            reported_now[rows[best_per_track(local, self.leaves.score[rows], orphaned.size)]] = True
            self.leaves = dataclasses.replace(self.leaves, reported=reported_now)

    @staticmethod
    def _with_rejections(children: Leaves, track: np.ndarray, num_tracks: int) -> np.ndarray:
        """(C + T,) the children's scores, then each track's *no target* score:
        :data:`REJECTION_PENALTY` below its best child (below 0 for a track without any)."""
        best = np.full(num_tracks, -np.inf)
        np.maximum.at(best, track, children.score)
        return np.r_[children.score, np.where(np.isfinite(best), best, 0.0) - REJECTION_PENALTY]

    def _pruned(self, children: Leaves, track: np.ndarray, chosen: np.ndarray,
                accepted: np.ndarray) -> Leaves:
        """The children of the ``accepted`` tracks ((T,) bool; ``chosen`` holds their chosen
        children's indices, in track order) that agree with the chosen child on the decision
        now final: the chosen child and the best others, ``max_hypotheses`` per track in all."""
        accepted_rows = np.flatnonzero(accepted)
        chosen_of = np.full(accepted.size, -1)
        chosen_of[accepted_rows] = chosen
        final = children.keys[:, 0]
        agree = np.flatnonzero(accepted[track])
        agree = agree[final[agree] == final[chosen_of[track[agree]]]]
        is_chosen = np.zeros(len(children), dtype=bool)
        is_chosen[chosen] = True
        order = agree[np.lexsort((-children.score[agree], ~is_chosen[agree], track[agree]))]
        starts = np.flatnonzero(np.r_[True, track[order][1:] != track[order][:-1]])
        rank = np.arange(order.size) - np.repeat(starts, np.diff(np.r_[starts, order.size]))
        kept = np.sort(order[rank < self.settings.max_hypotheses])
        return dataclasses.replace(children.take(kept), reported=is_chosen[kept])

    def updater(self) -> MhtUpdate:
        """The update step that moves each track to its chosen hypothesis."""
        return MhtUpdate(self)

    def updated_tracks(self, tracks: TrackSet, in_view: np.ndarray, pd: np.ndarray) -> TrackSet:
        """``tracks`` after the scan: the chosen hypotheses of this scan's calls written in, a
        miss for the tracks in view that took none; hypotheses of tracks gone are dropped, and
        those of tracks no call saw that hold a detection the chosen ones took
        (:meth:`_drop_held`)."""
        self.leaves = self.leaves.take(np.isin(self.leaves.owner, tracks.ids))
        self._drop_held()
        live = set(tracks.ids.tolist())
        self.base = {key: value for key, value in self.base.items() if key in live}
        states, covariances = tracks.states.copy(), tracks.covariances.copy()
        score, hits, misses = tracks.score.copy(), tracks.hits.copy(), tracks.misses.copy()
        reported = np.zeros(len(tracks), dtype=bool)
        for report in self.reports:
            rows = _rows(tracks.ids, report.owner)
            for row, track_id in zip(rows.tolist(), report.owner.tolist(), strict=True):
                self.base.setdefault(track_id, (float(tracks.score[row]), int(tracks.hits[row])))
            base = np.array([self.base[track_id] for track_id in report.owner.tolist()]
                            ).reshape(-1, 2)
            states[rows], covariances[rows] = report.states, report.covariances
            score[rows], hits[rows] = base[:, 0] + report.score, base[:, 1] + report.hits
            misses[rows], reported[rows] = report.misses, True
        self.reports = []
        missed = in_view & ~reported
        increment = np.where(missed, np.log1p(-np.clip(pd, 1e-6, 1.0 - 1e-6)), 0.0)
        score, misses = score + increment, misses + missed
        leaf_row = _rows(tracks.ids, self.leaves.owner)
        self.leaves = dataclasses.replace(self.leaves,
                                          score=self.leaves.score + increment[leaf_row],
                                          misses=self.leaves.misses + missed[leaf_row])
        return dataclasses.replace(tracks, states=states, covariances=covariances,
                                   scans=tracks.scans + in_view, hits=hits, misses=misses,
                                   score=score)


def _rows(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """(K,) the position in ``ids`` (T,) unique of each of ``wanted`` (K,), all present."""
    sorter = np.argsort(ids)
    return sorter[np.searchsorted(ids, wanted, sorter=sorter)]


@dataclass(frozen=True)
class MhtUpdate:
    """The update step of ``mht``: each track takes its chosen hypothesis's state, covariance,
    score and counts (:meth:`MhtAssociator.updated_tracks`); the association it is given is
    that hypothesis's detection, already applied."""

    backend: MhtAssociator

    def update(self, tracks: TrackSet, association, in_view: np.ndarray, pd: np.ndarray,
               measurements: Measurements, evidence: np.ndarray) -> TrackSet:
        """See :class:`tracker.update.Updater`."""
        return self.backend.updated_tracks(tracks, in_view, pd)


def build_mht(config: GnnConfig | None = None, settings: MhtConfig | None = None
              ) -> MhtAssociator:
    """Registry factory for ``--assoc mht``."""
    return MhtAssociator(config, settings)
