"""Point-cloud (LIDAR-like) measurements of extended targets, plus clutter points.

A target whose centre is in view is seen with probability ``detection_prob``; it then gives
Poisson(``points_per_target``) points uniform inside its ellipse (semi-axes ``extent`` m, the first
along the velocity heading). Each point whose true position is in view is measured in range and
azimuth with Gaussian noise. Clutter points: Poisson(``clutter_rate``) per frame, uniform in range
and azimuth over the view. Points carry no range-rate or amplitude (NaN).
"""

from __future__ import annotations

import math

import numpy as np

from sim.clutter import clutter_spots
from sim.config import PointCloudConfig
from sim.detections import Detections
from sim.geometry import add_polar_noise, in_view, to_polar
from sim.motion import Truth


def sample_in_ellipse(
    state: np.ndarray, extent: tuple[float, float], rng: np.random.Generator
) -> np.ndarray:
    """One point (N, 2) m uniform in each target's ellipse; states (N, 4): centre and heading."""
    count = len(state)
    radius = np.sqrt(rng.random(count))
    angle = rng.uniform(0.0, 2 * math.pi, count)
    along, across = extent[0] * radius * np.cos(angle), extent[1] * radius * np.sin(angle)
    heading = np.arctan2(state[:, 3], state[:, 2])
    cos_h, sin_h = np.cos(heading), np.sin(heading)
    return state[:, :2] + np.stack(
        [cos_h * along - sin_h * across, sin_h * along + cos_h * across], 1
    )


def observe(
    sensor: PointCloudConfig, index: int, truth: Truth, frames: int, dt: float,
    rng: np.random.Generator,
) -> Detections:
    """All points (targets and clutter, unsorted) of point-cloud sensor number ``index`` over the
    scene of ``frames`` frames ``dt`` s apart."""
    rows = np.flatnonzero(in_view(sensor, *to_polar(sensor, truth.state[:, :2])))
    rows = rows[rng.random(len(rows)) < sensor.detection_prob]
    owner = np.repeat(rows, rng.poisson(sensor.points_per_target, len(rows)))
    range_, azimuth = to_polar(sensor, sample_in_ellipse(truth.state[owner], sensor.extent, rng))
    visible = in_view(sensor, range_, azimuth)
    owner, range_, azimuth = owner[visible], range_[visible], azimuth[visible]
    measured_range, measured_azimuth = add_polar_noise(sensor, range_, azimuth, rng)
    points = Detections.measured(
        sensor, index, truth.frame[owner], truth.id[owner], measured_range, measured_azimuth
    )
    clutter_frame, clutter_range, clutter_azimuth = clutter_spots(sensor, frames, dt, rng)
    clutter = Detections.measured(
        sensor, index, clutter_frame, np.full(len(clutter_frame), -1), clutter_range,
        clutter_azimuth,
    )
    return Detections.concatenate([points, clutter])
