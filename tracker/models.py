"""Motion models for 2-D tracking; the one place that knows the layout of a track's state.

A :class:`StateSpace` names the components of the state vector (``("x", "y", "vx", "vy")``, m
and m/s, for constant velocity; ``omega`` rad/s appended for the coordinated turn) and answers
where the position and the velocity are (``position(states) -> (T, 2)``, ``velocity``, their
covariance blocks, the position measurement matrix H). Everything outside this module reads
states through it.

A :class:`MotionModel` owns a state space and predicts: ``predict(states, covariances, dt)``
for T tracks at once, so that nonlinear models (EKF-linearised) fit the same call; and builds the
state of a new track from a measured position and a velocity guess (``initial_state``).

- :class:`ConstantVelocity` (``"cv"``): linear, F and Q filterpy's continuous white-noise
  acceleration model (``Q_continuous_white_noise``, the one Stone Soup calls
  ``ConstantVelocity``; the same arithmetic, so bit for bit, without importing filterpy, whose
  import pulls scipy.stats), with ``noise_diff_coeff`` q in m^2/s^3.
- :class:`CoordinatedTurn` (``"ct"``): state ``[x, y, vx, vy, omega]``, the turn rate omega
  estimated per track; the exact turn of the mean and an EKF (Jacobian) covariance predict.

A tracker may use several models at once, one per track (:class:`MotionModels`: a tuple of
models whose state spaces are prefixes of the widest one, the tracker's state space; each track
carries the index of its model and the predict groups tracks by model). An IMM would add, per
track, a probability of each model and the mixing / model-probability update around the
per-model predict and update (the per-model predict is :meth:`MotionModels.predict` on the
track's copies, one per model); it is not built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from tracker.filtering import predict as linear_predict


def _pair_slice(components: tuple[str, ...], first: str, second: str) -> slice:
    """The slice of the adjacent components ``first``, ``second``; ValueError if they are not."""
    if first not in components or components[components.index(first) + 1:][:1] != (second,):
        raise ValueError(f"a state space needs adjacent components {first!r}, {second!r}, "
                         f"got {components}")
    start = components.index(first)
    return slice(start, start + 2)


@dataclass(frozen=True)
class StateSpace:
    """The named components of a state vector, in order (metres, m/s, rad/s).

    Attributes:
        components: component names; ``x``, ``y`` (position, m) and ``vx``, ``vy`` (velocity,
            m/s) must each be adjacent.
    """

    components: tuple[str, ...]
    position_slice: slice = field(init=False, repr=False, compare=False)
    """Where ``x, y`` are in a state vector."""
    velocity_slice: slice = field(init=False, repr=False, compare=False)
    """Where ``vx, vy`` are in a state vector."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "position_slice", _pair_slice(self.components, "x", "y"))
        object.__setattr__(self, "velocity_slice", _pair_slice(self.components, "vx", "vy"))

    @property
    def dim(self) -> int:
        """n, the number of state components."""
        return len(self.components)

    def position(self, states: np.ndarray) -> np.ndarray:
        """(..., 2) positions m of states (..., n) (a view)."""
        return states[..., self.position_slice]

    def velocity(self, states: np.ndarray) -> np.ndarray:
        """(..., 2) velocities m/s of states (..., n) (a view)."""
        return states[..., self.velocity_slice]

    def position_covariance(self, covariances: np.ndarray) -> np.ndarray:
        """(..., 2, 2) position blocks m^2 of state covariances (..., n, n) (a view)."""
        return covariances[..., self.position_slice, self.position_slice]

    def velocity_covariance(self, covariances: np.ndarray) -> np.ndarray:
        """(..., 2, 2) velocity blocks m^2/s^2 of state covariances (..., n, n) (a view)."""
        return covariances[..., self.velocity_slice, self.velocity_slice]

    @property
    def measurement_matrix(self) -> np.ndarray:
        """H (2, n): a position measurement of this state."""
        matrix = np.zeros((2, self.dim))
        matrix[:, self.position_slice] = np.eye(2)
        return matrix

    def extends(self, other: StateSpace) -> bool:
        """Whether ``other``'s components are the first of this space's."""
        return self.components[:other.dim] == other.components

    def empty(self, count: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Zero states (count, n) and covariances (count, n, n)."""
        return np.zeros((count, self.dim)), np.zeros((count, self.dim, self.dim))

    def compose(self, positions: np.ndarray, velocities: np.ndarray,
                position_covariances: np.ndarray, velocity_covariances: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        """States (K, n) and covariances (K, n, n) with the given positions (K, 2), velocities
        (K, 2) and their covariances (K, 2, 2) (uncorrelated); every other component 0."""
        states, covariances = self.empty(positions.shape[0])
        self.position(states)[...] = positions
        self.velocity(states)[...] = velocities
        self.position_covariance(covariances)[...] = position_covariances
        self.velocity_covariance(covariances)[...] = velocity_covariances
        return states, covariances


CV_SPACE = StateSpace(("x", "y", "vx", "vy"))
"""``[x, y, vx, vy]`` m, m/s: the constant-velocity state (and the tracks files' columns)."""
CT_SPACE = StateSpace(("x", "y", "vx", "vy", "omega"))
"""``[x, y, vx, vy, omega]`` m, m/s, rad/s (counter-clockwise positive): the coordinated turn."""


class MotionModel(Protocol):
    """A motion model of a state space: batched predict and the state of a new track."""

    name: str
    space: StateSpace

    def predict(self, states: np.ndarray, covariances: np.ndarray, dt: float
                ) -> tuple[np.ndarray, np.ndarray]:
        """Predict T tracks by ``dt`` seconds.

        Args:
            states: (T, n) means, n >= ``space.dim``, the model's components first (components
                beyond them stay as they are, with identity transition and no noise).
            covariances: (T, n, n).
        Returns:
            ``(states, covariances)`` of the prediction, shapes as given.
        """
        ...

    def initial_state(self, positions: np.ndarray, velocities: np.ndarray,
                      position_covariances: np.ndarray, velocity_covariances: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
        """States (K, dim) and covariances (K, dim, dim) of K new tracks at measured positions
        (K, 2) m with velocity guesses (K, 2) m/s and their covariances (K, 2, 2)."""
        ...


def embedded(block: np.ndarray, dim: int, identity: bool) -> np.ndarray:
    """``block`` (..., d, d) as the leading block of (..., dim, dim) matrices whose other
    diagonal entries are 1 (``identity``) or 0; ``block`` itself when d == dim."""
    size = block.shape[-1]
    if size == dim:
        return block
    matrix = np.zeros(block.shape[:-2] + (dim, dim))
    if identity:
        matrix[..., range(size, dim), range(size, dim)] = 1.0
    matrix[..., :size, :size] = block
    return matrix


def white_noise_acceleration(dt: float, noise_diff_coeff: float) -> np.ndarray:
    """Q (4, 4) of a continuous white-noise acceleration with spectral density q (m^2/s^3).

    Per axis ``q [[dt^3/3, dt^2/2], [dt^2/2, dt]]``, ordered ``[x, y, vx, vy]`` (filterpy's
    ``Q_continuous_white_noise(2, dt, q, block_size=2, order_by_dim=False)``).
    """
    per_axis = np.array([[(dt**3) / 3.0, (dt**2) / 2.0], [(dt**2) / 2.0, dt]])
    return np.kron(per_axis, np.eye(2)) * noise_diff_coeff


@dataclass(frozen=True)
class ConstantVelocity:
    """Nearly-constant velocity: straight lines, accelerations as white noise; linear, so it
    also gives F and Q (``transition``, ``process_noise``).

    Attributes:
        noise_diff_coeff: q in m^2/s^3; the velocity random-walk variance grows by q per second.
    """

    noise_diff_coeff: float = 1.0
    name = "cv"
    space = CV_SPACE

    def transition(self, dt: float) -> np.ndarray:
        """F (4, 4): ``x += vx dt``, ``y += vy dt``."""
        transition = np.eye(4)
        transition[0, 2] = transition[1, 3] = dt
        return transition

    def process_noise(self, dt: float) -> np.ndarray:
        """Q (4, 4), the white-noise acceleration model."""
        return white_noise_acceleration(dt, self.noise_diff_coeff)

    def predict(self, states: np.ndarray, covariances: np.ndarray, dt: float
                ) -> tuple[np.ndarray, np.ndarray]:
        """See :class:`MotionModel`: the Kalman predict with F and Q."""
        dim = states.shape[1]
        return linear_predict(states, covariances, embedded(self.transition(dt), dim, True),
                              embedded(self.process_noise(dt), dim, False))

    def initial_state(self, positions: np.ndarray, velocities: np.ndarray,
                      position_covariances: np.ndarray, velocity_covariances: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
        """See :class:`MotionModel`."""
        return self.space.compose(positions, velocities, position_covariances,
                                  velocity_covariances)


_SMALL_TURN = 1e-4
"""rad: below this turn per step the turn functions use their Taylor series."""


def _turn_functions(omega: np.ndarray, dt: float) -> tuple[np.ndarray, ...]:
    """For turn rates omega (T,) rad/s over ``dt`` s, with theta = omega dt: ``a = sin(theta) /
    omega``, ``b = (1 - cos(theta)) / omega``, ``sin(theta)``, ``cos(theta)`` and the
    derivatives ``da/domega``, ``db/domega``; all (T,), exact (series) at omega = 0."""
    theta = omega * dt
    sin, cos = np.sin(theta), np.cos(theta)
    a = dt * np.sinc(theta / np.pi)
    b = 0.5 * omega * dt**2 * np.sinc(theta / (2.0 * np.pi)) ** 2
    small = np.abs(theta) < _SMALL_TURN
    safe = np.where(small, 1.0, theta)
    da = np.where(small, -omega * dt**3 / 3.0, dt**2 * (safe * cos - sin) / safe**2)
    db = np.where(small, dt**2 * (0.5 - theta**2 / 8.0),
                  dt**2 * (safe * sin - (1.0 - cos)) / safe**2)
    return a, b, sin, cos, da, db


@dataclass(frozen=True)
class CoordinatedTurn:
    """Coordinated turn with an estimated turn rate: state ``[x, y, vx, vy, omega]``.

    The velocity turns by ``omega dt`` at constant speed and the position follows the arc
    (exact for the mean; omega = 0 is a straight line); the covariance is predicted with the
    Jacobian of that map at the mean (EKF). Q: the white-noise acceleration Q on
    ``[x, y, vx, vy]`` and a random walk of omega, ``turn_rate_noise * dt``.

    Attributes:
        noise_diff_coeff: q in m^2/s^3, as :class:`ConstantVelocity`.
        turn_rate_noise: rad^2/s^3, spectral density of the turn rate's random walk.
        turn_rate_std: rad/s, std of a new track's turn rate (its mean is 0).
    """

    noise_diff_coeff: float = 1.0
    turn_rate_noise: float = 1e-4
    turn_rate_std: float = 0.1
    name = "ct"
    space = CT_SPACE

    def __post_init__(self) -> None:
        if not (self.turn_rate_noise >= 0 and self.turn_rate_std >= 0):
            raise ValueError("turn_rate_noise and turn_rate_std must be >= 0")

    def transition_jacobian(self, states: np.ndarray, dt: float
                            ) -> tuple[np.ndarray, np.ndarray]:
        """The predicted means (T, 5) of states (T, 5) and the Jacobians (T, 5, 5) there."""
        vx, vy, omega = states[:, 2], states[:, 3], states[:, 4]
        a, b, sin, cos, da, db = _turn_functions(omega, dt)
        predicted = np.stack([states[:, 0] + a * vx - b * vy, states[:, 1] + b * vx + a * vy,
                              cos * vx - sin * vy, sin * vx + cos * vy, omega], axis=1)
        jacobian = np.zeros((states.shape[0], 5, 5))
        jacobian[:, 0, 0] = jacobian[:, 1, 1] = jacobian[:, 4, 4] = 1.0
        jacobian[:, 0, 2], jacobian[:, 0, 3], jacobian[:, 0, 4] = a, -b, da * vx - db * vy
        jacobian[:, 1, 2], jacobian[:, 1, 3], jacobian[:, 1, 4] = b, a, db * vx + da * vy
        jacobian[:, 2, 2], jacobian[:, 2, 3] = cos, -sin
        jacobian[:, 3, 2], jacobian[:, 3, 3] = sin, cos
        jacobian[:, 2, 4] = -dt * (sin * vx + cos * vy)
        jacobian[:, 3, 4] = dt * (cos * vx - sin * vy)
        return predicted, jacobian

    def process_noise(self, dt: float) -> np.ndarray:
        """Q (5, 5): white-noise acceleration, and ``turn_rate_noise * dt`` on omega."""
        noise = np.zeros((5, 5))
        noise[:4, :4] = white_noise_acceleration(dt, self.noise_diff_coeff)
        noise[4, 4] = self.turn_rate_noise * dt
        return noise

    def predict(self, states: np.ndarray, covariances: np.ndarray, dt: float
                ) -> tuple[np.ndarray, np.ndarray]:
        """See :class:`MotionModel`: exact mean, EKF covariance."""
        dim = states.shape[1]
        predicted, jacobian = self.transition_jacobian(states[:, :5], dt)
        jacobian = embedded(jacobian, dim, True)
        states = states.copy()
        states[:, :5] = predicted
        return states, (jacobian @ covariances @ jacobian.transpose(0, 2, 1)
                        + embedded(self.process_noise(dt), dim, False))

    def initial_state(self, positions: np.ndarray, velocities: np.ndarray,
                      position_covariances: np.ndarray, velocity_covariances: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
        """See :class:`MotionModel`; the turn rate starts at 0 with std ``turn_rate_std``."""
        states, covariances = self.space.compose(positions, velocities, position_covariances,
                                                 velocity_covariances)
        covariances[:, 4, 4] = self.turn_rate_std**2
        return states, covariances


@dataclass(frozen=True)
class MotionModels:
    """The motion models of one tracker, one per track (track i uses ``models[model[i]]``);
    new tracks start with ``models[0]``.

    The tracker's state space is the widest model's (:attr:`space`); every model's space must
    be a prefix of it, and a track of a narrower model leaves the extra components as they are.

    Raises:
        ValueError: no models, or spaces that do not nest.
    """

    models: tuple[MotionModel, ...]

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("a tracker needs at least one motion model")
        if not all(self.space.extends(model.space) for model in self.models):
            raise ValueError("the motion models' state spaces must be prefixes of one another: "
                             + ", ".join(str(model.space.components) for model in self.models))

    @property
    def space(self) -> StateSpace:
        """The tracker's state space: the widest model's."""
        return max((model.space for model in self.models), key=lambda space: space.dim)

    def predict(self, states: np.ndarray, covariances: np.ndarray, model: np.ndarray,
                dt: float) -> tuple[np.ndarray, np.ndarray]:
        """Predict T tracks (states (T, n), covariances (T, n, n)) by ``dt`` s, each with its
        model (``model`` (T,) int indices into ``models``), one batched call per model."""
        if np.all(model == 0):
            return self.models[0].predict(states, covariances, dt)
        states, covariances = states.copy(), covariances.copy()
        for index, motion_model in enumerate(self.models):
            rows = np.flatnonzero(model == index)
            if rows.size:
                states[rows], covariances[rows] = motion_model.predict(
                    states[rows], covariances[rows], dt)
        return states, covariances

    def initial_state(self, positions: np.ndarray, velocities: np.ndarray,
                      position_covariances: np.ndarray, velocity_covariances: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
        """New tracks' states (K, n) and covariances (K, n, n) in the tracker's space, by the
        first model (arguments as :meth:`MotionModel.initial_state`)."""
        states, covariances = self.models[0].initial_state(
            positions, velocities, position_covariances, velocity_covariances)
        if states.shape[1] == self.space.dim:
            return states, covariances
        full_states, full_covariances = self.space.empty(states.shape[0])
        size = states.shape[1]
        full_states[:, :size], full_covariances[:, :size, :size] = states, covariances
        return full_states, full_covariances


MOTION_MODELS = ("cv", "ct")


def build_motion_model(name: str, noise_diff_coeff: float, turn_rate_noise: float = 1e-4,
                       turn_rate_std: float = 0.1) -> MotionModel:
    """The motion model called ``name`` (one of :data:`MOTION_MODELS`); the turn-rate settings
    are for ``"ct"``.

    Raises:
        ValueError: unknown name or bad settings.
    """
    if name == "cv":
        return ConstantVelocity(noise_diff_coeff)
    if name == "ct":
        return CoordinatedTurn(noise_diff_coeff, turn_rate_noise, turn_rate_std)
    raise ValueError(f"unknown motion model {name!r}; choose one of {', '.join(MOTION_MODELS)}")
