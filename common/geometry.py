"""Polar sensor geometry shared by the simulator and the tracker's sensor models.

A polar sensor is anything with ``position`` (x, y) m, boresight ``orientation`` rad (world
frame, from +x towards +y), ranges ``min_range``..``max_range`` m and ``azimuth_span`` rad
centred on boresight. Range in m from the sensor position; azimuth in rad from boresight,
wrapped to [-pi, pi), positive counter-clockwise. The radar-equation Pd lives here too, so the
simulated detection process and the tracker's assumed one are one formula.
"""

from __future__ import annotations

import math

import numpy as np


def wrap_angle(angle: np.ndarray) -> np.ndarray:
    """Angles (any shape) rad, wrapped to [-pi, pi)."""
    return (angle + math.pi) % (2 * math.pi) - math.pi


def to_polar(sensor, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World positions (N, 2) m -> (range (N,) m, azimuth (N,) rad in the sensor frame)."""
    offset = xy - np.asarray(sensor.position)
    return np.hypot(offset[:, 0], offset[:, 1]), wrap_angle(
        np.arctan2(offset[:, 1], offset[:, 0]) - sensor.orientation
    )


def to_world(sensor, range_: np.ndarray, azimuth: np.ndarray) -> np.ndarray:
    """Sensor-frame polar (range (N,) m, azimuth (N,) rad) -> world positions (N, 2) m."""
    bearing = azimuth + sensor.orientation
    return np.stack(
        [
            sensor.position[0] + range_ * np.cos(bearing),
            sensor.position[1] + range_ * np.sin(bearing),
        ],
        axis=1,
    )


def in_view(sensor, range_: np.ndarray, azimuth: np.ndarray) -> np.ndarray:
    """(N,) bool: inside the range interval and the azimuth sector of the field of view."""
    return (
        (range_ >= sensor.min_range)
        & (range_ <= sensor.max_range)
        & (np.abs(azimuth) <= sensor.azimuth_span / 2)
    )


def db_to_power(db: float | np.ndarray) -> float | np.ndarray:
    """Power ratio (linear, same shape) of a level in dB: ``10 ** (db / 10)``."""
    return 10.0 ** (np.asarray(db) / 10.0)


def mean_snr(snr_db: float, snr_ref_range: float, range_: np.ndarray) -> np.ndarray:
    """Mean target SNR (power ratio, not dB) at range (N,) m: ``snr_db`` at ``snr_ref_range`` m,
    falling with range^4 (radar equation)."""
    ratio = snr_ref_range / np.maximum(range_, 1e-9)
    return db_to_power(snr_db) * ratio**4


def snr_detection_probability(snr_db: float, snr_ref_range: float, threshold_db: float,
                              range_: np.ndarray) -> np.ndarray:
    """Pd (N,) at range (N,) m of a Swerling I target through a square-law detector with
    threshold ``threshold_db`` over noise: ``exp(-T / (1 + SNR(r)))``."""
    return np.exp(-db_to_power(threshold_db) / (1.0 + mean_snr(snr_db, snr_ref_range, range_)))
