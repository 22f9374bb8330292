"""Motion models for 2-D tracking: the state transition F and process noise Q for a time step.

The state is ``[x, y, vx, vy]`` (m, m/s). Both models are linear for a given time step, so one
Kalman filter serves them; Q is filterpy's continuous white-noise-acceleration model
(``Q_continuous_white_noise``, the one Stone Soup calls ``ConstantVelocity``; the same arithmetic,
so bit for bit, without importing filterpy, whose import pulls scipy.stats), with
``noise_diff_coeff`` q in m^2/s^3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

MEASUREMENT_MATRIX = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
"""H (2, 4): a position measurement of the state ``[x, y, vx, vy]``."""


class MotionModel(Protocol):
    """A linear-Gaussian motion model: ``x_k = F(dt) x_{k-1} + w``, ``w ~ N(0, Q(dt))``."""

    def transition(self, dt: float) -> np.ndarray:
        """F (4, 4) for a step of ``dt`` seconds."""
        ...

    def process_noise(self, dt: float) -> np.ndarray:
        """Q (4, 4) for a step of ``dt`` seconds."""
        ...


def white_noise_acceleration(dt: float, noise_diff_coeff: float) -> np.ndarray:
    """Q (4, 4) of a continuous white-noise acceleration with spectral density q (m^2/s^3).

    Per axis ``q [[dt^3/3, dt^2/2], [dt^2/2, dt]]``, ordered ``[x, y, vx, vy]`` (filterpy's
    ``Q_continuous_white_noise(2, dt, q, block_size=2, order_by_dim=False)``).
    """
    per_axis = np.array([[(dt**3) / 3.0, (dt**2) / 2.0], [(dt**2) / 2.0, dt]])
    return np.kron(per_axis, np.eye(2)) * noise_diff_coeff


@dataclass(frozen=True)
class ConstantVelocity:
    """Nearly-constant velocity: straight lines, accelerations as white noise.

    Attributes:
        noise_diff_coeff: q in m^2/s^3; the velocity random-walk variance grows by q per second.
    """

    noise_diff_coeff: float = 1.0

    def transition(self, dt: float) -> np.ndarray:
        """F (4, 4): ``x += vx dt``, ``y += vy dt``."""
        transition = np.eye(4)
        transition[0, 2] = transition[1, 3] = dt
        return transition

    def process_noise(self, dt: float) -> np.ndarray:
        """Q (4, 4), the white-noise acceleration model."""
        return white_noise_acceleration(dt, self.noise_diff_coeff)


@dataclass(frozen=True)
class CoordinatedTurn:
    """Coordinated turn at a known, constant turn rate (Stone Soup's ``KnownTurnRate``).

    The velocity vector turns by ``turn_rate * dt`` each step at constant speed; with
    ``turn_rate == 0`` it is :class:`ConstantVelocity`. Q is the white-noise acceleration Q
    (the usual approximation for small turns per step).

    Attributes:
        turn_rate: omega in rad/s, positive counter-clockwise.
        noise_diff_coeff: q in m^2/s^3.
    """

    turn_rate: float = 0.0
    noise_diff_coeff: float = 1.0

    def transition(self, dt: float) -> np.ndarray:
        """F (4, 4) of a turn by ``turn_rate * dt`` radians."""
        angle = self.turn_rate * dt
        if abs(angle) < 1e-9:
            return ConstantVelocity(self.noise_diff_coeff).transition(dt)
        sin, cos = np.sin(angle), np.cos(angle)
        rate = self.turn_rate
        return np.array([
            [1.0, 0.0, sin / rate, -(1.0 - cos) / rate],
            [0.0, 1.0, (1.0 - cos) / rate, sin / rate],
            [0.0, 0.0, cos, -sin],
            [0.0, 0.0, sin, cos],
        ])

    def process_noise(self, dt: float) -> np.ndarray:
        """Q (4, 4), the white-noise acceleration model."""
        return white_noise_acceleration(dt, self.noise_diff_coeff)


def build_motion_model(name: str, noise_diff_coeff: float, turn_rate: float = 0.0) -> MotionModel:
    """The motion model called ``name`` (``"cv"`` or ``"ct"``).

    Raises:
        ValueError: unknown name.
    """
    if name == "cv":
        return ConstantVelocity(noise_diff_coeff)
    if name == "ct":
        return CoordinatedTurn(turn_rate, noise_diff_coeff)
    raise ValueError(f"unknown motion model {name!r}; choose 'cv' or 'ct'")
