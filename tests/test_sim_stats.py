"""Confidence-bound checks used by the simulator's statistics tests, and tests that they can fail.

Each check allows 5 standard errors: a correct simulator passes with probability > 0.99999 per
check (and the seeds are fixed, so runs repeat), while a 5-10% error in a rate or a noise level
over the tens of thousands of samples used is far outside the bound.
"""

from __future__ import annotations

import numpy as np
import pytest

SIGMAS = 5.0


def assert_poisson(counts: np.ndarray, rate: float) -> None:
    """Counts (n,) look Poisson(rate): the mean within 5 standard errors of rate, and the
    dispersion var/mean within 5 standard errors of 1 (se of s^2 is sqrt((l + 2 l^2) / n))."""
    counts = np.asarray(counts, dtype=float)
    n = len(counts)
    assert abs(counts.mean() - rate) < SIGMAS * np.sqrt(rate / n), (counts.mean(), rate)
    dispersion_se = np.sqrt((rate + 2 * rate**2) / n) / rate
    assert abs(counts.var(ddof=1) / rate - 1) < SIGMAS * dispersion_se, (counts.var(), rate)


def assert_count(observed: float, mean: float, variance: float) -> None:
    """A sum of independent trials: observed within 5 standard deviations of its mean."""
    assert abs(observed - mean) < SIGMAS * np.sqrt(variance), (observed, mean, np.sqrt(variance))


def assert_fraction(successes: int, trials: int, probability: float) -> None:
    """Binomial: successes / trials within 5 standard errors of probability."""
    variance = trials * probability * (1 - probability)
    assert_count(successes, trials * probability, variance)


def assert_gaussian_noise(residuals: np.ndarray, std: float) -> None:
    """Residuals (n,) look N(0, std^2): mean within 5 se, sample std within 5 se (std/sqrt(2n))."""
    residuals = np.asarray(residuals, dtype=float)
    n = len(residuals)
    assert abs(residuals.mean()) < SIGMAS * std / np.sqrt(n), (residuals.mean(), std)
    assert abs(residuals.std(ddof=1) - std) < SIGMAS * std / np.sqrt(2 * n), (residuals.std(), std)


def test_checks_accept_the_true_distributions():
    rng = np.random.default_rng(0)
    assert_poisson(rng.poisson(4.0, 5000), 4.0)
    assert_fraction(int((rng.random(10000) < 0.3).sum()), 10000, 0.3)
    assert_gaussian_noise(rng.normal(0, 2.0, 10000), 2.0)


@pytest.mark.parametrize(
    "counts",
    [
        np.random.default_rng(1).poisson(4.2, 5000),  # rate 5% high
        np.random.default_rng(2).negative_binomial(4, 0.5, 5000),  # mean 4, over-dispersed
        np.random.default_rng(3).binomial(8, 0.5, 5000),  # mean 4, under-dispersed
    ],
)
def test_poisson_check_rejects_wrong_rate_or_dispersion(counts):
    with pytest.raises(AssertionError):
        assert_poisson(counts, 4.0)


@pytest.mark.parametrize(
    "residuals",
    [
        np.random.default_rng(4).normal(0, 2.1, 10000),  # std 5% high
        np.random.default_rng(5).normal(0.2, 2.0, 10000),  # biased
    ],
)
def test_noise_check_rejects_wrong_std_or_bias(residuals):
    with pytest.raises(AssertionError):
        assert_gaussian_noise(residuals, 2.0)


def test_fraction_check_rejects_a_wrong_probability():
    with pytest.raises(AssertionError):
        assert_fraction(int((np.random.default_rng(6).random(20000) < 0.33).sum()), 20000, 0.3)
