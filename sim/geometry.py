"""Sensor geometry shared by all sensors: world <-> polar (sensor frame), field of view, clutter.

Range in m from the sensor position; azimuth in rad from the sensor's boresight, wrapped to
[-pi, pi), positive counter-clockwise.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config import SensorConfig


def wrap_angle(angle: np.ndarray) -> np.ndarray:
    """Angles wrapped to [-pi, pi)."""
    return (angle + math.pi) % (2 * math.pi) - math.pi


def to_polar(sensor: SensorConfig, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World positions (N, 2) m -> (range (N,) m, azimuth (N,) rad in the sensor frame)."""
    offset = xy - np.asarray(sensor.position)
    return np.hypot(offset[:, 0], offset[:, 1]), wrap_angle(
        np.arctan2(offset[:, 1], offset[:, 0]) - sensor.orientation
    )


def to_world(sensor: SensorConfig, range_: np.ndarray, azimuth: np.ndarray) -> np.ndarray:
    """Sensor-frame polar (range (N,) m, azimuth (N,) rad) -> world positions (N, 2) m."""
    bearing = azimuth + sensor.orientation
    return np.stack(
        [
            sensor.position[0] + range_ * np.cos(bearing),
            sensor.position[1] + range_ * np.sin(bearing),
        ],
        axis=1,
    )


def in_view(sensor: SensorConfig, range_: np.ndarray, azimuth: np.ndarray) -> np.ndarray:
    """(N,) bool: inside the range interval and the azimuth sector of the field of view."""
    return (
        (range_ >= sensor.min_range)
        & (range_ <= sensor.max_range)
        & (np.abs(azimuth) <= sensor.azimuth_span / 2)
    )


def add_polar_noise(
    sensor: SensorConfig, range_: np.ndarray, azimuth: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Measured (range, azimuth): true values (N,) plus Gaussian noise (range_std, azimuth_std)."""
    count = len(range_)
    return (
        range_ + rng.normal(0.0, sensor.range_std, count),
        wrap_angle(azimuth + rng.normal(0.0, sensor.azimuth_std, count)),
    )


def clutter_frames(sensor: SensorConfig, frames: int, rng: np.random.Generator) -> np.ndarray:
    """Frame index (C,) int32 of each clutter detection: Poisson(clutter_rate) per frame, sorted."""
    counts = rng.poisson(sensor.clutter_rate, frames)
    return np.repeat(np.arange(frames, dtype=np.int32), counts)


def clutter_polar(
    sensor: SensorConfig, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(range, azimuth) of ``count`` clutter spots, uniform in range and azimuth over the view."""
    half = sensor.azimuth_span / 2
    return (
        rng.uniform(sensor.min_range, sensor.max_range, count),
        wrap_angle(rng.uniform(-half, half, count)),
    )
