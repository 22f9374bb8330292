"""Named scenario presets: ``get_preset(name) -> ScenarioConfig``.

The radar presets are a surveillance radar 2.5 km south of a 4 km x 4 km area, looking north with a
120 deg sector: dt 1 s, targets at 5-30 m/s, range noise 7.5 m, azimuth noise 0.3 deg (13 m
cross-range at 2.5 km), range-rate noise 0.5 m/s, Pd 0.9.
"""

from __future__ import annotations

import math
from dataclasses import replace

from common.errors import InputError
from sim.config import MotionConfig, PointCloudConfig, RadarConfig, ScenarioConfig

_AREA = (-2000.0, 2000.0, -1000.0, 3000.0)
_RADAR = RadarConfig(
    position=(0.0, -2500.0),
    orientation=math.pi / 2,
    azimuth_span=math.radians(120),
    min_range=100.0,
    max_range=6000.0,
)


def _default() -> ScenarioConfig:
    """~10 targets (Poisson births and deaths, 20% turning), 10 clutter detections per frame."""
    motion = MotionConfig(
        initial_targets=10,
        birth_rate=0.05,
        survival_prob=0.995,
        birth_region=_AREA,
        turn_fraction=0.2,
    )
    return ScenarioConfig(name="default", frames=100, dt=1.0, motion=motion, sensors=(_RADAR,))


def _dense_clutter() -> ScenarioConfig:
    """The default scene under 200 clutter detections per frame (about 20 per target)."""
    base = _default()
    return base.replace(name="dense-clutter", sensors=(replace(_RADAR, clutter_rate=200.0),))


def _crossing() -> ScenarioConfig:
    """Hard association: 3 crossing pairs, 2 groups of 3 targets 40 m apart, 2 splits, 2 free."""
    motion = MotionConfig(
        initial_targets=2,
        birth_rate=0.0,
        survival_prob=1.0,
        birth_region=_AREA,
        speed_range=(10.0, 25.0),
        crossing_pairs=3,
        parallel_groups=2,
        parallel_size=3,
        pattern_separation=40.0,
        split_targets=2,
        split_angle=0.3,
    )
    return ScenarioConfig(name="crossing", frames=100, dt=1.0, motion=motion, sensors=(_RADAR,))


def _pointcloud() -> ScenarioConfig:
    """A LIDAR at the centre of a 120 m square, 10 Hz, cars/cyclists (1-15 m/s), 20 clutter pts."""
    motion = MotionConfig(
        initial_targets=8,
        birth_rate=0.05,
        survival_prob=0.998,
        birth_region=(-60.0, 60.0, -60.0, 60.0),
        speed_range=(1.0, 15.0),
        accel_std=1.0,
        turn_fraction=0.3,
        turn_rate_max=0.3,
    )
    lidar = PointCloudConfig(position=(0.0, 0.0), max_range=100.0, extent=(2.3, 0.9))
    return ScenarioConfig(name="pointcloud", frames=200, dt=0.1, motion=motion, sensors=(lidar,))


def _large() -> ScenarioConfig:
    """1,000 simultaneous targets in a 28 km square seen by an all-round 60 km radar, 1,000 frames.

    Births (1 per frame) balance deaths (survival 0.999), so about 1,000 targets stay alive; none
    can leave the 60 km view within 1,000 s at <= 30 m/s. 100 clutter detections per frame.
    """
    motion = MotionConfig(
        initial_targets=1000,
        birth_rate=1.0,
        survival_prob=0.999,
        birth_region=(-14000.0, 14000.0, -14000.0, 14000.0),
        turn_fraction=0.2,
    )
    radar = RadarConfig(min_range=200.0, max_range=60000.0, range_std=10.0, clutter_rate=100.0)
    return ScenarioConfig(name="large", frames=1000, dt=1.0, motion=motion, sensors=(radar,))


def _formation() -> ScenarioConfig:
    """Closely spaced targets at Pd 0.7: 3 formations of 3 flying 25 m apart (about 2 cross-range
    sigmas of the radar at 2.5 km, so their detections overlap), 3 crossing pairs meeting at one
    point and 2 targets that split in two, plus 2 free targets; 10 clutter detections per frame.
    """
    motion = MotionConfig(
        initial_targets=2,
        birth_rate=0.0,
        survival_prob=1.0,
        birth_region=_AREA,
        speed_range=(10.0, 25.0),
        crossing_pairs=3,
        parallel_groups=3,
        parallel_size=3,
        pattern_separation=25.0,
        split_targets=2,
        split_angle=0.15,
    )
    return ScenarioConfig(name="formation", frames=100, dt=1.0, motion=motion,
                          sensors=(replace(_RADAR, detection_prob=0.7),))


def _heavy_clutter() -> ScenarioConfig:
    """The default scene under 600 clutter detections per frame (sea / rain clutter at a low
    detection threshold): about 60 per target, a clutter density near 1.6e-5 per m^2."""
    base = _default()
    return base.replace(name="heavy-clutter", sensors=(replace(_RADAR, clutter_rate=600.0),))


def _manoeuvring() -> ScenarioConfig:
    """Manoeuvring aircraft: every target flies coordinated turns of up to 0.12 rad/s (0.3 g at
    25 m/s) and jinks with 3 m/s^2 random accelerations per frame, which a tracker's nearly
    constant-velocity model only covers with a large process noise; 20 clutter per frame."""
    motion = MotionConfig(
        initial_targets=10,
        birth_rate=0.05,
        survival_prob=0.995,
        birth_region=_AREA,
        speed_range=(15.0, 30.0),
        accel_std=3.0,
        turn_fraction=1.0,
        turn_rate_max=0.12,
    )
    return ScenarioConfig(name="manoeuvring", frames=100, dt=1.0, motion=motion,
                          sensors=(replace(_RADAR, clutter_rate=20.0),))


def _low_snr() -> ScenarioConfig:
    """Small targets near the noise floor: mean SNR 27 dB at 2 km falling with range^4 (9 dB at
    5.5 km), a detection threshold of 10 dB, so Pd runs from 0.99 near the radar to about 0.35
    at the far edge, and 150 noise crossings of the threshold per frame whose amplitudes only a
    tracker that reads them can tell from the targets'."""
    radar = replace(_RADAR, pd_model="snr", snr_db=27.0, threshold_db=10.0, clutter_cnr_db=0.0,
                    clutter_rate=150.0)
    return _default().replace(name="low-snr", sensors=(radar,))


def _sea_clutter() -> ScenarioConfig:
    """The default scene over a sea with 6 patches of sea clutter (Gaussian blobs of 200 m
    standard deviation drifting at 3 m/s, 6 detections each per frame: a peak density of 2.4e-5
    per m^2, 45x the 20-per-frame uniform background's), so clutter is dense where the patches
    are, moves slowly like a target, and is sparse elsewhere; the tracker knows only the mean
    rate (56 per frame)."""
    radar = replace(_RADAR, clutter_rate=20.0, clutter_patches=6, patch_rate=6.0,
                    patch_radius=200.0, patch_speed=3.0)
    return _default().replace(name="sea-clutter", sensors=(radar,))


def _pointcloud_groups() -> ScenarioConfig:
    """A LIDAR on a busy road: trucks and buses (semi-axes 5 x 1.2 m) whose 6 points on average
    often fall into several clusters, driving in 3 groups of 3 side by side 3.5 m apart (one
    lane) whose clusters merge, plus 2 crossing pairs and 4 free vehicles; 20 clutter points."""
    motion = MotionConfig(
        initial_targets=4,
        birth_rate=0.02,
        survival_prob=0.998,
        birth_region=(-50.0, 50.0, -50.0, 50.0),
        speed_range=(3.0, 12.0),
        accel_std=0.5,
        crossing_pairs=2,
        parallel_groups=3,
        parallel_size=3,
        pattern_separation=3.5,
    )
    lidar = PointCloudConfig(position=(0.0, 0.0), max_range=100.0, extent=(5.0, 1.2),
                             points_per_target=6.0)
    return ScenarioConfig(name="pointcloud-groups", frames=200, dt=0.1, motion=motion,
                          sensors=(lidar,))


PRESETS = {
    "default": _default,
    "dense-clutter": _dense_clutter,
    "crossing": _crossing,
    "pointcloud": _pointcloud,
    "large": _large,
    "formation": _formation,
    "heavy-clutter": _heavy_clutter,
    "manoeuvring": _manoeuvring,
    "low-snr": _low_snr,
    "pointcloud-groups": _pointcloud_groups,
    "sea-clutter": _sea_clutter,
}
"""Every preset; the last six are the hard-scene suite (``HARD_PRESETS``)."""

HARD_PRESETS = ("formation", "heavy-clutter", "manoeuvring", "low-snr", "pointcloud-groups",
                "sea-clutter")
"""Scenes where association is hard, each for a physical reason (docs/results/hard)."""


def get_preset(name: str) -> ScenarioConfig:
    """The preset ``name`` (one of ``PRESETS``); InputError for an unknown name."""
    if name not in PRESETS:
        raise InputError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]()
