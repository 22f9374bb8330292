"""Converted radar measurements, point-cloud centroids and the clutter density model."""

import math

import numpy as np
import pytest

from sim import generate
from sim.config import MotionConfig, PointCloudConfig, RadarConfig, ScenarioConfig
from sim.geometry import add_polar_noise, to_world
from tracker.measurements import ScanDetections, cluster_points, majority_label, measure_scan
from tracker.scene_source import scene_sensors
from tracker.sensors import PointCloudSensor, RadarSensor, polar_covariance


def test_polar_covariance_matches_monte_carlo_conversion():
    sensor = RadarConfig(position=(100.0, -50.0), orientation=0.7, range_std=7.5,
                         azimuth_std=math.radians(0.3))
    rng = np.random.default_rng(0)
    count = 200_000
    true_range, true_azimuth = np.full(count, 3000.0), np.full(count, 0.4)
    noisy = add_polar_noise(sensor, true_range, true_azimuth, rng)
    points = to_world(sensor, *noisy)
    predicted = polar_covariance(np.array([3000.0]), np.array([0.4 + 0.7]), 7.5,
                                 math.radians(0.3))[0]
    np.testing.assert_allclose(np.cov(points.T), predicted, rtol=0.02, atol=0.5)


def test_polar_covariance_is_radial_along_the_line_of_sight():
    covariance = polar_covariance(np.array([1000.0]), np.array([np.pi / 2]), 2.0, 0.01)[0]
    np.testing.assert_allclose(covariance, [[100.0, 0.0], [0.0, 4.0]], atol=1e-9)


def test_clutter_density_integrates_to_the_clutter_rate_over_the_view():
    sensor = RadarSensor(min_range=100.0, max_range=6000.0, azimuth_span=math.radians(120),
                         clutter_rate=10.0)
    radii = np.linspace(sensor.min_range, sensor.max_range, 200_001)
    # integral over the sector of density * r dr dtheta
    integrand = sensor.clutter_density(np.zeros((radii.size, 2)), radii) * radii \
        * sensor.azimuth_span
    assert np.trapezoid(integrand, radii) == pytest.approx(10.0, rel=1e-6)


def test_cluster_points_joins_points_closer_than_the_distance():
    points = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [10.0, 0.0], [10.5, 0.0]])
    labels, count = cluster_points(points, 1.5)
    assert count == 2
    assert len(set(labels[:3])) == 1 and labels[3] == labels[4] != labels[0]
    np.testing.assert_array_equal(majority_label(labels, np.array([4, 4, 7, 7, 7]), count)
                                  [[labels[0], labels[3]]], [4, 7])


def _scan(xy, target, sensor):
    xy = np.asarray(xy, float)
    offset = xy - np.asarray(sensor.position)
    return ScanDetections(xy, np.hypot(*offset.T), np.arctan2(offset[:, 1], offset[:, 0]),
                          np.full(len(xy), np.nan), np.full(len(xy), np.nan),
                          np.asarray(target))


def test_point_cloud_centroids_have_extent_aware_covariance():
    sensor = PointCloudSensor(extent=(2.0, 1.0), range_std=0.0, azimuth_std=0.0)
    scan = _scan([[10, 0], [11, 0], [10, 1], [11, 1], [50, 50]], [3, 3, 3, 3, -1], sensor)
    measurements = measure_scan(sensor, scan, cluster_distance=2.0)
    order = np.argsort(measurements.points)
    np.testing.assert_array_equal(measurements.points[order], [1, 4])
    np.testing.assert_allclose(measurements.xy[order[1]], [10.5, 0.5])
    np.testing.assert_allclose(measurements.spread[order[1]], math.sqrt(0.5))
    extent_variance = (2.0**2 + 1.0**2) / 8.0
    np.testing.assert_allclose(measurements.covariances[order[1]], np.eye(2) * extent_variance / 4)
    np.testing.assert_array_equal(measurements.target[order], [-1, 3])
    assert np.isnan(measurements.range_rate).all()


def test_point_cloud_centroid_covariance_is_consistent_on_simulated_targets():
    """NIS of centroids against the true target position: mean near 2 (chi-square, 2 dof)."""
    sensor = PointCloudConfig(position=(0.0, 0.0), max_range=100.0, clutter_rate=0.0)
    motion = MotionConfig(initial_targets=6, birth_rate=0.0, survival_prob=1.0,
                          birth_region=(-60.0, 60.0, -60.0, 60.0), speed_range=(1.0, 10.0))
    scene = generate(ScenarioConfig(frames=40, dt=0.1, motion=motion, sensors=(sensor,)), 4)
    model = scene_sensors(scene)[0]
    statistics = []
    for frame in range(scene.num_frames):
        detections = scene.frame_detections(frame)
        scan = ScanDetections.take(detections, np.arange(len(detections)))
        measured = measure_scan(model, scan, cluster_distance=3.0)
        truth = scene.frame_truth(frame)
        lookup = dict(zip(truth.id.tolist(), truth.state[:, :2], strict=True))
        for xy, covariance, target in zip(measured.xy, measured.covariances, measured.target,
                                          strict=True):
            if target in lookup:
                error = xy - lookup[target]
                statistics.append(error @ np.linalg.solve(covariance, error))
    assert len(statistics) > 150
    assert 1.2 < np.mean(statistics) < 3.0, np.mean(statistics)
