"""Motion models and the batched Kalman filter: exact values, agreement with filterpy, NEES."""

import numpy as np
import pytest
from filterpy.kalman import predict as filterpy_predict
from filterpy.kalman import update as filterpy_update
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chi2

from tracker.filtering import predict, update
from tracker.models import CV_SPACE, ConstantVelocity, CoordinatedTurn, build_motion_model

MEASUREMENT_MATRIX = CV_SPACE.measurement_matrix


def test_constant_velocity_matrices_are_the_white_noise_acceleration_model():
    model = ConstantVelocity(noise_diff_coeff=2.0)
    expected_f = np.array([[1, 0, 3, 0], [0, 1, 0, 3], [0, 0, 1, 0], [0, 0, 0, 1]], float)
    np.testing.assert_array_equal(model.transition(3.0), expected_f)
    q = model.process_noise(3.0)
    np.testing.assert_allclose(q[0, 0], 2.0 * 27 / 3)
    np.testing.assert_allclose(q[0, 2], 2.0 * 9 / 2)
    np.testing.assert_allclose(q[2, 2], 2.0 * 3)
    assert q[0, 1] == q[0, 3] == q[2, 3] == 0.0


def test_unknown_motion_model_is_refused():
    with pytest.raises(ValueError, match="unknown motion model"):
        build_motion_model("imm", 1.0)


def _random_gaussians(rng, count):
    states = rng.normal(0, 10, (count, 4))
    roots = rng.normal(size=(count, 4, 4))
    return states, roots @ roots.transpose(0, 2, 1) + np.eye(4)


@given(seed=st.integers(0, 2**31), count=st.integers(1, 6), dt=st.floats(0.05, 5.0))
def test_batched_predict_and_update_equal_filterpy_track_by_track(seed, count, dt):
    rng = np.random.default_rng(seed)
    states, covariances = _random_gaussians(rng, count)
    # F: a turn by 0.1 rad/s at known rate (the coordinated turn's Jacobian in x, y, vx, vy)
    f = CoordinatedTurn().transition_jacobian(np.array([[0, 0, 0, 0, 0.1]]), dt)[1][0, :4, :4]
    q = ConstantVelocity(0.7).process_noise(dt)
    predicted, predicted_cov = predict(states, covariances, f, q)
    measurements = rng.normal(0, 10, (count, 2))
    noise_roots = rng.normal(size=(count, 2, 2))
    noise = noise_roots @ noise_roots.transpose(0, 2, 1) + np.eye(2)
    result = update(predicted, predicted_cov, measurements, noise, MEASUREMENT_MATRIX)
    for i in range(count):
        x, p = filterpy_predict(states[i], covariances[i], f, q)
        np.testing.assert_allclose(predicted[i], x, atol=1e-9)
        np.testing.assert_allclose(predicted_cov[i], p, atol=1e-9)
        x, p, y, _, s, _ = filterpy_update(x, p, measurements[i], noise[i], MEASUREMENT_MATRIX,
                                           return_all=True)
        np.testing.assert_allclose(result.states[i], x, atol=1e-8)
        np.testing.assert_allclose(result.covariances[i], p, atol=1e-8)
        np.testing.assert_allclose(result.innovations[i], y, atol=1e-9)
        np.testing.assert_allclose(result.innovation_covariances[i], s, atol=1e-9)


def _monte_carlo_consistency(filter_q: float, runs: int = 200, steps: int = 50):
    """Mean NEES and NIS per step of a CV filter with process noise ``filter_q`` tracking
    simulated CV targets whose true process noise is q = 0.5, position noise 5 m."""
    rng = np.random.default_rng(7)
    dt, sigma = 1.0, 5.0
    f = ConstantVelocity().transition(dt)
    true_noise_root = np.linalg.cholesky(ConstantVelocity(0.5).process_noise(dt))
    filter_noise = ConstantVelocity(filter_q).process_noise(dt)
    truth = np.tile([0.0, 0.0, 10.0, -5.0], (runs, 1))
    initial_cov = np.diag([sigma**2, sigma**2, 100.0, 100.0])
    states = truth + rng.normal(size=(runs, 4)) @ np.linalg.cholesky(initial_cov).T
    covariances = np.tile(initial_cov, (runs, 1, 1))
    r = np.tile(np.eye(2) * sigma**2, (runs, 1, 1))
    nees, nis = [], []
    for _ in range(steps):
        truth = truth @ f.T + rng.normal(size=(runs, 4)) @ true_noise_root.T
        states, covariances = predict(states, covariances, f, filter_noise)
        measured = truth[:, :2] + rng.normal(0, sigma, (runs, 2))
        result = update(states, covariances, measured, r, MEASUREMENT_MATRIX)
        states, covariances = result.states, result.covariances
        error = truth - states
        solved = np.linalg.solve(covariances, error[..., None])[..., 0]
        nees.append(np.einsum("ki,ki->k", error, solved).mean())
        nis.append(result.normalised_innovation_squared().mean())
    return np.array(nees), np.array(nis)


def _fraction_inside(values: np.ndarray, dof: int, runs: int = 200) -> float:
    """Fraction of steps whose run-averaged statistic lies in its 99% chi-square interval
    (runs x the mean of a chi-square(dof) statistic is chi-square(dof x runs))."""
    low, high = chi2.ppf([0.005, 0.995], dof * runs) / runs
    return float(((values > low) & (values < high)).mean())


def test_nees_and_nis_of_cv_filter_lie_within_chi_square_bounds():
    nees, nis = _monte_carlo_consistency(filter_q=0.5)
    assert _fraction_inside(nees, 4) >= 0.95, np.round(nees, 2)
    assert _fraction_inside(nis, 2) >= 0.95, np.round(nis, 2)


def test_consistency_check_catches_a_filter_with_too_little_process_noise():
    nees, _ = _monte_carlo_consistency(filter_q=0.005)
    assert _fraction_inside(nees, 4) < 0.5
