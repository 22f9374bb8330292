"""Detection files: a CSV of detections from any sensor, read into a detection source.

Contract (extra columns are ignored):

- a header row; then one row per detection;
- ``time`` (s) or ``frame`` (integer >= 1) or both. ``frame`` alone: frame k is at
  ``(k - 1) * dt`` with ``dt`` from the sensor file, and every sensor looks in every frame from
  the first to the last (a frame without rows is a scan that saw nothing); with ``time`` too,
  the rows of one frame must share one time (frames without rows get times interpolated
  between their neighbours). ``time`` alone: each distinct (time, sensor) is one scan and the
  output frames are numbered 1, 2, ... in time order. Times and frames must not go backwards;
- the position: ``x,y`` (m, world frame) or ``range,azimuth`` (m; rad from the sensor's
  boresight, counter-clockwise) or both (then x, y is the position and range, azimuth give the
  polar noise its orientation); ``range,azimuth`` need a radar or point-cloud sensor;
- optional ``sensor`` (the sensor's ``id`` in the sensor file; required when it has several),
  ``range_rate`` (m/s), ``amplitude`` (dB, SNR), and ``cov_xx,cov_xy,cov_yy`` (m^2,
  per-detection position covariance, all three together, overriding the sensor's noise; a row
  whose three cells are empty gets the sensor's).

Empty cells are missing values (NaN). Rows whose position is NaN are dropped (counted in
:attr:`DetectionFile.dropped`); any other problem is an :class:`~common.errors.InputError` naming
the file and the line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.csv_rows import read_csv_rows
from common.errors import InputError
from common.geometry import to_polar, to_world
from tracker.measurements import ScanDetections
from tracker.sensors import CartesianSensor, SensorModel
from tracker.sources import Scan

COVARIANCE_COLUMNS = ("cov_xx", "cov_xy", "cov_yy")
NUMERIC_COLUMNS = ("time", "frame", "x", "y", "range", "azimuth", "range_rate", "amplitude",
                   *COVARIANCE_COLUMNS)


@dataclass(frozen=True)
class DetectionFile:
    """A detection CSV read against its sensor models: a detection source.

    Attributes:
        scans: the scans in time order (sensors in the sensor file's order within a time).
        num_frames: distinct scan times (output frames).
        has_time: the file has a ``time`` column (the tracks CSV then gets one too).
        dropped: rows dropped for a NaN position.
    """

    scans: tuple[Scan, ...]
    num_frames: int
    has_time: bool
    dropped: int

    def __iter__(self) -> Iterator[Scan]:
        return iter(self.scans)


@dataclass(frozen=True)
class _Table:
    """The CSV's numeric columns (float64, empty cells NaN) and ``sensor`` (str) by name, and
    the file line of each row (header = line 1), for messages."""

    path: Path
    header: list[str]
    columns: dict[str, np.ndarray]
    lines: np.ndarray

    def at(self, mask: np.ndarray) -> str:
        """``"FILE: line N"`` of the first True row of ``mask`` (N,)."""
        return f"{self.path}: line {int(self.lines[np.flatnonzero(mask)[0]])}"


def _read_table(path: Path) -> _Table:
    """InputError for a missing or unreadable file, no rows, a short row or a non-numeric
    cell in a numeric column."""
    rows = read_csv_rows(path, "detections")
    header = [name.strip() for name in rows[0][1]] if rows else []
    numbered = rows[1:]
    _check_required(path, header)
    if not numbered:
        raise InputError(f"{path}: no detection rows after the header")
    for number, row in numbered:
        if len(row) != len(header):
            raise InputError(f"{path}: line {number}: {len(row)} field(s), the header has "
                             f"{len(header)}")
    columns: dict[str, np.ndarray] = {}
    for name in NUMERIC_COLUMNS + ("sensor",):
        if name not in header:
            continue
        index = header.index(name)
        cells = [row[index].strip() for _, row in numbered]
        if name == "sensor":
            columns[name] = np.array(cells, dtype=object)
            continue
        try:
            columns[name] = np.array([cell or "nan" for cell in cells], dtype=np.float64)
        except ValueError:
            bad = next(i for i, cell in enumerate(cells) if not _is_number(cell))
            raise InputError(f"{path}: line {numbered[bad][0]}: column {name}: {cells[bad]!r} "
                             "is not a number") from None
    return _Table(path, header, columns, np.array([number for number, _ in numbered]))


def _is_number(cell: str) -> bool:
    try:
        float(cell or "nan")
    except ValueError:
        return False
    return True


def _check_required(path: Path, header: list[str]) -> None:
    if not header:
        raise InputError(f"{path}: empty file; expected a header such as time,x,y")
    if "time" not in header and "frame" not in header:
        raise InputError(f"{path}: detections CSV needs a time (s) or frame column; header: "
                         f"{','.join(header)}")
    if not ({"x", "y"} <= set(header) or {"range", "azimuth"} <= set(header)):
        raise InputError(f"{path}: detections CSV needs columns x,y (m) or range,azimuth "
                         f"(m, rad); header: {','.join(header)}")
    present = [name for name in COVARIANCE_COLUMNS if name in header]
    if present and len(present) != len(COVARIANCE_COLUMNS):
        raise InputError(f"{path}: covariance columns must come together: "
                         f"{','.join(COVARIANCE_COLUMNS)}")


def _sensor_index(table: _Table, sensors: Sequence[SensorModel]) -> np.ndarray:
    """(N,) index of each row's sensor in ``sensors``."""
    if "sensor" not in table.columns:
        if len(sensors) > 1:
            raise InputError(f"{table.path}: the sensor file has {len(sensors)} sensors; the CSV "
                             "needs a sensor column naming each row's sensor id")
        return np.zeros(table.lines.size, dtype=np.int64)
    ids = {sensor.id: index for index, sensor in enumerate(sensors)}
    values = table.columns["sensor"]
    index = np.array([ids.get(value, -1) for value in values], dtype=np.int64)
    if np.any(index < 0):
        raise InputError(f"{table.at(index < 0)}: unknown sensor id "
                         f"{values[np.flatnonzero(index < 0)[0]]!r}; the sensor file has "
                         f"{', '.join(map(repr, ids))}")
    return index


def _positions(table: _Table, sensors: Sequence[SensorModel], sensor_index: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xy (N, 2) m, range (N,) m, azimuth (N,) rad), filled in from whichever the file gives
    (range and azimuth NaN for Cartesian sensors)."""
    data, count = table.columns, sensor_index.size
    xy = np.full((count, 2), np.nan)
    range_, azimuth = np.full(count, np.nan), np.full(count, np.nan)
    for index, sensor in enumerate(sensors):
        rows = sensor_index == index
        if not rows.any():
            continue
        polar = not isinstance(sensor, CartesianSensor)
        if "x" in data:
            xy[rows] = np.stack([data["x"][rows], data["y"][rows]], axis=1)
        if "range" in data and not polar:
            raise InputError(f"{table.at(rows)}: range,azimuth given for the cartesian sensor "
                             f"{sensor.id!r}; give x,y")
        if "range" in data:
            range_[rows], azimuth[rows] = data["range"][rows], data["azimuth"][rows]
            if "x" not in data:
                xy[rows] = to_world(sensor, range_[rows], azimuth[rows])
        elif polar:
            range_[rows], azimuth[rows] = to_polar(sensor, xy[rows])
    return xy, range_, azimuth


def _covariances(table: _Table, valid: np.ndarray) -> np.ndarray | None:
    """(N, 2, 2) m^2 from the covariance columns (NaN rows where all three cells are empty: the
    sensor's noise), or None; InputError for a row with a valid position whose covariance is
    partly empty or not positive definite."""
    if "cov_xx" not in table.columns:
        return None
    xx, xy, yy = (table.columns[name] for name in COVARIANCE_COLUMNS)
    empty = np.isnan(xx) & np.isnan(xy) & np.isnan(yy)
    bad = valid & ~empty & ~((xx > 0) & (xx * yy - xy**2 > 0))
    if bad.any():
        raise InputError(f"{table.at(bad)}: cov_xx,cov_xy,cov_yy is not a positive definite "
                         "covariance (m^2)")
    return np.stack([np.stack([xx, xy], -1), np.stack([xy, yy], -1)], -2)


def _scan_times(table: _Table, sensors: Sequence[SensorModel], sensor_path: str
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(frame labels (F,) int64, frame times (F,) s, each row's frame position (N,),
    whether every sensor looks in every frame)."""
    data = table.columns
    if "time" in data:
        time = data["time"]
        if not np.isfinite(time).all():
            raise InputError(f"{table.at(~np.isfinite(time))}: time must be a finite number (s)")
        backwards = np.r_[False, np.diff(time) < 0]
        if backwards.any():
            raise InputError(f"{table.at(backwards)}: time goes backwards")
    if "frame" not in data:
        times = np.unique(data["time"])
        return np.arange(1, times.size + 1), times, np.searchsorted(times, data["time"]), False
    frame = data["frame"]
    bad = ~(np.isfinite(frame) & (frame >= 1) & (frame == np.round(frame)))
    if bad.any():
        raise InputError(f"{table.at(bad)}: frame must be an integer >= 1")
    frame = frame.astype(np.int64)
    backwards = np.r_[False, np.diff(frame) < 0]
    if backwards.any():
        raise InputError(f"{table.at(backwards)}: frame goes backwards")
    frames = np.arange(frame[0], frame[-1] + 1)
    if "time" in data:
        starts = np.flatnonzero(np.r_[True, np.diff(frame) != 0])
        differs = data["time"] != np.repeat(data["time"][starts], np.diff(np.r_[starts,
                                                                              frame.size]))
        if differs.any():
            raise InputError(f"{table.at(differs)}: the rows of one frame need one time")
        times = np.interp(frames, frame[starts], data["time"][starts])
    else:
        steps = {sensor.dt for sensor in sensors}
        if None in steps or len(steps) != 1:
            raise InputError(f"{sensor_path}: frame-numbered detections need dt (s), the same "
                             "for every sensor; or give the CSV a time column")
        times = (frames - 1) * float(steps.pop())
    return frames, times, frame - frames[0], True


def read_detections(path: str | os.PathLike, sensors: Sequence[SensorModel],
                    sensor_path: str = "sensor file") -> DetectionFile:
    """Read the detections CSV at ``path`` (contract in the module docstring) for ``sensors``.

    Args:
        path: the CSV.
        sensors: the sensor models (a row's ``sensor`` value is a sensor's ``id``).
        sensor_path: where the sensors came from, for messages.
    Raises:
        InputError: a missing required column, a non-numeric cell, a time or frame going
            backwards, an unknown sensor id, a bad covariance (each naming the file and line).
    """
    table = _read_table(Path(path))
    sensor_index = _sensor_index(table, sensors)
    frames, times, position, every_sensor = _scan_times(table, sensors, sensor_path)
    xy, range_, azimuth = _positions(table, sensors, sensor_index)
    valid = np.isfinite(xy).all(axis=1)
    covariances = _covariances(table, valid)
    nan = np.full(valid.size, np.nan)
    range_rate = table.columns.get("range_rate", nan)
    amplitude = table.columns.get("amplitude", nan)
    # rows grouped by (frame, sensor): one scan each, sensors in the sensor file's order
    key = position * len(sensors) + sensor_index
    reported = np.bincount(key, minlength=frames.size * len(sensors)) > 0
    key = np.where(valid, key, -1)
    order = np.argsort(key, kind="stable")
    bounds = np.searchsorted(key[order], np.arange(frames.size * len(sensors) + 1))
    scans = []
    for group in range(frames.size * len(sensors)):
        if not (every_sensor or reported[group]):
            continue  # time-stamped files: a sensor looked when it reported
        rows = order[bounds[group]:bounds[group + 1]]
        detections = ScanDetections(
            xy[rows], range_[rows], azimuth[rows], range_rate[rows], amplitude[rows],
            np.full(rows.size, -1, dtype=np.int64),
            None if covariances is None else covariances[rows])
        frame = group // len(sensors)
        scans.append(Scan(float(times[frame]), group % len(sensors), detections,
                          int(frames[frame])))
    return DetectionFile(tuple(scans), int(frames.size), "time" in table.columns,
                         int(valid.size - np.count_nonzero(valid)))
