"""Radar statistics over many frames: clutter, Pd, measurement noise, Swerling I amplitudes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from test_sim_stats import assert_count, assert_fraction, assert_gaussian_noise, assert_poisson

import sim
from sim.config import MotionConfig, RadarConfig, ScenarioConfig
from sim.geometry import in_view, to_polar, wrap_angle
from sim.presets import get_preset
from sim.radar import db_to_power, detection_probability


def expected_snr(radar: RadarConfig, range_: np.ndarray) -> np.ndarray:
    """The radar equation, written independently of sim.radar: SNR ~ range^-4."""
    return 10 ** (radar.snr_db / 10) * (radar.snr_ref_range / range_) ** 4


NO_TARGETS = MotionConfig(initial_targets=0, birth_rate=0.0)
RADAR = RadarConfig(
    position=(100.0, -50.0), orientation=0.3, azimuth_span=math.pi / 2, min_range=200.0,
    max_range=3000.0, range_std=8.0, azimuth_std=0.004, range_rate_std=0.6, detection_prob=0.8,
    clutter_rate=0.0,
)  # fmt: skip
TARGETS = MotionConfig(
    initial_targets=300, birth_rate=0.0, survival_prob=1.0, birth_region=(-3000, 3000, -3000, 3000)
)


def scene(radar: RadarConfig, motion: MotionConfig = TARGETS, frames: int = 30, seed: int = 0):
    config = ScenarioConfig(frames=frames, motion=motion, sensors=(radar,))
    return sim.generate(config, seed)


def truth_rows_of_detections(scenario: sim.Scenario) -> np.ndarray:
    """For each target detection, the index of its (frame, target) truth row."""
    stride = int(scenario.truth_id.max()) + 1
    truth_key = scenario.truth_frame.astype(np.int64) * stride + scenario.truth_id
    is_target = scenario.det_target >= 0
    det_key = (
        scenario.det_frame[is_target].astype(np.int64) * stride + scenario.det_target[is_target]
    )
    rows = np.searchsorted(truth_key, det_key)
    assert np.array_equal(truth_key[rows], det_key), "a detection names a target not alive then"
    return rows


def test_clutter_is_poisson_uniform_in_polar_and_weaker_than_targets():
    radar = RadarConfig(**{**RADAR.__dict__, "clutter_rate": 6.0, "max_range_rate": 25.0})
    scenario = scene(radar, NO_TARGETS, frames=3000)
    assert np.all(scenario.det_target == -1)
    assert_poisson(np.bincount(scenario.det_frame, minlength=3000), 6.0)
    assert stats.kstest(scenario.det_range, "uniform", args=(200.0, 2800.0)).pvalue > 1e-4
    half = math.pi / 4
    assert stats.kstest(scenario.det_azimuth, "uniform", args=(-half, 2 * half)).pvalue > 1e-4
    assert stats.kstest(scenario.det_range_rate, "uniform", args=(-25.0, 50.0)).pvalue > 1e-4
    power = db_to_power(scenario.det_amplitude.astype(float))  # Rayleigh amplitude: exponential
    mean = 1 + db_to_power(radar.clutter_cnr_db)
    assert_count(power.sum(), len(power) * mean, len(power) * mean**2)


def test_detection_fraction_is_pd_inside_the_view_and_zero_outside():
    scenario = scene(RADAR)
    range_, azimuth = to_polar(RADAR, scenario.truth_state[:, :2])
    visible = in_view(RADAR, range_, azimuth)
    detected = np.zeros(len(visible), int)
    np.add.at(detected, truth_rows_of_detections(scenario), 1)
    assert detected.max() == 1 and not detected[~visible].any()
    assert visible.sum() > 1000 and (~visible).sum() > 1000
    assert_fraction(int(detected[visible].sum()), int(visible.sum()), 0.8)


def test_measurement_residuals_have_the_configured_noise_per_coordinate():
    scenario = scene(RADAR, frames=60)
    rows = truth_rows_of_detections(scenario)
    true_state = scenario.truth_state[rows]
    offset = true_state[:, :2] - np.array(RADAR.position)
    true_range = np.hypot(offset[:, 0], offset[:, 1])
    true_azimuth = np.arctan2(offset[:, 1], offset[:, 0]) - RADAR.orientation
    true_range_rate = np.sum(offset * true_state[:, 2:], axis=1) / true_range
    assert_gaussian_noise(scenario.det_range - true_range, 8.0)
    assert_gaussian_noise(wrap_angle(scenario.det_azimuth - true_azimuth), 0.004)
    assert_gaussian_noise(scenario.det_range_rate - true_range_rate, 0.6)
    bearing = scenario.det_azimuth.astype(float) + RADAR.orientation
    polar_xy = np.array(RADAR.position) + scenario.det_range[:, None] * np.stack(
        [np.cos(bearing), np.sin(bearing)], axis=1
    )
    np.testing.assert_allclose(scenario.det_xy, polar_xy, atol=0.01)


def test_target_power_is_swerling_one_around_a_mean_snr_falling_with_range_to_the_fourth():
    scenario = scene(RADAR, frames=60)
    rows = truth_rows_of_detections(scenario)
    true_range = np.hypot(*(scenario.truth_state[rows, :2] - np.array(RADAR.position)).T)
    normalised = db_to_power(scenario.det_amplitude.astype(float)) / (
        1 + expected_snr(RADAR, true_range)
    )
    for band in (true_range < 1200, true_range >= 1200):  # the r^4 law holds near and far
        assert_count(normalised[band].sum(), band.sum(), band.sum())  # Exp(1): mean 1, var 1
    n = len(normalised)
    assert abs(normalised.var() - 1) < 5 * np.sqrt(8 / n)  # exponential, not constant (Swerling 0)
    assert_fraction(int((normalised < math.log(2)).sum()), n, 0.5)  # median ln 2


def test_snr_pd_model_detects_above_the_threshold_with_the_swerling_one_probability():
    radar = RadarConfig(**{**RADAR.__dict__, "pd_model": "snr", "snr_db": 15.0,
                           "snr_ref_range": 1500.0, "clutter_rate": 5.0})  # fmt: skip
    scenario = scene(radar, frames=60)
    range_, azimuth = to_polar(radar, scenario.truth_state[:, :2])
    visible = in_view(radar, range_, azimuth)
    pd = np.exp(-db_to_power(radar.threshold_db) / (1 + expected_snr(radar, range_[visible])))
    assert pd.min() < 0.1 and pd.max() > 0.9  # the test spans the whole range of Pd
    np.testing.assert_allclose(detection_probability(radar, range_[visible]), pd, rtol=1e-12)
    np.testing.assert_array_equal(detection_probability(RADAR, range_[:5]), 0.8)
    detected = np.zeros(len(range_), bool)
    detected[truth_rows_of_detections(scenario)] = True
    near = range_[visible] < radar.snr_ref_range
    for band in (near, ~near):  # separately: errors in the range law would cancel in one sum
        seen = detected[visible][band].sum()
        assert_count(seen, pd[band].sum(), np.sum(pd[band] * (1 - pd[band])))
    assert scenario.det_amplitude.min() > radar.threshold_db


@pytest.mark.parametrize("name", ["default", "dense-clutter"])
def test_clutter_amplitudes_are_weaker_than_target_amplitudes(name):
    scenario = sim.generate(get_preset(name), 0)
    clutter = scenario.det_target < 0
    assert np.median(scenario.det_amplitude[clutter]) + 10 < np.median(
        scenario.det_amplitude[~clutter]
    )
