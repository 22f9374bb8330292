"""Point-cloud sensor: Poisson points per extended target inside its ellipse, clutter points."""

from __future__ import annotations

import math

import numpy as np
from test_sim_radar import truth_rows_of_detections
from test_sim_stats import assert_count, assert_fraction, assert_poisson

import sim
from sim.config import MotionConfig, PointCloudConfig, RadarConfig, ScenarioConfig

MOTION = MotionConfig(
    initial_targets=40, birth_rate=0.0, survival_prob=1.0, birth_region=(-40, 40, -40, 40),
    speed_range=(1.0, 3.0),
)  # fmt: skip
LIDAR = PointCloudConfig(
    max_range=500.0, range_std=0.0, azimuth_std=0.0, detection_prob=1.0, clutter_rate=0.0,
    extent=(2.5, 1.0), points_per_target=6.0,
)  # fmt: skip


def scene(lidar: PointCloudConfig, frames: int = 100, seed: int = 0) -> sim.Scenario:
    return sim.generate(
        ScenarioConfig(frames=frames, dt=0.1, motion=MOTION, sensors=(lidar,)), seed
    )


def test_points_per_target_are_poisson_and_carry_no_doppler_or_amplitude():
    scenario = scene(LIDAR)
    points = np.zeros(len(scenario.truth_id), int)
    np.add.at(points, truth_rows_of_detections(scenario), 1)
    assert_poisson(points, 6.0)
    assert np.isnan(scenario.det_range_rate).all() and np.isnan(scenario.det_amplitude).all()


def test_noise_free_points_fill_the_heading_aligned_ellipse_uniformly():
    scenario = scene(LIDAR)
    state = scenario.truth_state[truth_rows_of_detections(scenario)]
    offset = scenario.det_xy - state[:, :2]
    heading = np.arctan2(state[:, 3], state[:, 2])
    along = offset[:, 0] * np.cos(heading) + offset[:, 1] * np.sin(heading)
    across = -offset[:, 0] * np.sin(heading) + offset[:, 1] * np.cos(heading)
    radius_sq = (along / 2.5) ** 2 + (across / 1.0) ** 2
    assert radius_sq.max() <= 1 + 1e-3
    n = len(radius_sq)  # uniform in the ellipse: radius^2 ~ U(0, 1), mean 1/2, variance 1/12
    assert_count(radius_sq.sum(), n / 2, n / 12)
    assert_fraction(int((along > 0).sum()), n, 0.5)


def test_detection_probability_and_clutter_points():
    lidar = PointCloudConfig(**{**LIDAR.__dict__, "detection_prob": 0.7, "clutter_rate": 15.0})
    scenario = scene(lidar, frames=400)
    clutter = scenario.det_target < 0
    assert_poisson(np.bincount(scenario.det_frame[clutter], minlength=400), 15.0)
    assert np.all((scenario.det_range >= lidar.min_range) & (scenario.det_range <= 500.0))
    seen = np.zeros(len(scenario.truth_id), bool)
    seen[truth_rows_of_detections(scenario)] = True
    # a seen target gives >= 1 point: P(seen) = Pd * (1 - exp(-6))
    assert_fraction(int(seen.sum()), len(seen), 0.7 * (1 - math.exp(-6.0)))


def test_several_sensors_share_the_truth_and_keep_their_own_streams():
    radar = RadarConfig(max_range=500.0, clutter_rate=3.0)
    both = sim.generate(ScenarioConfig(frames=30, motion=MOTION, sensors=(LIDAR, radar)), 7)
    alone = sim.generate(ScenarioConfig(frames=30, motion=MOTION, sensors=(LIDAR,)), 7)
    np.testing.assert_array_equal(both.truth_state, alone.truth_state)
    first = both.det_sensor == 0
    np.testing.assert_array_equal(np.sort(both.det_range[first]), np.sort(alone.det_range))
    assert set(np.unique(both.det_sensor)) == {0, 1}
    assert (
        np.isnan(both.det_range_rate[first]).all()
        and not np.isnan(both.det_range_rate[~first]).any()
    )
    assert both.sensors[1].kind == "radar" and both.sensors[0].kind == "pointcloud"
