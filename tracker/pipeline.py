"""The Tracker: per frame predict -> associate -> update -> initiate -> confirm/delete.

Components are injected, Stone Soup style: any :class:`~tracker.association.base.Associator`
(``gnn``, ``jpda``, ``mht``, ``learned``, ``sinkhorn``), an :class:`~tracker.update.Updater`
(Kalman for hard assignments, PDA for weights, mht's own), an
:class:`~tracker.management.Initiator`, a :class:`~tracker.management.Deleter` and the motion
model(s) (:mod:`tracker.models`: one per track, all tracks the configured one unless told
otherwise); the defaults are built from a :class:`TrackerConfig` (loadable from TOML). Track
states are read through the motion models' state space (:class:`~tracker.models.StateSpace`),
never by index.

The tracker consumes a detection source (:mod:`tracker.sources`): any iterable of scans (time,
sensor index, detections), in time order. Scans of one time form a frame, processed in the order
given (the frame's first scan predicts the tracks to the frame time with that frame's own dt;
later scans of the same frame need no predict); a scene file is one such source
(:class:`tracker.scene_source.SceneSource`: a scan per sensor per frame, in sensor order). The
sensor models (:mod:`tracker.sensors`) say each sensor's field of view, Pd and clutter density.
Only tracks inside a sensor's field of view take part in its scan and can miss in it; a track
that has left every sensor's field of view is deleted. With ``staged_association`` confirmed
tracks are associated first and tentative tracks get the detections left over, so a new track
never takes a detection from an established one. Every scan also updates each track's score
(log-likelihood ratio, :class:`~tracker.management.TrackSet`) that the default initiator uses.
When the associator is an :class:`~tracker.association.base.EvidenceSource` (the learned
backends), its rating of each detection's signature (target against clutter, a log-likelihood
ratio) is a new track's initial score and adds to a track's score with each detection it takes.
When it is a :class:`~tracker.association.base.HypothesisKeeper` (``mht``), it gets the motion
models, every new track with the detection that started it, and detection ids unique over the
run, and the tracks it rejects are deleted.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from common.config import build_config, merged_tables, option, read_toml
from common.errors import InputError
from tracker.association.base import (
    DETECTION_ID_STRIDE,
    AssociationInput,
    Associator,
    EvidenceSource,
    HypothesisKeeper,
    UpdaterSource,
    WeightedAssociation,
    as_association,
)
from tracker.association.gnn import REMOVED_SETTINGS, GnnConfig
from tracker.association.mht import MhtConfig
from tracker.clutter_map import ClutterMap, ClutterMapConfig
from tracker.management import (
    Deleter,
    Initiator,
    ManagementConfig,
    TrackSet,
    build_deleter,
    build_initiator,
)
from tracker.measurements import Measurements, measure_scan
from tracker.models import MOTION_MODELS, MotionModel, MotionModels, build_motion_model
from tracker.observers import AssociationProblem, ScanObserver, ScanReport
from tracker.sensors import SensorModel
from tracker.sources import Scan, frames
from tracker.tracks_io import TrackTable
from tracker.update import KalmanUpdate, Updater


@dataclass(frozen=True)
class TrackerConfig:
    """Everything the classical pipeline needs besides the association backend.

    Attributes:
        motion_model: ``"cv"`` (nearly constant velocity, state ``[x, y, vx, vy]``) or ``"ct"``
            (coordinated turn, state ``[x, y, vx, vy, omega]``, the turn rate estimated).
        noise_diff_coeff: process noise spectral density q, m^2/s^3.
        turn_rate_noise: rad^2/s^3, spectral density of the turn rate's random walk (``"ct"``).
        turn_rate_std: rad/s, std of a new track's turn rate (``"ct"``).
        cluster_distance: m, point-cloud points closer than this form one detection.
        staged_association: associate confirmed tracks before tentative ones.
        management: initiation, confirmation and deletion rules.
        gnn: settings of the gnn backend (the gate of every classical backend).
        mht: window and pruning of the mht backend.
        clutter_map: the learned clutter density (:mod:`tracker.clutter_map`; off by default).

    TOML layout: top-level keys as above, plus ``[management]``, ``[gnn]``, ``[mht]`` and
    ``[clutter_map]`` tables. Every setting is also an ``hste track`` option
    (``--noise-diff-coeff``, ``--gnn-gate-probability``, ...; :func:`common.config.cli_options`).
    """

    motion_model: str = field(default="cv", metadata=option(choices=MOTION_MODELS))
    noise_diff_coeff: float = 1.0
    turn_rate_noise: float = 1e-4
    turn_rate_std: float = 0.1
    cluster_distance: float = 3.0
    staged_association: bool = True
    management: ManagementConfig = field(default_factory=ManagementConfig)
    gnn: GnnConfig = field(default_factory=GnnConfig)
    mht: MhtConfig = field(default_factory=MhtConfig)
    clutter_map: ClutterMapConfig = field(default_factory=ClutterMapConfig)

    def __post_init__(self) -> None:
        self.build_motion_model()
        if not (self.noise_diff_coeff > 0 and self.cluster_distance > 0):
            raise ValueError("noise_diff_coeff and cluster_distance must be > 0")
        if not (self.turn_rate_noise >= 0 and self.turn_rate_std >= 0):
            raise ValueError("turn_rate_noise and turn_rate_std must be >= 0")

    def build_motion_model(self) -> MotionModel:
        """The configured motion model (ValueError for an unknown name or bad settings)."""
        return build_motion_model(self.motion_model, self.noise_diff_coeff,
                                  self.turn_rate_noise, self.turn_rate_std)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrackerConfig:
        """Build from a plain dict (as read from TOML); InputError on unknown or bad settings."""
        data = dict(data)
        removed = [key for key in REMOVED_SETTINGS if key in (data.get("gnn") or {})]
        if removed and isinstance(data.get("gnn"), dict):
            raise InputError(f"gnn.{removed[0]}: removed; the tracker takes Pd and the clutter "
                             "density from the sensor models (sensor TOML: pd, clutter_rate)")
        try:
            sections = {"management": ManagementConfig, "gnn": GnnConfig, "mht": MhtConfig,
                        "clutter_map": ClutterMapConfig}
            for name, section in sections.items():
                data[name] = build_config(section, data.get(name, {}), name)
            return build_config(cls, data, "tracker")
        except ValueError as error:
            raise InputError(f"bad tracker config: {error}") from None

    @classmethod
    def from_toml(cls, path: str | os.PathLike,
                  changes: dict[str, Any] | None = None) -> TrackerConfig:
        """Read a TOML file, with the settings of ``changes`` (a table, e.g. the command line's,
        :func:`common.config.cli_values`) written over its; InputError if missing, not TOML or
        invalid."""
        data = merged_tables(read_toml(path, "tracker config"), changes or {})
        try:
            return cls.from_dict(data)
        except InputError as error:
            raise InputError(f"{path}: {error}") from None


class Tracker:
    """Multiple-object tracker over a set of sensors.

    Args:
        associator: the association backend.
        sensors: the sensor models (:mod:`tracker.sensors`: field of view, noise, Pd, clutter);
            a scan's ``sensor`` indexes this sequence.
        config: pipeline settings; the defaults of the components below come from it.
        initiator, deleter: optional replacements of the configured components.
        motion_model: a replacement of the configured motion model, or several
            (:class:`~tracker.models.MotionModels`: tracks carry the index of theirs in
            ``TrackSet.model``; new tracks start with the first).
        observers: told about every scan (:mod:`tracker.observers`: training data, debugging).
        updater: the update step (:mod:`tracker.update`); by default the associator's own when
            it is an :class:`~tracker.association.base.UpdaterSource` (``jpda``: PDA), else the
            Kalman update of hard assignments.
    """

    def __init__(self, associator: Associator, sensors: Sequence[SensorModel],
                 config: TrackerConfig | None = None, initiator: Initiator | None = None,
                 deleter: Deleter | None = None,
                 motion_model: MotionModel | MotionModels | None = None,
                 updater: Updater | None = None,
                 observers: Sequence[ScanObserver] = ()) -> None:
        self.config = config or TrackerConfig()
        self.observers = tuple(observers)
        self.associator = associator
        self.evidence_source = associator if isinstance(associator, EvidenceSource) else None
        self.sensors = tuple(sensors)
        if not all(isinstance(sensor, SensorModel) for sensor in self.sensors):
            raise TypeError("sensors must be tracker.sensors models (a scene's: "
                            "tracker.scene_source.scene_sensors)")
        self.initiator = initiator or build_initiator(self.config.management)
        self.deleter = deleter or build_deleter(self.config.management)
        self.updater = updater or (associator.updater() if isinstance(associator, UpdaterSource)
                                   else KalmanUpdate())
        motion_model = motion_model or self.config.build_motion_model()
        self.motion_models = (motion_model if isinstance(motion_model, MotionModels)
                              else MotionModels((motion_model,)))
        self.hypothesis_keeper = (associator if isinstance(associator, HypothesisKeeper)
                                  else None)
        if self.hypothesis_keeper is not None:
            if updater is not None:
                raise ValueError("this association backend keeps hypotheses and applies its own "
                                 "update step; do not pass another updater")
            self.hypothesis_keeper.use_motion_models(self.motion_models)
        self.clutter_map = (ClutterMap(self.config.clutter_map) if self.config.clutter_map.enabled
                            else None)
        self.tracks = TrackSet.empty(self.motion_models.space)
        self.time: float | None = None
        self.next_id = 1
        self.scans_seen = 0

    def step(self, time: float, scans: Sequence[Scan]) -> TrackSet:
        """Process one frame; returns the live tracks after it.

        Args:
            time: frame time, s (non-decreasing from frame to frame).
            scans: the frame's scans (each ``scan.sensor`` an index into ``sensors``), processed
                in order; their own ``time`` is not used.
        """
        if self.time is not None:
            states, covariances = self.motion_models.predict(
                self.tracks.states, self.tracks.covariances, self.tracks.model, time - self.time)
            self.tracks = dataclasses.replace(self.tracks, states=states,
                                              covariances=covariances, age=self.tracks.age + 1)
        self.time = time
        for scan in scans:
            sensor = self.sensors[scan.sensor]
            measurements = measure_scan(sensor, scan.detections, self.config.cluster_distance)
            if self.clutter_map is not None:
                measurements = self.clutter_map.estimate(scan.sensor, measurements)
            clutter = self._scan(sensor, measurements)
            if self.clutter_map is not None:
                self.clutter_map.learn(scan.sensor, measurements.xy[clutter])
        confirm, reject = self.initiator.confirm(self.tracks)
        self.tracks = dataclasses.replace(self.tracks, confirmed=self.tracks.confirmed | confirm)
        unseen = np.ones(len(self.tracks), dtype=bool)
        for sensor in self.sensors:
            unseen &= ~sensor.visible(self.tracks.positions)
        if self.hypothesis_keeper is not None:
            reject |= self.hypothesis_keeper.rejected(self.tracks.ids)
        self.tracks = self.tracks.take(~(reject | unseen | self.deleter.delete(self.tracks)))
        return self.tracks

    def run(self, source: Iterable[Scan], progress: bool = False) -> TrackTable:
        """Track a whole detection source (scans in time order, :mod:`tracker.sources`); returns
        every live track's row in every frame, labelled with the frame and its time.

        Raises:
            ValueError: a scan earlier than the one before it.
        """
        tables = []
        total = getattr(source, "num_frames", None)  # for the progress bar only
        with tqdm(total=total, desc="tracking", unit="frame", disable=not progress,
                  leave=False) as bar:
            for time, frame, scans in frames(source):
                tracks = self.step(time, scans)
                tables.append(TrackTable.from_states(frame, tracks.ids, tracks.states,
                                                     tracks.covariances, tracks.confirmed, time,
                                                     tracks.space))
                bar.update()
        return TrackTable.concatenate(tables)

    def _scan(self, sensor: SensorModel, measurements: Measurements) -> np.ndarray:
        """Associate, update and initiate with one sensor's measurements; returns (D,) bool,
        the measurements no confirmed track took (the clutter map's clutter)."""
        tracks = self.tracks
        self.scans_seen += 1
        detection_ids = self.scans_seen * DETECTION_ID_STRIDE + np.arange(len(measurements))
        in_view = sensor.visible(tracks.positions)
        pd = sensor.detection_probability(tracks.positions)
        stages = ([in_view & tracks.confirmed, in_view & ~tracks.confirmed]
                  if self.config.staged_association else [in_view])
        association = WeightedAssociation.none(len(tracks), len(measurements))
        free = np.ones(len(measurements), dtype=bool)
        problems = []
        for stage in stages:
            track_rows, detection_rows = np.flatnonzero(stage), np.flatnonzero(free)
            if track_rows.size == 0 or detection_rows.size == 0:
                continue
            inputs = association_input(tracks.take(track_rows), measurements.take(detection_rows),
                                       sensor, pd[track_rows], self.time,
                                       detection_ids[detection_rows])
            local = as_association(self.associator.associate(inputs), track_rows.size,
                                   detection_rows.size)
            association = association.merged(local, track_rows, detection_rows)
            free[detection_rows[local.claimed()]] = False
            problems.append(AssociationProblem(tracks.ids[track_rows], detection_rows, inputs,
                                               local))
        clutter = ~association.claimed_by(tracks.confirmed)
        evidence = self._detection_evidence(sensor, measurements)
        self.tracks = self.updater.update(tracks, association, in_view, pd, measurements,
                                          evidence).with_peak_scores()
        born = self._initiated(measurements.take(free), evidence[free])
        if self.hypothesis_keeper is not None:
            self.hypothesis_keeper.tracks_born(born, detection_ids[free], self.time)
        self.tracks = self.tracks.extend(born)
        if self.observers:
            report = ScanReport(sensor, measurements, tuple(problems), evidence, born.ids,
                                np.flatnonzero(free), tracks, self.tracks)
            for observer in self.observers:
                observer.observe_scan(report)
        return clutter

    def _detection_evidence(self, sensor, measurements: Measurements) -> np.ndarray:
        """(D,) the associator's log-likelihood ratios of the measurements' signatures; zeros
        when it is no :class:`~tracker.association.base.EvidenceSource`."""
        if self.evidence_source is None or len(measurements) == 0:
            return np.zeros(len(measurements))
        inputs = association_input(TrackSet.empty(self.tracks.space), measurements, sensor,
                                   np.zeros(0))
        return np.asarray(self.evidence_source.detection_evidence(inputs), dtype=np.float64)

    def _initiated(self, measurements: Measurements, evidence: np.ndarray) -> TrackSet:
        """New tentative tracks, one per measurement no track took; their score starts at the
        measurement's ``evidence`` (D,)."""
        count = len(measurements)
        states, covariances = self.initiator.initiate(measurements.xy, measurements.covariances,
                                                      self.motion_models)
        ids = np.arange(self.next_id, self.next_id + count, dtype=np.int64)
        self.next_id += count
        zeros, ones = np.zeros(count, dtype=np.int64), np.ones(count, dtype=np.int64)
        return TrackSet(ids, states, covariances, age=zeros, scans=ones, hits=ones, misses=zeros,
                        confirmed=np.zeros(count, dtype=bool), score=evidence.copy(),
                        model=zeros, space=self.motion_models.space)


def association_input(tracks: TrackSet, measurements: Measurements, sensor,
                      pd: np.ndarray, time: float | None = None,
                      detection_ids: np.ndarray | None = None) -> AssociationInput:
    """The association backends' view of one scan: ``tracks`` predicted to ``time`` (s; with
    their Pd (T,) in this sensor) and ``measurements`` (with their ``detection_ids``, see
    :class:`~tracker.association.base.AssociationInput`)."""
    count = len(measurements)
    return AssociationInput(
        track_states=tracks.states,
        track_covariances=tracks.covariances,
        predicted_positions=tracks.positions,
        track_age=tracks.age,
        track_misses=tracks.misses,
        detections=measurements.xy,
        detection_covariances=measurements.covariances,
        detection_range_rate=measurements.range_rate,
        detection_amplitude=measurements.amplitude,
        detection_points=measurements.points,
        detection_spread=measurements.spread,
        sensor_positions=np.tile(np.asarray(sensor.position, dtype=float), (count, 1)),
        detection_probability=pd,
        clutter_density=measurements.clutter_density,
        state_space=tracks.space,
        track_ids=tracks.ids,
        track_model=tracks.model,
        scan_time=time,
        detection_ids=detection_ids,
    )
