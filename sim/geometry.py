"""Sensor geometry of the simulated sensors: polar noise and clutter; world <-> polar and the field
of view come from :mod:`common.geometry` (one definition for the simulator and the tracker).
"""

from __future__ import annotations

import numpy as np

from common.geometry import in_view, to_polar, to_world, wrap_angle
from sim.config import SensorConfig

__all__ = [
    "add_polar_noise", "clutter_frames", "clutter_polar", "in_view", "to_polar", "to_world",
    "wrap_angle",
]


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
