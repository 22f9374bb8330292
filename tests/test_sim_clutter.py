"""Clutter of simulated sensors: uniform clutter unchanged by the patch option, patch geometry
exact, the tracker told the mean rate, bad patch settings refused."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from common.errors import InputError
from sim.clutter import clutter_spots, patch_centres
from sim.config import PointCloudConfig, RadarConfig
from sim.export import sensor_table
from sim.geometry import to_polar, wrap_angle
from sim.presets import get_preset
from tests.test_sim_stats import assert_count

RADAR = RadarConfig(position=(0.0, 0.0), orientation=0.0, azimuth_span=2 * math.pi,
                    min_range=10.0, max_range=5000.0, clutter_rate=7.0)


def test_without_patches_clutter_is_the_uniform_draws_alone():
    frame, range_, azimuth = clutter_spots(RADAR, 30, 1.0, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    counts = rng.poisson(7.0, 30)
    np.testing.assert_array_equal(frame, np.repeat(np.arange(30), counts))
    np.testing.assert_array_equal(range_, rng.uniform(10.0, 5000.0, counts.sum()))
    np.testing.assert_array_equal(azimuth, wrap_angle(rng.uniform(-math.pi, math.pi, counts.sum())))


def test_patch_spots_of_zero_radius_sit_on_centres_that_drift_at_the_patch_speed():
    radar = RadarConfig(position=(0.0, 0.0), azimuth_span=2 * math.pi, min_range=10.0,
                        max_range=1e5, clutter_rate=0.0, clutter_patches=3, patch_rate=4.0,
                        patch_radius=0.0, patch_speed=2.5)
    frame, range_, azimuth = clutter_spots(radar, 12, 0.5, np.random.default_rng(1))
    # clutter_rate 0: the uniform part draws nothing, so the centres come first in the stream
    centres = patch_centres(radar, 12, 0.5, np.random.default_rng(1))
    steps = np.linalg.norm(np.diff(centres, axis=0), axis=2)
    np.testing.assert_allclose(steps, 2.5 * 0.5, rtol=1e-9)
    xy = np.stack([range_ * np.cos(azimuth), range_ * np.sin(azimuth)], 1)
    distance_to_centre = np.linalg.norm(xy[:, None] - centres[frame], axis=2).min(axis=1)
    np.testing.assert_allclose(distance_to_centre, 0.0, atol=1e-6)
    assert_count(len(frame), 12 * 3 * 4.0, 12 * 3 * 4.0)


def test_patch_spots_spread_with_the_patch_radius():
    radar = RadarConfig(position=(0.0, 0.0), azimuth_span=2 * math.pi, min_range=0.0,
                        max_range=1e6, clutter_rate=0.0, clutter_patches=2, patch_rate=50.0,
                        patch_radius=80.0, patch_speed=0.0)
    frame, range_, azimuth = clutter_spots(radar, 40, 1.0, np.random.default_rng(3))
    centres = patch_centres(radar, 40, 1.0, np.random.default_rng(3))
    xy = np.stack([range_ * np.cos(azimuth), range_ * np.sin(azimuth)], 1)
    offset = xy[:, None] - centres[frame]
    nearest = np.linalg.norm(offset, axis=2).argmin(axis=1)
    own = offset[np.arange(len(xy)), nearest]
    # Gaussian offsets: each axis has variance radius^2 (5-sigma band on the sample variance)
    for axis in range(2):
        variance = np.mean(own[:, axis] ** 2)
        assert abs(variance / 80.0**2 - 1) < 5 * math.sqrt(2 / len(xy))


def test_spots_outside_the_field_of_view_are_dropped():
    radar = RadarConfig(position=(0.0, 0.0), orientation=0.0, azimuth_span=math.pi / 2,
                        min_range=100.0, max_range=1000.0, clutter_rate=0.0,
                        clutter_patches=20, patch_rate=20.0, patch_radius=400.0)
    _, range_, azimuth = clutter_spots(radar, 10, 1.0, np.random.default_rng(0))
    assert len(range_) > 0
    assert range_.min() >= 100.0 and range_.max() <= 1000.0
    assert np.abs(azimuth).max() <= math.pi / 4


def test_the_tracker_is_told_the_mean_clutter_rate_of_both_kinds():
    radar = get_preset("sea-clutter").sensors[0]
    assert radar.mean_clutter_rate == radar.clutter_rate + radar.clutter_patches * radar.patch_rate
    assert sensor_table(radar)["clutter_rate"] == radar.mean_clutter_rate
    assert sensor_table(get_preset("default").sensors[0])["clutter_rate"] == 10.0


def test_point_clouds_take_patches_too():
    lidar = PointCloudConfig(clutter_rate=0.0, clutter_patches=2, patch_rate=30.0,
                             patch_radius=5.0, patch_speed=1.0)
    scene = sim.generate(get_preset("pointcloud").replace(sensors=(lidar,), frames=5), 2)
    clutter = scene.det_target < 0
    assert clutter.sum() > 0
    range_, _ = to_polar(lidar, scene.det_xy[clutter])
    assert range_.max() <= lidar.max_range


def share_with_a_close_neighbour(scene, radius: float = 100.0) -> float:
    """Share of clutter detections with another clutter detection of the same frame within
    ``radius`` m."""
    distances = []
    for frame in range(scene.num_frames):
        rows = np.flatnonzero((scene.det_frame == frame) & (scene.det_target < 0))
        xy = scene.det_xy[rows].astype(np.float64)
        pairwise = np.linalg.norm(xy[:, None] - xy[None], axis=2)
        np.fill_diagonal(pairwise, np.inf)
        distances.append(pairwise.min(axis=1))
    return float(np.mean(np.concatenate(distances) < radius))


def test_sea_clutter_is_clumped_where_uniform_clutter_of_the_same_rate_is_not():
    sea = get_preset("sea-clutter").replace(frames=20)
    radar = sea.sensors[0]
    uniform = sea.replace(sensors=(RadarConfig(**{
        **{key: getattr(radar, key) for key in ("position", "orientation", "azimuth_span",
                                                 "min_range", "max_range")},
        "clutter_rate": radar.mean_clutter_rate}),))
    clumped = share_with_a_close_neighbour(sim.generate(sea, 4))
    spread = share_with_a_close_neighbour(sim.generate(uniform, 4))
    assert clumped > 3 * spread, (clumped, spread)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("clutter_patches", -1, "clutter_patches must be >= 0"),
    ("clutter_patches", 1.5, "clutter_patches must be an integer"),
    ("clutter_patches", 10**9, "clutter_patches must be <= 10000"),
    ("patch_rate", float("nan"), "patch_rate must be finite"),
    ("patch_radius", -3.0, "patch_radius must be >= 0"),
    ("patch_speed", float("inf"), "patch_speed must be finite"),
])
def test_bad_patch_settings_are_refused(field, value, message):
    with pytest.raises(InputError, match=message):
        RadarConfig(**{field: value})
