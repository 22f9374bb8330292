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

Cartesian: the detections are the measurements, with the sensor's noise covariance.

Point cloud: points are clustered by single linkage (points closer than ``cluster_distance``
join) and each cluster becomes one centroid detection. Its covariance is extent-aware:
``(Sigma_extent + mean point noise) / n`` for n points, with ``Sigma_extent`` the covariance of a
point uniform in the target ellipse (semi-axes a, b, unknown heading: ``(a^2 + b^2) / 8 I``).

Per-detection covariances, when the detections carry them (a detection file's covariance
columns), replace the sensor's noise model (per point for a point cloud). The clutter density,
field of view and Pd model are the sensor model's own (:mod:`tracker.sensors`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from tracker.sensors import SensorModel


@dataclass(frozen=True)
class ScanDetections:
    """The raw detections of one sensor's scan (L rows, float64).

    xy (L, 2) world position m; range (L,) m; azimuth (L,) rad, sensor frame (NaN for a
    Cartesian sensor); range_rate (L,) m/s, NaN without Doppler; amplitude (L,) dB, NaN without
    amplitude; target (L,) int64 true id, -1 for clutter or unknown (scoring and training only);
    covariances (L, 2, 2) m^2 per-detection noise overriding the sensor's, or None.
    """

    xy: np.ndarray
    range: np.ndarray
    azimuth: np.ndarray
    range_rate: np.ndarray
    amplitude: np.ndarray
    target: np.ndarray
    covariances: np.ndarray | None = None

    @classmethod
    def take(cls, detections, rows: np.ndarray) -> ScanDetections:
        """Rows ``rows`` of a frame's detections (``sim.FrameDetections`` or alike: the arrays
        ``xy``, ``range``, ``azimuth``, ``range_rate``, ``amplitude``, ``target``)."""
        return cls(*(np.asarray(getattr(detections, name))[rows].astype(
            np.int64 if name == "target" else np.float64) for name in _SCAN_ARRAYS))

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    def noise(self, sensor: SensorModel) -> np.ndarray:
        """(L, 2, 2) m^2: the per-detection covariances where given (rows not NaN), else the
        sensor's noise."""
        if self.covariances is None:
            return sensor.noise_covariances(self.xy, self.range, self.azimuth)
        missing = np.isnan(self.covariances).any(axis=(1, 2))
        if not missing.any():
            return self.covariances
        noise = self.covariances.copy()
        noise[missing] = sensor.noise_covariances(self.xy[missing], self.range[missing],
                                                  self.azimuth[missing])
        return noise


_SCAN_ARRAYS = ("xy", "range", "azimuth", "range_rate", "amplitude", "target")


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


def point_measurements(sensor: SensorModel, detections: ScanDetections) -> Measurements:
    """One measurement per detection (radar: converted measurements; Cartesian: as given)."""
    count = len(detections)
    return Measurements(
        xy=detections.xy,
        covariances=detections.noise(sensor),
        range_rate=detections.range_rate,
        amplitude=detections.amplitude,
        points=np.ones(count, dtype=np.int64),
        spread=np.zeros(count),
        clutter_density=sensor.clutter_density(detections.xy, detections.range),
        target=detections.target,
    )


def cluster_points(xy: np.ndarray, cluster_distance: float) -> tuple[np.ndarray, int]:
    """Single-linkage clusters: points closer than ``cluster_distance`` m share a cluster.

    Returns ``(labels (N,) int, count)``.
    """
    from scipy.spatial import cKDTree  # point clouds only

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


def pointcloud_measurements(sensor: SensorModel, detections: ScanDetections,
                            cluster_distance: float) -> Measurements:
    """Centroid measurements of one point-cloud scan: one per cluster of points."""
    xy = detections.xy
    if len(xy) == 0:  # no points: an empty set of measurements, fields shaped alike
        return point_measurements(sensor, detections)
    labels, count = cluster_points(xy, cluster_distance)
    points = np.bincount(labels, minlength=count)
    centroid = np.stack([np.bincount(labels, xy[:, axis], count) for axis in (0, 1)], 1)
    centroid /= points[:, None]
    squared_distance = np.sum((xy - centroid[labels]) ** 2, axis=1)
    point_noise = detections.noise(sensor)
    mean_noise = np.stack([np.bincount(labels, point_noise[:, i // 2, i % 2], count)
                           for i in range(4)], 1).reshape(count, 2, 2) / points[:, None, None]
    extent_variance = (sensor.extent[0] ** 2 + sensor.extent[1] ** 2) / 8.0
    covariances = (mean_noise + extent_variance * np.eye(2)) / points[:, None, None]
    nan = np.full(count, np.nan)
    return Measurements(
        xy=centroid,
        covariances=covariances,
        range_rate=nan,
        amplitude=nan.copy(),
        points=points.astype(np.int64),
        spread=np.sqrt(np.bincount(labels, squared_distance, count) / points),
        clutter_density=sensor.clutter_density(centroid),
        target=majority_label(labels, detections.target, count),
    )


def measure_scan(sensor: SensorModel, detections: ScanDetections,
                 cluster_distance: float) -> Measurements:
    """Measurements of one sensor's scan: point-cloud centroids, or one per detection."""
    if sensor.kind == "pointcloud":
        return pointcloud_measurements(sensor, detections, cluster_distance)
    return point_measurements(sensor, detections)
