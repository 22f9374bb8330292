"""Target motion: constant-velocity and coordinated-turn targets, births, deaths, scripted patterns.

State of one target: [x, y, vx, vy] in m and m/s, world frame. Between frames (``dt`` s apart) a
target with turn rate w rad/s moves by the exact coordinated-turn transition (w = 0: constant
velocity), then piecewise-constant white acceleration a ~ N(0, accel_std^2) per axis is added as
position += a dt^2/2, velocity += a dt (the discrete white-noise-acceleration model of filterpy's
``Q_discrete_white_noise``).

Everything is vectorised over targets and frames at once: in complex form (v = vx + i vy) the
recursion v_j = r v_(j-1) + a_j dt with r = exp(i w dt) solves to v_j = r^j (v_0 + sum_(m<=j)
r^-m a_m dt), and p_j = p_0 + sum_(m<=j) (c v_(m-1) + a_m dt^2/2) with c = (r - 1) / (i w), the
integral of the rotating velocity over one frame; both sums are cumulative sums per target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

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


@dataclass(frozen=True)
class Births:
    """Every target of the scene at its birth, N of them, sorted by birth frame (= id order).

    frame (N,) int birth frame; state (N, 4) initial [x, y, vx, vy]; accel_std (N,) m/s^2;
    turn_rate (N,) rad/s (positive = counter-clockwise); survival (N,) per-frame probability.
    """

    frame: np.ndarray
    state: np.ndarray
    accel_std: np.ndarray
    turn_rate: np.ndarray
    survival: np.ndarray


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
    """Birth frames (S,) int and states (S, 4) of the scripted (noise-free, immortal) targets.

    Order (ids follow it): crossing pairs' first members, their second members, parallel groups
    (one group after the other), split parents, split children (born at the event frame).
    """
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


def _free_births(motion: MotionConfig, frames: int, rng: np.random.Generator) -> Births:
    """initial_targets at frame 0, then Poisson(birth_rate) per frame."""
    counts = np.concatenate([[motion.initial_targets], rng.poisson(motion.birth_rate, frames - 1)])
    count = int(counts.sum())
    turning = rng.random(count) < motion.turn_fraction
    turn_rate = rng.uniform(-motion.turn_rate_max, motion.turn_rate_max, count) * turning
    return Births(
        frame=np.repeat(np.arange(frames), counts),
        state=draw_births(count, motion, rng),
        accel_std=np.full(count, motion.accel_std),
        turn_rate=turn_rate,
        survival=np.full(count, motion.survival_prob),
    )


def all_births(motion: MotionConfig, frames: int, dt: float, rng: np.random.Generator) -> Births:
    """Free and scripted targets together, in birth order (free before scripted within a frame)."""
    free = _free_births(motion, frames, rng)
    script_frame, script_state = scripted_births(motion, frames, dt, rng)
    zeros = np.zeros(len(script_frame))
    scripted = Births(script_frame, script_state, zeros, zeros, np.ones(len(script_frame)))
    order = np.argsort(np.concatenate([free.frame, scripted.frame]), kind="stable")
    return Births(
        *(np.concatenate([getattr(free, f), getattr(scripted, f)])[order] for f in _BIRTH_FIELDS)
    )


_BIRTH_FIELDS = ("frame", "state", "accel_std", "turn_rate", "survival")


def lifetimes(births: Births, frames: int, rng: np.random.Generator) -> np.ndarray:
    """Frames (N,) each target is alive: geometric with the survival probability, cut at the end."""
    death_prob = np.clip(1.0 - births.survival, 1e-12, 1.0)
    return np.minimum(rng.geometric(death_prob), frames - births.frame)


def segment_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sum along axis 0, restarting at each row index in ``starts`` (increasing)."""
    total = np.cumsum(values, axis=0)
    before = np.concatenate([np.zeros_like(total[:1]), total[:-1]])[starts]
    lengths = np.diff(np.append(starts, len(values)))
    return total - np.repeat(before, lengths, axis=0)


def simulate_truth(motion: MotionConfig, frames: int, dt: float, rng: np.random.Generator) -> Truth:
    """Run the motion model for ``frames`` frames; ids are given in birth order starting at 1."""
    births = all_births(motion, frames, dt, rng)
    life = lifetimes(births, frames, rng)
    owner = np.repeat(np.arange(len(life)), life)  # (K,) target index of each row
    starts = np.cumsum(life) - life
    step = np.arange(len(owner)) - np.repeat(starts, life)  # frames since birth

    # complex acceleration ax + i ay: pairs of standard normals viewed as complex numbers
    accel = rng.standard_normal(2 * len(owner)).view(np.complex128) * births.accel_std[owner]
    accel[starts] = 0.0  # the birth state itself is not perturbed
    angle = births.turn_rate * dt
    rotation = np.ones(len(owner), np.complex128)  # r^j, computed only for turning targets
    turning = angle[owner] != 0
    rotation[turning] = np.exp(1j * angle[owner][turning] * step[turning])
    v0 = births.state[:, 2] + 1j * births.state[:, 3]
    # |r| = 1, so r^-m is the conjugate of r^m
    velocity = rotation * (v0[owner] + segment_cumsum(accel * dt * rotation.conj(), starts))

    straight = np.abs(angle) < 1e-9
    drift = np.where(
        straight, dt, (np.exp(1j * angle) - 1) / (1j * np.where(straight, 1, births.turn_rate))
    )
    previous = np.concatenate([[0j], velocity[:-1]])
    increment = drift[owner] * previous + accel * (dt * dt / 2)
    increment[starts] = 0.0
    p0 = births.state[:, 0] + 1j * births.state[:, 1]
    position = p0[owner] + segment_cumsum(increment, starts)

    frame = births.frame[owner] + step
    order = np.argsort(frame * len(life) + owner)  # by frame, then id (keys are unique)
    state = np.stack([position.real, position.imag, velocity.real, velocity.imag], axis=1)
    return Truth(
        frame[order].astype(np.int32),
        (owner[order] + 1).astype(np.int32),
        np.take(state, order, axis=0),  # np.take: several times faster than state[order]
    )
