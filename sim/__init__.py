"""Scenario generation for RADAR and point-cloud multiple-object tracking.

``generate(config, seed) -> Scenario``; ``Scenario.save(path)`` / ``load(path)``; presets in
:mod:`sim.presets`; configs in :mod:`sim.config`.
"""

from sim.config import MotionConfig, PointCloudConfig, RadarConfig, ScenarioConfig, SensorConfig
from sim.generator import generate
from sim.scenario import FrameDetections, FrameTruth, Scenario, load

__all__ = [
    "FrameDetections",
    "FrameTruth",
    "MotionConfig",
    "PointCloudConfig",
    "RadarConfig",
    "Scenario",
    "ScenarioConfig",
    "SensorConfig",
    "generate",
    "load",
]
