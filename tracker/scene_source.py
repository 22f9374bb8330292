"""The one adapter from the simulator's scene files to the tracker's inputs.

A scene (``sim.Scenario``, a ``.npz`` from ``hste simulate``) becomes a detection source
(:class:`SceneSource`: one scan per sensor per frame, in sensor order, frames labelled 1, 2, ...)
and its sensor configs become the tracker's sensor models through :func:`sim.export.sensor_table`
(the same mapping ``hste simulate --sensor-toml`` writes). Training and the demo, which simulate
their own scenes, reach the simulator through the names re-exported here (``generate``,
``ScenarioConfig``, ``PRESETS``, ``get_preset``). This is the only tracker module, with the scoring
of scene files, that imports ``sim``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import click
import numpy as np

from common.errors import InputError
from sim import generate, load
from sim.config import ScenarioConfig
from sim.export import sensor_table
from sim.presets import PRESETS, get_preset
from sim.scenario import Scenario, frame_offsets
from tracker.association.base import Associator
from tracker.measurements import ScanDetections
from tracker.pipeline import Tracker, TrackerConfig
from tracker.sensors import SensorModel, sensor_from_dict
from tracker.sources import Scan
from tracker.tracks_io import TrackTable

__all__ = ["PRESETS", "ScenarioConfig", "SceneSource", "drop_invalid_detections", "generate",
           "get_preset", "load_scene", "scene_sensors", "track_scene"]


def scene_sensors(scenario: Scenario) -> tuple[SensorModel, ...]:
    """The tracker's models of the scene's sensors (ids "0", "1", ... in sensor order)."""
    return tuple(sensor_from_dict(sensor_table(sensor, str(index), scenario.dt), f"sensor {index}")
                 for index, sensor in enumerate(scenario.sensors))


class SceneSource:
    """A scene as a detection source: for each frame, one :class:`Scan` per sensor (empty scans
    included: a sensor that saw nothing still looked), labelled with the 1-based frame.

    Attributes:
        scenario: the scene.
        sensors: its sensor models (:func:`scene_sensors`).
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.sensors = scene_sensors(scenario)

    @property
    def num_frames(self) -> int:
        """Frames."""
        return self.scenario.num_frames

    def frame_scans(self, frame: int) -> list[Scan]:
        """The scans of 0-based ``frame``, one per sensor."""
        detections = self.scenario.frame_detections(frame)
        time = float(self.scenario.frame_times[frame])
        sensor_of = np.asarray(detections.sensor)
        return [Scan(time, index, ScanDetections.take(detections,
                                                      np.flatnonzero(sensor_of == index)),
                     frame + 1) for index in range(len(self.sensors))]

    def __iter__(self) -> Iterator[Scan]:
        for frame in range(self.scenario.num_frames):
            yield from self.frame_scans(frame)


def drop_invalid_detections(scenario: Scenario) -> tuple[Scenario, int]:
    """The scenario without detections whose position, range or azimuth is NaN or infinite.

    Returns ``(scenario, dropped)``; the scenario is returned unchanged when nothing is dropped.
    """
    valid = (np.isfinite(scenario.det_xy).all(axis=1) & np.isfinite(scenario.det_range)
             & np.isfinite(scenario.det_azimuth))
    dropped = int(valid.size - np.count_nonzero(valid))
    if dropped == 0:
        return scenario, 0
    names = [f.name for f in dataclasses.fields(scenario)
             if f.name.startswith("det_") and f.name != "det_offsets"]
    kept = {name: getattr(scenario, name)[valid] for name in names}
    return dataclasses.replace(scenario, **kept, det_offsets=frame_offsets(
        kept["det_frame"], scenario.num_frames)), dropped


def load_scene(path: str | os.PathLike, require_frames: bool = True) -> Scenario:
    """The scene at ``path`` without NaN or infinite detections (their count is reported on
    stderr): the one way every command (``track``, ``evaluate``, ``plot``, ``animate``) reads a
    scene file, so a scene one of them accepts the others draw and score alike.

    Raises:
        InputError: unreadable scene, or (``require_frames``) one without frames.
    """
    scenario = load(path)
    if require_frames and scenario.num_frames == 0:
        raise InputError(f"{path}: the scene has no frames")
    scenario, dropped = drop_invalid_detections(scenario)
    if dropped:
        click.echo(f"warning: {path}: dropped {dropped} detection(s) with NaN or infinite "
                   "position", err=True)
    return scenario


def track_scene(associator: Associator, scenario: Scenario, config: TrackerConfig | None = None,
                progress: bool = False) -> TrackTable:
    """Track a whole scene with a fresh :class:`~tracker.pipeline.Tracker`; every live track's
    row in every frame (frames 1-based)."""
    source = SceneSource(scenario)
    return Tracker(associator, source.sensors, config).run(source, progress=progress)
