"""The tracker's sensor models: what the tracker assumes about each sensor it fuses.

Three kinds, each with its measurement noise, Pd, clutter density and field of view:

- :class:`CartesianSensor` (``kind = "cartesian"``): position measurements x, y (m) with noise
  ``sigma`` m per axis (or a full ``covariance`` m^2), field of view the rectangle ``region =
  [xmin, xmax, ymin, ymax]`` m, clutter uniform over it.
- :class:`RadarSensor` (``kind = "radar"``): range (m), azimuth (rad from boresight), optional
  range-rate (m/s) and amplitude (dB) from ``position`` (x, y) m with boresight ``orientation``
  rad; field of view ``min_range``..``max_range`` m and ``azimuth_span`` rad; noise
  ``range_std`` m and ``azimuth_std`` rad; clutter uniform in range and azimuth; Pd constant
  (``pd_model = "constant"``, ``pd``) or from the radar equation (``pd_model = "snr"``: a Swerling
  I target of mean SNR ``snr_db`` at ``snr_ref_range`` m through a ``threshold_db`` detector).
- :class:`PointCloudSensor` (``kind = "pointcloud"``): the radar's polar geometry and noise per
  point, several points per extended target of semi-axes ``extent`` m; the tracker clusters them.

Every kind has ``pd`` (probability of detecting a target in view per scan), ``clutter_rate``
(expected false detections per scan over the whole field of view), optional ``dt`` (s between
scans, for detection files that give frame numbers instead of times) and optional ``id`` (the
value of a detection file's ``sensor`` column). Sensor TOML: one sensor's keys at the top level,
or several sensors as ``[[sensors]]`` tables (:func:`read_sensors`).
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from common.config import build_config, read_toml, require
from common.errors import InputError
from common.geometry import in_view, snr_detection_probability, to_polar

MIN_CLUTTER_DENSITY = 1e-12
"""Per m^2: the floor of the clutter density, so that a clutter-free sensor still gives finite
likelihood ratios (one false return per 10^6 km^2)."""


def _check_common(sensor: SensorModel) -> None:
    name = sensor.kind
    require(0.0 <= sensor.pd <= 1.0, f"{name}.pd must be in [0, 1]")
    require(sensor.clutter_rate >= 0, f"{name}.clutter_rate must be >= 0")
    require(sensor.dt is None or sensor.dt > 0, f"{name}.dt must be > 0")


@dataclass(frozen=True)
class SensorModel:
    """What every sensor model has (see the module docstring); the kinds below add geometry and
    ``position``, (x, y) m where the sensor stands (the association features' reference point)."""

    kind: ClassVar[str] = "sensor"
    pd: float = 0.9
    clutter_rate: float = 10.0
    dt: float | None = None
    id: str | None = None

    def visible(self, positions: np.ndarray) -> np.ndarray:
        """(N,) bool: positions (N, 2) m inside the field of view."""
        raise NotImplementedError

    def detection_probability(self, positions: np.ndarray) -> np.ndarray:
        """(N,) Pd of targets at positions (N, 2) m inside the field of view."""
        return np.full(positions.shape[0], self.pd)

    def clutter_density(self, xy: np.ndarray, range_: np.ndarray | None = None) -> np.ndarray:
        """(N,) expected clutter per m^2 at detections xy (N, 2) m (their measured ``range_``
        (N,) m where known), at least :data:`MIN_CLUTTER_DENSITY`."""
        raise NotImplementedError

    def noise_covariances(self, xy: np.ndarray, range_: np.ndarray,
                          azimuth: np.ndarray) -> np.ndarray:
        """(N, 2, 2) m^2 Cartesian measurement covariance of detections at xy (N, 2) m, measured
        range (N,) m and azimuth (N,) rad (sensor frame; NaN for a Cartesian sensor)."""
        raise NotImplementedError



@dataclass(frozen=True)
class CartesianSensor(SensorModel):
    """Position-only measurements in a rectangular region (see the module docstring).

    Attributes:
        sigma: m, noise std per axis (ignored when ``covariance`` is given).
        covariance: ((sxx, sxy), (sxy, syy)) m^2 noise covariance, or None.
        region: (xmin, xmax, ymin, ymax) m, field of view and clutter region.
    """

    kind: ClassVar[str] = "cartesian"
    sigma: float = 1.0
    covariance: tuple[tuple[float, float], tuple[float, float]] | None = None
    region: tuple[float, float, float, float] = (-1000.0, 1000.0, -1000.0, 1000.0)

    def __post_init__(self) -> None:
        _check_common(self)
        require(self.sigma > 0, "cartesian.sigma must be > 0")
        xmin, xmax, ymin, ymax = self.region
        require(xmin < xmax and ymin < ymax, "cartesian.region must be [xmin, xmax, ymin, ymax] "
                                             "with xmin < xmax and ymin < ymax")
        if self.covariance is not None:
            matrix = np.asarray(self.covariance, dtype=float)
            require(matrix.shape == (2, 2) and np.allclose(matrix, matrix.T)
                    and bool(np.all(np.linalg.eigvalsh(matrix) > 0)),
                    "cartesian.covariance must be a symmetric positive definite 2 x 2 matrix")

    @property
    def area(self) -> float:
        """m^2 of the region."""
        xmin, xmax, ymin, ymax = self.region
        return (xmax - xmin) * (ymax - ymin)

    @property
    def position(self) -> tuple[float, float]:
        """The region's centre, m."""
        xmin, xmax, ymin, ymax = self.region
        return ((xmin + xmax) / 2.0, (ymin + ymax) / 2.0)

    def visible(self, positions: np.ndarray) -> np.ndarray:
        xmin, xmax, ymin, ymax = self.region
        x, y = positions[:, 0], positions[:, 1]
        return (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)

    def clutter_density(self, xy: np.ndarray, range_: np.ndarray | None = None) -> np.ndarray:
        return np.full(xy.shape[0], max(self.clutter_rate / self.area, MIN_CLUTTER_DENSITY))

    def noise_covariances(self, xy: np.ndarray, range_: np.ndarray,
                          azimuth: np.ndarray) -> np.ndarray:
        matrix = (np.asarray(self.covariance, dtype=float) if self.covariance is not None
                  else self.sigma**2 * np.eye(2))
        return np.broadcast_to(matrix, (xy.shape[0], 2, 2)).copy()


@dataclass(frozen=True)
class PolarSensor(SensorModel):
    """A sensor measuring range and azimuth from a pose (radar and point cloud).

    Attributes (m, rad): position (x, y); orientation, boresight in the world frame;
    azimuth_span, the field of view's sector centred on boresight (2 pi: all round);
    min_range, max_range; range_std, azimuth_std, the polar measurement noise.
    """

    kind: ClassVar[str] = "polar"
    position: tuple[float, float] = (0.0, 0.0)
    orientation: float = 0.0
    azimuth_span: float = 2 * math.pi
    min_range: float = 50.0
    max_range: float = 5000.0
    range_std: float = 7.5
    azimuth_std: float = math.radians(0.3)

    def __post_init__(self) -> None:
        _check_common(self)
        name = self.kind
        require(0 < self.azimuth_span <= 2 * math.pi, f"{name}.azimuth_span must be in (0, 2 pi]")
        require(0 <= self.min_range < self.max_range, f"{name}: need 0 <= min_range < max_range")
        require(self.range_std >= 0 and self.azimuth_std >= 0,
                f"{name}: range_std and azimuth_std must be >= 0")

    def visible(self, positions: np.ndarray) -> np.ndarray:
        return in_view(self, *to_polar(self, positions))

    def clutter_density(self, xy: np.ndarray, range_: np.ndarray | None = None) -> np.ndarray:
        """Clutter uniform in range and azimuth: ``clutter_rate / (range interval * azimuth span
        * r)`` per m^2 at range r."""
        if range_ is None:
            range_ = to_polar(self, xy)[0]
        area_per_range = (self.max_range - self.min_range) * self.azimuth_span
        density = self.clutter_rate / (area_per_range * np.maximum(range_, 1.0))
        return np.maximum(density, MIN_CLUTTER_DENSITY)

    def noise_covariances(self, xy: np.ndarray, range_: np.ndarray,
                          azimuth: np.ndarray) -> np.ndarray:
        """The polar noise mapped through the Jacobian at the measured point (converted
        measurements, :func:`polar_covariance`)."""
        return polar_covariance(range_, azimuth + self.orientation, self.range_std,
                                self.azimuth_std)


def polar_covariance(range_: np.ndarray, bearing: np.ndarray, range_std: float,
                     azimuth_std: float) -> np.ndarray:
    """(N, 2, 2) Cartesian covariance of polar measurements, ``J diag(sr^2, sa^2) J^T``.

    Args:
        range_: (N,) m. bearing: (N,) rad, world frame (azimuth + sensor orientation).
        range_std: m. azimuth_std: rad.
    """
    cos, sin = np.cos(bearing), np.sin(bearing)
    radial, cross = range_std**2, (range_ * azimuth_std) ** 2
    covariance = np.empty((range_.size, 2, 2))
    covariance[:, 0, 0] = radial * cos**2 + cross * sin**2
    covariance[:, 1, 1] = radial * sin**2 + cross * cos**2
    covariance[:, 0, 1] = covariance[:, 1, 0] = (radial - cross) * cos * sin
    return covariance


@dataclass(frozen=True)
class RadarSensor(PolarSensor):
    """A radar (see the module docstring); ``range_rate_std`` m/s is the Doppler noise."""

    kind: ClassVar[str] = "radar"
    range_rate_std: float = 0.5
    pd_model: str = "constant"
    snr_db: float = 30.0
    snr_ref_range: float = 2000.0
    threshold_db: float = 13.0

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.pd_model in ("constant", "snr"), 'radar.pd_model must be "constant" or "snr"')

    def detection_probability(self, positions: np.ndarray) -> np.ndarray:
        if self.pd_model == "snr":
            return snr_detection_probability(self.snr_db, self.snr_ref_range, self.threshold_db,
                                             to_polar(self, positions)[0])
        return super().detection_probability(positions)


@dataclass(frozen=True)
class PointCloudSensor(PolarSensor):
    """A LIDAR-like sensor; targets are ellipses of semi-axes ``extent`` (along, across) m."""

    kind: ClassVar[str] = "pointcloud"
    min_range: float = 1.0
    max_range: float = 150.0
    range_std: float = 0.05
    azimuth_std: float = math.radians(0.1)
    extent: tuple[float, float] = (2.5, 1.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        require(min(self.extent) >= 0, "pointcloud.extent must be [a, b] >= 0")


SENSOR_MODELS: dict[str, type[SensorModel]] = {
    "cartesian": CartesianSensor, "radar": RadarSensor, "pointcloud": PointCloudSensor}

def sensor_from_dict(data: Any, where: str = "sensor") -> SensorModel:
    """One sensor model from a TOML table with a ``kind`` key; InputError (naming ``where`` and
    the key) for an unknown kind, unknown keys, missing ``kind`` or wrong-typed values."""
    if not isinstance(data, dict):
        raise InputError(f"{where} must be a table of settings")
    kind = data.get("kind")
    if kind not in SENSOR_MODELS:
        raise InputError(f"{where}.kind = {kind!r}: expected one of {', '.join(SENSOR_MODELS)}")
    table = {key: value for key, value in data.items() if key != "kind"}
    if "id" in table and isinstance(table["id"], int) and not isinstance(table["id"], bool):
        table["id"] = str(table["id"])
    for key in ("dt", "id"):
        if key in table and not isinstance(table[key], str if key == "id" else int | float):
            raise InputError(f"{where}.{key} = {table[key]!r}: expected a "
                             f"{'string' if key == 'id' else 'number'}")
    if kind == "cartesian" and "covariance" in table:
        table["covariance"] = _matrix(table["covariance"], f"{where}.covariance")
    return build_config(SENSOR_MODELS[kind], table, where)


def _matrix(value: Any, where: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """A 2 x 2 matrix of numbers from TOML; InputError otherwise."""
    ok = (isinstance(value, list) and len(value) == 2
          and all(isinstance(row, list) and len(row) == 2
                  and all(isinstance(v, int | float) and not isinstance(v, bool)
                          and math.isfinite(v) for v in row) for row in value))
    if not ok:
        raise InputError(f"{where} = {value!r}: expected [[xx, xy], [xy, yy]] (m^2)")
    return tuple(tuple(float(v) for v in row) for row in value)  # type: ignore[return-value]


def sensors_from_dict(data: dict[str, Any]) -> tuple[SensorModel, ...]:
    """The sensor models of a sensor TOML: top-level keys (one sensor) or ``[[sensors]]``.

    Sensors without an ``id`` get their 0-based position as id (``"0"``, ``"1"``, ...); ids
    must be unique.
    """
    if "sensors" in data:
        extra = sorted(set(data) - {"sensors"})
        require(not extra, f"unknown top-level key(s) {', '.join(extra)} beside [[sensors]]")
        tables = data["sensors"]
        require(isinstance(tables, list) and len(tables) > 0 and all(
            isinstance(t, dict) for t in tables), "sensors must be an array of tables")
        sensors = [sensor_from_dict(t, f"sensors[{i}]") for i, t in enumerate(tables)]
    else:
        sensors = [sensor_from_dict(data)]
    named = tuple(s if s.id is not None else _with_id(s, str(i)) for i, s in enumerate(sensors))
    ids = [s.id for s in named]
    require(len(set(ids)) == len(ids), f"sensor ids must be unique, got {ids}")
    return named


def _with_id(sensor: SensorModel, sensor_id: str) -> SensorModel:
    return dataclasses.replace(sensor, id=sensor_id)


def read_sensors(path: str | os.PathLike) -> tuple[SensorModel, ...]:
    """The sensor models in the TOML file at ``path`` (layout: :func:`sensors_from_dict`);
    InputError naming the file and key on any problem."""
    data = read_toml(path, "sensor")
    try:
        return sensors_from_dict(data)
    except InputError as error:
        raise InputError(f"{path}: {error}") from None
