"""Tiny scenes and tracks that the picture tests draw (plus a check that they are what they say)."""

from __future__ import annotations

import dataclasses

import numpy as np

import sim
from sim.presets import get_preset
from tracker.tracks_io import TrackTable


def tiny_scene(frames: int = 12, targets: int = 4, clutter: float = 3.0, seed: int = 0):
    """The default radar scene with ``targets`` targets alive throughout, ``frames`` frames."""
    config = get_preset("default")
    motion = dataclasses.replace(config.motion, initial_targets=targets, birth_rate=0.0,
                                 survival_prob=1.0)
    sensors = tuple(dataclasses.replace(s, clutter_rate=clutter) for s in config.sensors)
    return sim.generate(dataclasses.replace(config, frames=frames, motion=motion,
                                            sensors=sensors), seed=seed)


def truth_tracks(scene, id_offset: int = 0, tentative_frames: int = 2,
                 shift: float = 0.0) -> TrackTable:
    """The truth as tracks (frames 1-based, ids + ``id_offset``, positions + ``shift`` m), the
    first ``tentative_frames`` frames tentative, covariance diag(400, 100) m^2."""
    count = len(scene.truth_id)
    states = scene.truth_state + [shift, shift, 0.0, 0.0]
    return TrackTable(
        scene.truth_frame.astype(np.int64) + 1, scene.truth_id.astype(np.int64) + id_offset,
        *states.T, np.full(count, 400.0), np.zeros(count), np.full(count, 100.0),
        scene.truth_frame >= tentative_frames,
    )


def test_tiny_scene_has_its_targets_in_every_frame():
    scene = tiny_scene(frames=5, targets=3)
    assert scene.num_frames == 5
    np.testing.assert_array_equal(np.diff(scene.truth_offsets), 3)
    tracks = truth_tracks(scene, id_offset=10)
    assert tracks.id.min() == 11 and not tracks.confirmed[tracks.frame <= 2].any()
