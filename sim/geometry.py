"""Sensor geometry of the simulated sensors: polar noise (clutter is :mod:`sim.clutter`); world
<-> polar and the field of view come from :mod:`common.geometry` (one definition for the
simulator and the tracker).
"""

from __future__ import annotations

import numpy as np

from common.geometry import in_view, to_polar, to_world, wrap_angle
from sim.config import SensorConfig

__all__ = ["add_polar_noise", "in_view", "to_polar", "to_world", "wrap_angle"]


def add_polar_noise(
    sensor: SensorConfig, range_: np.ndarray, azimuth: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Measured (range, azimuth): true values (N,) plus Gaussian noise (range_std, azimuth_std)."""
    count = len(range_)
    return (
        range_ + rng.normal(0.0, sensor.range_std, count),
        wrap_angle(azimuth + rng.normal(0.0, sensor.azimuth_std, count)),
    )

