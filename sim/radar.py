"""Radar measurements: range, azimuth, range-rate, amplitude; Swerling I targets and clutter.

Power model (noise power = 1): a target at range r has mean SNR  snr(r) = 10^(snr_db/10) *
(snr_ref_range / r)^4; its received power, signal plus noise through a square-law detector with a
Swerling I (exponential) fluctuation from frame to frame, is exponential with mean 1 + snr(r).
Clutter power is exponential (Rayleigh amplitude) with mean 1 + 10^(clutter_cnr_db/10). The
reported amplitude is 10 log10(power) dB. See :class:`sim.config.RadarConfig` for the Pd models.
"""

from __future__ import annotations

import numpy as np

from common.geometry import db_to_power, snr_detection_probability
from common.geometry import mean_snr as common_mean_snr
from sim.clutter import clutter_spots
from sim.config import RadarConfig
from sim.detections import Detections
from sim.geometry import add_polar_noise, in_view, to_polar
from sim.motion import Truth


def mean_snr(sensor: RadarConfig, range_: np.ndarray) -> np.ndarray:
    """Mean target SNR (power ratio, not dB) at range (N,) m: falls with range^4."""
    return common_mean_snr(sensor.snr_db, sensor.snr_ref_range, range_)


def detection_probability(sensor: RadarConfig, range_: np.ndarray) -> np.ndarray:
    """Pd (N,) of a target in view at range (N,) m under the sensor's Pd model."""
    if sensor.pd_model == "snr":
        return snr_detection_probability(sensor.snr_db, sensor.snr_ref_range,
                                         sensor.threshold_db, range_)
    return np.full(np.shape(range_), sensor.detection_prob)


def radial_velocity(sensor: RadarConfig, state: np.ndarray) -> np.ndarray:
    """True range-rate (N,) m/s of states (N, 4): positive when moving away from the sensor."""
    offset = state[:, :2] - np.asarray(sensor.position)
    distance = np.maximum(np.hypot(offset[:, 0], offset[:, 1]), 1e-9)
    return np.einsum("ij,ij->i", offset, state[:, 2:]) / distance


def _target_detections(
    sensor: RadarConfig, index: int, truth: Truth, rng: np.random.Generator
) -> Detections:
    range_, azimuth = to_polar(sensor, truth.state[:, :2])
    rows = np.flatnonzero(in_view(sensor, range_, azimuth))
    power = rng.exponential(1.0 + mean_snr(sensor, range_[rows]))
    if sensor.pd_model == "snr":
        detected = power > db_to_power(sensor.threshold_db)
    else:
        detected = rng.random(len(rows)) < sensor.detection_prob
    rows, power = rows[detected], power[detected]
    measured_range, measured_azimuth = add_polar_noise(sensor, range_[rows], azimuth[rows], rng)
    range_rate = radial_velocity(sensor, np.take(truth.state, rows, axis=0)) + rng.normal(
        0.0, sensor.range_rate_std, len(rows)
    )
    return Detections.measured(
        sensor,
        index,
        truth.frame[rows],
        truth.id[rows],
        measured_range,
        measured_azimuth,
        range_rate,
        10.0 * np.log10(power),
    )


def _clutter_detections(
    sensor: RadarConfig, index: int, frames: int, dt: float, rng: np.random.Generator
) -> Detections:
    frame, range_, azimuth = clutter_spots(sensor, frames, dt, rng)
    count = len(frame)
    range_rate = rng.uniform(-sensor.max_range_rate, sensor.max_range_rate, count)
    power = rng.exponential(1.0 + db_to_power(sensor.clutter_cnr_db), count)
    if sensor.pd_model == "snr":
        power += db_to_power(sensor.threshold_db)  # exponential tail above the threshold
    return Detections.measured(
        sensor,
        index,
        frame,
        np.full(count, -1),
        range_,
        azimuth,
        range_rate,
        10.0 * np.log10(power),
    )


def observe(
    sensor: RadarConfig, index: int, truth: Truth, frames: int, dt: float,
    rng: np.random.Generator,
) -> Detections:
    """All detections (targets and clutter, unsorted) of radar number ``index`` over the scene
    of ``frames`` frames ``dt`` s apart."""
    return Detections.concatenate(
        [
            _target_detections(sensor, index, truth, rng),
            _clutter_detections(sensor, index, frames, dt, rng),
        ]
    )
