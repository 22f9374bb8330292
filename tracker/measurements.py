"""Sensor detections -> position measurements with covariances, ready for association.

Radar: converted measurements. Each detection's world position (already converted from range and
azimuth by the sensor) is used as a linear position measurement whose covariance is the polar
noise mapped through the Jacobian of the polar -> Cartesian conversion at the measured point,
``R = J diag(range_std^2, azimuth_std^2) J^T``. Why converted measurements and not an EKF on
(range, azimuth): every backend then sees one linear 2-D measurement model, so the Kalman
update, the chi-square gate and the association network's features are the same for radar and
point cloud, batched over tracks; the linearisation error is small when the cross-range error is
small against the range (``range * azimuth_std^2 << range_std``: 0.1 m bias at 5 km with
0.3 deg), which holds for the sensors simulated here. Range-rate is not used in the state update
(it would make the update nonlinear); it is passed on as an association feature.

Point cloud: points are clustered by single linkage (points closer than ``cluster_distance``
join) and each cluster becomes one centroid detection. Its covariance is extent-aware:
``(Sigma_extent + mean point noise) / n`` for n points, with ``Sigma_extent`` the covariance of a
point uniform in the target ellipse (semi-axes a, b, unknown heading: ``(a^2 + b^2) / 8 I``).

Clutter is uniform in range and azimuth, so its density per m^2 at range r is
``clutter_rate / (range interval * azimuth span * r)``. The field of view and the Pd model are the
sensor's own (:mod:`sim.geometry`, :mod:`sim.radar`): a tracker is told its sensors' specifications.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from sim.geometry import in_view, to_polar
from sim.radar import detection_probability as radar_detection_probability


@dataclass(frozen=True)
class ScanDetections:
    """The raw detections of one sensor's scan (L rows, float64).

    xy (L, 2) world position m; range (L,) m; azimuth (L,) rad, sensor frame; range_rate (L,) m/s,
    NaN without Doppler; amplitude (L,) dB, NaN without amplitude; target (L,) int64 true id,
    -1 for clutter.
    """

    xy: np.ndarray
    range: np.ndarray
    azimuth: np.ndarray
    range_rate: np.ndarray
    amplitude: np.ndarray
    target: np.ndarray

    @classmethod
    def take(cls, detections, rows: np.ndarray) -> ScanDetections:
        """Rows ``rows`` of a frame's detections (``sim.FrameDetections`` or alike)."""
        return cls(*(np.asarray(getattr(detections, f.name))[rows].astype(
            np.int64 if f.name == "target" else np.float64) for f in fields(cls)))


@dataclass(frozen=True)
class Measurements:
    """D position measurements from one sensor scan (float64).

    Attributes:
        xy: (D, 2) world position, m.
        covariances: (D, 2, 2) measurement covariance R, m^2.
        range_rate: (D,) m/s, NaN without Doppler.
        amplitude: (D,) SNR dB, NaN without amplitude.
        points: (D,) int64, points behind each measurement (1 for radar).
        spread: (D,) m, RMS distance of the points from their centroid (0 for radar).
        clutter_density: (D,) expected clutter measurements per m^2 at each measurement.
        target: (D,) int64 true target id (most points' id for a cluster), -1 clutter; for
            scoring and training only, never for tracking.
    """

    xy: np.ndarray
    covariances: np.ndarray
    range_rate: np.ndarray
    amplitude: np.ndarray
    points: np.ndarray
    spread: np.ndarray
    clutter_density: np.ndarray
    target: np.ndarray

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    def take(self, index: np.ndarray) -> Measurements:
        """The measurements at ``index`` (int or bool array)."""
        return Measurements(*(getattr(self, name)[index] for name in _MEASUREMENT_FIELDS))


_MEASUREMENT_FIELDS = tuple(f.name for f in fields(Measurements))


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


MIN_CLUTTER_DENSITY = 1e-12
"""Per m^2: the floor of the clutter density, so that a clutter-free sensor still gives finite
likelihood ratios (one false return per 10^6 km^2)."""


def clutter_density(sensor, range_: np.ndarray) -> np.ndarray:
    """(N,) clutter per m^2 at ``range_`` (N,) m for clutter uniform in range and azimuth
    (at least :data:`MIN_CLUTTER_DENSITY`)."""
    area_per_range = (sensor.max_range - sensor.min_range) * sensor.azimuth_span
    density = sensor.clutter_rate / (area_per_range * np.maximum(range_, 1.0))
    return np.maximum(density, MIN_CLUTTER_DENSITY)


def radar_measurements(sensor, detections: ScanDetections) -> Measurements:
    """Converted position measurements of one radar scan (see the module docstring)."""
    count = detections.range.size
    return Measurements(
        xy=detections.xy,
        covariances=polar_covariance(detections.range, detections.azimuth + sensor.orientation,
                                     sensor.range_std, sensor.azimuth_std),
        range_rate=detections.range_rate,
        amplitude=detections.amplitude,
        points=np.ones(count, dtype=np.int64),
        spread=np.zeros(count),
        clutter_density=clutter_density(sensor, detections.range),
        target=detections.target,
    )


def cluster_points(xy: np.ndarray, cluster_distance: float) -> tuple[np.ndarray, int]:
    """Single-linkage clusters: points closer than ``cluster_distance`` m share a cluster.

    Returns ``(labels (N,) int, count)``.
    """
    pairs = cKDTree(xy).query_pairs(cluster_distance, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])),
                       shape=(len(xy), len(xy)))
    count, labels = connected_components(graph, directed=False)
    return labels, int(count)


def majority_label(cluster: np.ndarray, label: np.ndarray, count: int) -> np.ndarray:
    """(count,) the most frequent ``label`` (N,) inside each of ``count`` clusters (N,)."""
    values, codes = np.unique(label, return_inverse=True)
    votes = np.zeros((count, values.size), dtype=np.int64)
    np.add.at(votes, (cluster, codes), 1)
    return values[votes.argmax(axis=1)]


def pointcloud_measurements(sensor, detections: ScanDetections,
                            cluster_distance: float) -> Measurements:
    """Centroid measurements of one point-cloud scan: one per cluster of points."""
    xy = detections.xy
    if len(xy) == 0:  # no points: an empty set of measurements, fields shaped alike
        return radar_measurements(sensor, detections)
    labels, count = cluster_points(xy, cluster_distance)
    points = np.bincount(labels, minlength=count)
    centroid = np.stack([np.bincount(labels, xy[:, axis], count) for axis in (0, 1)], 1)
    centroid /= points[:, None]
    squared_distance = np.sum((xy - centroid[labels]) ** 2, axis=1)
    point_noise = polar_covariance(detections.range, detections.azimuth + sensor.orientation,
                                   sensor.range_std, sensor.azimuth_std)
    mean_noise = np.stack([np.bincount(labels, point_noise[:, i // 2, i % 2], count)
                           for i in range(4)], 1).reshape(count, 2, 2) / points[:, None, None]
    extent_variance = (sensor.extent[0] ** 2 + sensor.extent[1] ** 2) / 8.0
    covariances = (mean_noise + extent_variance * np.eye(2)) / points[:, None, None]
    centroid_range = np.hypot(*(centroid - np.asarray(sensor.position)).T)
    nan = np.full(count, np.nan)
    return Measurements(
        xy=centroid,
        covariances=covariances,
        range_rate=nan,
        amplitude=nan.copy(),
        points=points.astype(np.int64),
        spread=np.sqrt(np.bincount(labels, squared_distance, count) / points),
        clutter_density=clutter_density(sensor, centroid_range),
        target=majority_label(labels, detections.target, count),
    )


def measure_scan(sensor, detections: ScanDetections, cluster_distance: float) -> Measurements:
    """Measurements of one sensor's scan: converted radar detections or point-cloud centroids."""
    if sensor.kind == "pointcloud":
        return pointcloud_measurements(sensor, detections, cluster_distance)
    return radar_measurements(sensor, detections)


def visible(sensor, positions: np.ndarray) -> np.ndarray:
    """(N,) bool: positions (N, 2) m inside the sensor's field of view."""
    return in_view(sensor, *to_polar(sensor, positions))


def detection_probability(sensor, positions: np.ndarray) -> np.ndarray:
    """(N,) Pd of targets at positions (N, 2) m inside the sensor's view (the sensor's Pd model)."""
    if sensor.kind == "radar":
        return radar_detection_probability(sensor, to_polar(sensor, positions)[0])
    return np.full(positions.shape[0], sensor.detection_prob)
