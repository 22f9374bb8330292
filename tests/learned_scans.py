"""Random association scans for the learned-association tests (not a test module)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tracker.association.base import AssociationInput


def random_scan(rng: np.random.Generator, tracks: int, targets_seen: int, clutter: int,
                spacing: float = 60.0) -> AssociationInput:
    """A radar-like scan: ``tracks`` predicted tracks on a grid ``spacing`` m apart, the first
    ``targets_seen`` of them detected (5 m noise, true range rate), plus ``clutter`` detections
    uniform over the area. Detection j < targets_seen belongs to track j."""
    side = max(1, int(np.ceil(np.sqrt(max(tracks, 1)))))
    grid = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2)[:tracks]
    states = np.concatenate([grid * spacing, rng.normal(0.0, 10.0, (tracks, 2))], axis=1)
    covariances = np.tile(np.diag([30.0, 30.0, 4.0, 4.0]), (tracks, 1, 1))
    seen = min(targets_seen, tracks)
    area = max(side * spacing, spacing)
    detections = np.concatenate([states[:seen, :2] + rng.normal(0.0, 5.0, (seen, 2)),
                                 rng.uniform(-spacing, area, (clutter, 2))])
    count = seen + clutter
    sensor = np.array([0.0, -3000.0])
    line = states[:seen, :2] - sensor
    true_rate = np.einsum("ki,ki->k", line / np.linalg.norm(line, axis=1, keepdims=True),
                          states[:seen, 2:])
    range_rate = np.concatenate([true_rate + rng.normal(0.0, 0.5, seen),
                                 rng.uniform(-40.0, 40.0, clutter)])
    amplitude = np.concatenate([rng.normal(25.0, 3.0, seen), rng.normal(14.0, 1.0, clutter)])
    return AssociationInput(
        track_states=states, track_covariances=covariances,
        predicted_positions=states[:, :2].copy(),
        track_age=rng.integers(0, 20, tracks), track_misses=rng.integers(0, 3, tracks),
        detections=detections, detection_covariances=np.tile(25.0 * np.eye(2), (count, 1, 1)),
        detection_range_rate=range_rate, detection_amplitude=amplitude,
        detection_points=np.ones(count, dtype=np.int64), detection_spread=np.zeros(count),
        sensor_positions=np.tile(sensor, (count, 1)),
        detection_probability=np.full(tracks, 0.9), clutter_density=np.full(count, 1e-6),
    )


@pytest.fixture(autouse=True)
def single_thread():
    """Run the test with one torch thread (tiny tensors: threads only add overhead, and on a
    shared machine they thrash), restoring the setting afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
