"""Target motion: constant-velocity and coordinated-turn targets, births, deaths, scripted patterns.

State of one target: [x, y, vx, vy] in m and m/s, world frame. Between frames (``dt`` s apart) a
target with turn rate w rad/s moves by the exact coordinated-turn transition (w = 0: constant
velocity), then piecewise-constant white acceleration a ~ N(0, accel_std^2) per axis is added as
position += a dt^2/2, velocity += a dt (the discrete white-noise-acceleration model of filterpy's
``Q_discrete_white_noise``). The loop runs over frames only; every step is vectorised over targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from sim.config import MotionConfig


@dataclass(frozen=True)
class Truth:
    """True target states, one row per (frame, target), sorted by frame then id.

    frame: (K,) int32, 0-based frame index. id: (K,) int32 target id >= 1.
    state: (K, 4) float64 [x, y, vx, vy] m, m/s.
    """

    frame: np.ndarray
    id: np.ndarray
    state: np.ndarray


@dataclass
class _Population:
    """The targets alive at one frame, with the per-target motion parameters.

    id (N,) int32; state (N, 4) float64; accel_std (N,) m/s^2; turn_rate (N,) rad/s;
    survival (N,) probability of surviving to the next frame.
    """

    id: np.ndarray
    state: np.ndarray
    accel_std: np.ndarray
    turn_rate: np.ndarray
    survival: np.ndarray

    @classmethod
    def empty(cls) -> _Population:
        return cls(np.empty(0, np.int32), np.empty((0, 4)), np.empty(0), np.empty(0), np.empty(0))

    def select(self, mask: np.ndarray) -> _Population:
        return _Population(*(getattr(self, f)[mask] for f in _POPULATION_FIELDS))

    def extend(self, other: _Population) -> _Population:
        return _Population(
            *(np.concatenate([getattr(self, f), getattr(other, f)]) for f in _POPULATION_FIELDS)
        )


_POPULATION_FIELDS = ("id", "state", "accel_std", "turn_rate", "survival")


def propagate(state: np.ndarray, turn_rate: np.ndarray, dt: float) -> np.ndarray:
    """Noise-free coordinated-turn transition over ``dt`` s; turn_rate 0 gives constant velocity.

    state: (N, 4) [x, y, vx, vy]; turn_rate: (N,) rad/s (positive = counter-clockwise).
    Returns the new (N, 4) states.
    """
    angle = turn_rate * dt
    small = np.abs(angle) < 1e-9
    safe_rate = np.where(small, 1.0, turn_rate)
    sin_term = np.where(small, dt, np.sin(angle) / safe_rate)  # integral of cos(w t) over dt
    cos_term = np.where(small, 0.0, (1.0 - np.cos(angle)) / safe_rate)  # integral of sin(w t)
    x, y, vx, vy = state.T
    cos_a, sin_a = np.cos(angle), np.sin(angle)
    return np.stack(
        [
            x + sin_term * vx - cos_term * vy,
            y + cos_term * vx + sin_term * vy,
            cos_a * vx - sin_a * vy,
            sin_a * vx + cos_a * vy,
        ],
        axis=1,
    )


def _velocity(speed: np.ndarray, heading: np.ndarray) -> np.ndarray:
    return np.stack([speed * np.cos(heading), speed * np.sin(heading)], axis=1)


def _uniform_in_region(
    count: int, region: tuple[float, ...], rng: np.random.Generator
) -> np.ndarray:
    xmin, xmax, ymin, ymax = region
    return np.stack([rng.uniform(xmin, xmax, count), rng.uniform(ymin, ymax, count)], axis=1)


def _random_velocity(count: int, motion: MotionConfig, rng: np.random.Generator) -> np.ndarray:
    return _velocity(rng.uniform(*motion.speed_range, count), rng.uniform(-math.pi, math.pi, count))


def draw_births(count: int, motion: MotionConfig, rng: np.random.Generator) -> np.ndarray:
    """States (count, 4) of newly born free targets: position from the birth region or points."""
    if motion.birth_points:
        points = np.asarray(motion.birth_points, dtype=float)
        chosen = points[rng.integers(0, len(points), count)]
        position = chosen + rng.normal(0.0, motion.birth_point_std, (count, 2))
    else:
        position = _uniform_in_region(count, motion.birth_region, rng)
    return np.concatenate([position, _random_velocity(count, motion, rng)], axis=1)


def scripted_births(
    motion: MotionConfig, frames: int, dt: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Birth frames (S,) int and states (S, 4) of the scripted (noise-free, immortal) targets."""
    event_frame = min(
        frames // 2 if motion.pattern_frame is None else motion.pattern_frame, frames - 1
    )
    xmin, xmax, ymin, ymax = motion.birth_region
    central = (
        0.75 * xmin + 0.25 * xmax,
        0.25 * xmin + 0.75 * xmax,
        0.75 * ymin + 0.25 * ymax,
        0.25 * ymin + 0.75 * ymax,
    )
    frames_out, states = [], []

    # Crossing pairs: both members reach the same point at event_frame.
    pairs = motion.crossing_pairs
    meet = _uniform_in_region(pairs, central, rng)
    heading = rng.uniform(-math.pi, math.pi, pairs)
    turn = rng.uniform(math.radians(30), math.radians(150), pairs) * rng.choice([-1.0, 1.0], pairs)
    for pair_heading in (heading, heading + turn):
        velocity = _velocity(rng.uniform(*motion.speed_range, pairs), pair_heading)
        states.append(np.concatenate([meet - velocity * event_frame * dt, velocity], axis=1))
        frames_out.append(np.zeros(pairs, int))

    # Parallel groups: same velocity, side by side pattern_separation apart.
    groups, size = motion.parallel_groups, motion.parallel_size
    centre = _uniform_in_region(groups, central, rng)
    velocity = _random_velocity(groups, motion, rng)
    across = np.stack([-velocity[:, 1], velocity[:, 0]], axis=1)
    across /= np.maximum(np.linalg.norm(across, axis=1, keepdims=True), 1e-12)
    lateral = (np.arange(size) - (size - 1) / 2) * motion.pattern_separation
    position = centre[:, None, :] + lateral[None, :, None] * across[:, None, :]
    states.append(
        np.concatenate(
            [position, np.broadcast_to(velocity[:, None, :], position.shape)], axis=2
        ).reshape(-1, 4)
    )
    frames_out.append(np.zeros(groups * size, int))

    # Splits: a parent from frame 0 and a child born at event_frame at the parent's position.
    count = motion.split_targets
    parent_position = _uniform_in_region(count, central, rng)
    parent_velocity = _random_velocity(count, motion, rng)
    cos_s, sin_s = math.cos(motion.split_angle), math.sin(motion.split_angle)
    child_velocity = parent_velocity @ np.array([[cos_s, sin_s], [-sin_s, cos_s]])
    split_position = parent_position + parent_velocity * event_frame * dt
    states += [
        np.concatenate([parent_position, parent_velocity], axis=1),
        np.concatenate([split_position, child_velocity], axis=1),
    ]
    frames_out += [np.zeros(count, int), np.full(count, event_frame)]
    return np.concatenate(frames_out), np.concatenate(states)


def _free_population(
    states: np.ndarray, motion: MotionConfig, rng: np.random.Generator
) -> _Population:
    count = len(states)
    turning = rng.random(count) < motion.turn_fraction
    turn_rate = np.where(
        turning, rng.uniform(-motion.turn_rate_max, motion.turn_rate_max, count), 0.0
    )
    return _Population(
        np.zeros(count, np.int32),
        states,
        np.full(count, motion.accel_std),
        turn_rate,
        np.full(count, motion.survival_prob),
    )


def _scripted_population(states: np.ndarray) -> _Population:
    count = len(states)
    zeros = np.zeros(count)
    return _Population(np.zeros(count, np.int32), states, zeros, zeros, np.ones(count))


def simulate_truth(
    motion: MotionConfig, frames: int, dt: float, rng: np.random.Generator, progress: bool = False
) -> Truth:
    """Run the motion model for ``frames`` frames; ids are given in birth order starting at 1."""
    script_frame, script_state = scripted_births(motion, frames, dt, rng)
    alive = _Population.empty()
    next_id = 1
    frame_rows, id_rows, state_rows = [], [], []
    for k in tqdm(range(frames), desc="motion", unit="frame", disable=not progress, leave=False):
        if k:
            alive = alive.select(rng.random(len(alive.id)) < alive.survival)
            alive.state = propagate(alive.state, alive.turn_rate, dt)
            accel = rng.standard_normal((len(alive.id), 2)) * alive.accel_std[:, None]
            alive.state[:, :2] += accel * (dt * dt / 2)
            alive.state[:, 2:] += accel * dt
        born_count = motion.initial_targets if k == 0 else rng.poisson(motion.birth_rate)
        born = _free_population(draw_births(born_count, motion, rng), motion, rng).extend(
            _scripted_population(script_state[script_frame == k])
        )
        born.id = np.arange(next_id, next_id + len(born.id), dtype=np.int32)
        next_id += len(born.id)
        alive = alive.extend(born)
        frame_rows.append(np.full(len(alive.id), k, np.int32))
        id_rows.append(alive.id)
        state_rows.append(alive.state.copy())
    return Truth(np.concatenate(frame_rows), np.concatenate(id_rows), np.concatenate(state_rows))
