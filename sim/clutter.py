"""Clutter detections of a simulated sensor: uniform over the field of view, plus drifting patches.

Uniform clutter is Poisson(``clutter_rate``) spots per frame, uniform in range and azimuth.
Patch clutter (sea or ground clutter) comes from ``clutter_patches`` Gaussian blobs of standard
deviation ``patch_radius`` m whose centres start uniform in range and azimuth and drift in a
straight line at ``patch_speed`` m/s; each gives Poisson(``patch_rate``) spots per frame, and
spots outside the field of view are dropped. Without patches no random number is drawn for them,
so scenes of patch-free sensors are what they were before patches existed.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config import SensorConfig
from sim.geometry import in_view, to_polar, to_world, wrap_angle


def clutter_frames(sensor: SensorConfig, frames: int, rng: np.random.Generator) -> np.ndarray:
    """Frame index (C,) int32 of each uniform clutter spot: Poisson(clutter_rate) per frame."""
    counts = rng.poisson(sensor.clutter_rate, frames)
    return np.repeat(np.arange(frames, dtype=np.int32), counts)


def clutter_polar(
    sensor: SensorConfig, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(range, azimuth) of ``count`` clutter spots, uniform in range and azimuth over the view."""
    half = sensor.azimuth_span / 2
    return (
        rng.uniform(sensor.min_range, sensor.max_range, count),
        wrap_angle(rng.uniform(-half, half, count)),
    )


def patch_centres(sensor: SensorConfig, frames: int, dt: float,
                  rng: np.random.Generator) -> np.ndarray:
    """World centres (frames, P, 2) m of the sensor's P clutter patches in every frame."""
    start = to_world(sensor, *clutter_polar(sensor, sensor.clutter_patches, rng))
    heading = rng.uniform(-math.pi, math.pi, sensor.clutter_patches)
    velocity = sensor.patch_speed * np.stack([np.cos(heading), np.sin(heading)], axis=1)
    times = np.arange(frames, dtype=np.float64)[:, None, None] * dt
    return start[None] + times * velocity[None]


def clutter_spots(sensor: SensorConfig, frames: int, dt: float, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every clutter spot of the scene: frame (C,) int32, range (C,) m, azimuth (C,) rad, the
    uniform spots first, then the patches' (in frame order); ``dt`` is the frame step, s."""
    frame = clutter_frames(sensor, frames, rng)
    range_, azimuth = clutter_polar(sensor, len(frame), rng)
    if sensor.clutter_patches == 0:
        return frame, range_, azimuth
    centres = patch_centres(sensor, frames, dt, rng)
    counts = rng.poisson(sensor.patch_rate, (frames, sensor.clutter_patches))
    patch_frame = np.repeat(np.arange(frames, dtype=np.int32), counts.sum(axis=1))
    patch = np.repeat(np.tile(np.arange(sensor.clutter_patches), frames), counts.ravel())
    xy = centres[patch_frame, patch] + rng.normal(0.0, sensor.patch_radius, (len(patch), 2))
    patch_range, patch_azimuth = to_polar(sensor, xy)
    seen = in_view(sensor, patch_range, patch_azimuth)
    return (np.concatenate([frame, patch_frame[seen]]),
            np.concatenate([range_, patch_range[seen]]),
            np.concatenate([azimuth, patch_azimuth[seen]]))
