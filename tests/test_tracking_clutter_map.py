"""The clutter map: its estimate by hand, forgetting, what it learns, the tracker with it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from common.errors import InputError
from sim import generate
from sim.presets import get_preset
from tracker.association.base import WeightedAssociation
from tracker.association.gnn import GnnAssociator
from tracker.clutter_map import ClutterMap, ClutterMapConfig
from tracker.evaluation import evaluate_many
from tracker.pipeline import TrackerConfig
from tracker.scene_source import track_scene

CONFIG = ClutterMapConfig(enabled=True, cell_size=100.0, memory=4.0, prior_scans=2.0, floor=0.25)
AREA = 9 * 100.0**2


def test_before_any_scan_the_estimate_is_the_sensor_models_density():
    prior = np.array([1e-6, 3e-6])
    np.testing.assert_array_equal(ClutterMap(CONFIG).density(0, np.zeros((2, 2)), prior), prior)


def test_the_estimate_by_hand_after_two_scans():
    clutter_map = ClutterMap(CONFIG)
    clutter_map.learn(0, np.array([[50.0, 50.0], [150.0, 50.0], [2000.0, 0.0]]))
    clutter_map.learn(0, np.array([[50.0, 60.0]]))
    decay = 1 - 1 / 4.0
    scans = 1 * decay + 1
    # the 3 x 3 block around cell (0, 0) holds the first scan's two near spots and the second's
    block = 2 * decay + 1
    prior = 1e-6
    expected = (block + 2.0 * prior * AREA) / ((scans + 2.0) * AREA)
    got = clutter_map.density(0, np.array([[10.0, 10.0]]), np.array([prior]))
    assert got[0] == pytest.approx(expected, rel=1e-12)
    # far from any clutter: the prior shrunk by the scans seen, but not below the floor
    far = clutter_map.density(0, np.array([[-5000.0, 0.0]]), np.array([prior]))
    assert far[0] == pytest.approx(max(2.0 * prior / (scans + 2.0), 0.25 * prior), rel=1e-12)


def test_sensors_have_their_own_maps_and_counts_are_forgotten():
    clutter_map = ClutterMap(CONFIG)
    for _ in range(3):
        clutter_map.learn(1, np.array([[0.0, 0.0]] * 5))
    prior = np.array([1e-7])
    here = np.zeros((1, 2))
    assert clutter_map.density(0, here, prior)[0] == prior[0]
    busy = clutter_map.density(1, here, prior)[0]
    for _ in range(37):  # to scan 40; cells below a count of 1e-3 are dropped
        clutter_map.learn(1, np.zeros((0, 2)))
    assert not clutter_map.grids[1].keys.size  # 5 (1 + d + d^2) d^37 < 1e-3
    quiet = clutter_map.density(1, here, prior)[0]
    scans = sum(0.75**i for i in range(40))
    assert busy > 100 * prior[0]
    assert quiet == pytest.approx(2.0 * prior[0] / (scans + 2.0), rel=1e-12)


def test_claimed_by_counts_only_the_given_tracks_weights():
    association = WeightedAssociation(3, 4, np.array([0, 1, 2, 2]), np.array([0, 1, 2, 3]),
                                      np.array([1.0, 1.0, 0.7, 0.3]), np.array([0.0, 0.0, 0.0]))
    assert association.claimed_by(np.array([True, False, True])).tolist() == [
        True, False, True, False]


def test_bad_settings_are_input_errors():
    with pytest.raises(InputError, match="clutter_map.memory must be >= 1"):
        TrackerConfig.from_dict({"clutter_map": {"enabled": True, "memory": 0.5}})
    with pytest.raises(InputError, match="clutter_map"):
        TrackerConfig.from_dict({"clutter_map": {"cells": 3}})
    assert TrackerConfig.from_dict({"clutter_map": {"enabled": True}}).clutter_map.enabled


def test_off_by_default_and_on_sea_clutter_it_removes_most_false_tracks():
    scene = generate(get_preset("sea-clutter").replace(frames=40), 11)
    plain = track_scene(GnnAssociator(), scene)
    assert TrackerConfig().clutter_map.enabled is False
    mapped = track_scene(GnnAssociator(), scene,
                         TrackerConfig(clutter_map=ClutterMapConfig(enabled=True)))
    scores = evaluate_many(scene, {"plain": plain, "mapped": mapped})
    assert scores["mapped"].summary["FP"] < 0.5 * scores["plain"].summary["FP"], {
        name: score.summary["FP"] for name, score in scores.items()}
    assert math.isfinite(scores["mapped"].summary["MOTA"])
