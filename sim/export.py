"""A scene's detections, sensors and truth as plain files any tracker can read.

- detections CSV: header ``frame,time,sensor,x,y,range,azimuth,range_rate,amplitude,target``;
  frame 1-based, time s, sensor the 0-based sensor index (its ``id`` in the sensor TOML), x, y
  m, range m, azimuth rad (sensor frame), range_rate m/s, amplitude dB (empty where the sensor
  gives none), target the true id (-1 clutter; an extra column trackers ignore). Values are
  written with 17 significant digits, so they read back bit for bit.
- sensor TOML: one ``[[sensors]]`` table per sensor in the tracker's sensor-model keys
  (:mod:`tracker.sensors`): :func:`sensor_table` is the one mapping from the simulator's sensor
  configs to them, used here and by the tracker's scene reader.
- truth CSV (MOTChallenge layout): header ``frame,id,x,y,vx,vy``, frame 1-based, m, m/s.
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np

from common.atomic import atomic_path, write_text_atomic
from common.config import toml_lines
from sim.config import SensorConfig
from sim.scenario import Scenario

DETECTION_COLUMNS = ("frame", "time", "sensor", "x", "y", "range", "azimuth", "range_rate",
                     "amplitude", "target")
TRUTH_COLUMNS = ("frame", "id", "x", "y", "vx", "vy")

_POLAR_KEYS = ("position", "orientation", "azimuth_span", "min_range", "max_range", "range_std",
               "azimuth_std", "clutter_rate")
_KIND_KEYS = {"radar": ("range_rate_std", "pd_model", "snr_db", "snr_ref_range", "threshold_db"),
              "pointcloud": ("extent",)}


def sensor_table(sensor: SensorConfig, sensor_id: str | None = None,
                 dt: float | None = None) -> dict[str, Any]:
    """The tracker's sensor-model table (TOML keys) for a simulated sensor: the same geometry,
    noise and Pd model the simulator draws detections from, and its mean clutter rate (patch
    clutter included: the tracker knows how much clutter a scan has on average, not where)."""
    table: dict[str, Any] = {"kind": sensor.kind, "pd": sensor.detection_prob}
    table.update({key: getattr(sensor, key) for key in _POLAR_KEYS + _KIND_KEYS[sensor.kind]})
    table["clutter_rate"] = sensor.mean_clutter_rate
    table["position"] = list(sensor.position)
    if "extent" in table:
        table["extent"] = list(table["extent"])
    if sensor_id is not None:
        table["id"] = sensor_id
    if dt is not None:
        table["dt"] = dt
    return table


def write_sensor_toml(path: str | os.PathLike, scenario: Scenario) -> None:
    """The scene's sensors as a tracker sensor TOML (ids "0", "1", ..., ``dt`` the frame step)."""
    lines: list[str] = []
    for index, sensor in enumerate(scenario.sensors):
        lines += ["[[sensors]]"] + toml_lines(sensor_table(sensor, str(index), scenario.dt)) + [""]
    write_text_atomic(path, "\n".join(lines))


def write_detections_csv(path: str | os.PathLike, scenario: Scenario) -> None:
    """Every detection of the scene as the detections CSV (layout in the module docstring)."""
    columns = [scenario.det_frame + 1, scenario.frame_times[scenario.det_frame],
               scenario.det_sensor, scenario.det_xy[:, 0], scenario.det_xy[:, 1],
               scenario.det_range, scenario.det_azimuth, scenario.det_range_rate,
               scenario.det_amplitude, scenario.det_target]
    matrix = np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=1)
    formats = ["%d", "%.17g", "%d"] + ["%.17g"] * 6 + ["%d"]
    text = io.StringIO()
    np.savetxt(text, matrix.reshape(-1, len(columns)), delimiter=",", fmt=formats,
               header=",".join(DETECTION_COLUMNS), comments="")
    # NaN cells (no Doppler, no amplitude) become empty: "no value" in the CSV contract
    write_text_atomic(path, text.getvalue().replace(",nan", ","))


def write_truth_csv(path: str | os.PathLike, scenario: Scenario) -> None:
    """The true states as a MOTChallenge-layout truth CSV (layout in the module docstring)."""
    columns = [scenario.truth_frame + 1, scenario.truth_id, *scenario.truth_state.T]
    matrix = np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=1)
    with atomic_path(path) as tmp:
        np.savetxt(tmp, matrix.reshape(-1, len(columns)), delimiter=",",
                   fmt=["%d", "%d", "%.6f", "%.6f", "%.6f", "%.6f"],
                   header=",".join(TRUTH_COLUMNS), comments="")
