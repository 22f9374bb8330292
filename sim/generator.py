"""``generate``: a ScenarioConfig and a seed -> a Scenario (truth, then each sensor's output)."""

from __future__ import annotations

import numpy as np

from sim import pointcloud, radar
from sim.config import ScenarioConfig
from sim.detections import Detections
from sim.motion import simulate_truth
from sim.scenario import Scenario, frame_offsets

SENSOR_MODELS = {"radar": radar.observe, "pointcloud": pointcloud.observe}


def generate(config: ScenarioConfig, seed: int) -> Scenario:
    """Simulate ``config`` with ``seed``; the same pair always gives the same Scenario.

    The motion and each sensor draw from their own child streams of ``numpy.random.SeedSequence
    (seed)``, so adding a sensor leaves the truth and the other sensors' detections unchanged.
    """
    motion_seed, *sensor_seeds = np.random.SeedSequence(seed).spawn(1 + len(config.sensors))
    frames = config.frames
    truth = simulate_truth(config.motion, frames, config.dt, np.random.default_rng(motion_seed))
    detections = Detections.concatenate(
        [
            SENSOR_MODELS[sensor.kind](sensor, index, truth, frames, config.dt,
                                       np.random.default_rng(stream))
            for index, (sensor, stream) in enumerate(zip(config.sensors, sensor_seeds, strict=True))
        ]
    ).in_scan_order()
    return Scenario(
        config=config,
        seed=seed,
        dt=config.dt,
        frame_times=np.arange(frames) * config.dt,
        truth_frame=truth.frame,
        truth_id=truth.id,
        truth_state=truth.state,
        truth_offsets=frame_offsets(truth.frame, frames),
        det_frame=detections.frame,
        det_sensor=detections.sensor,
        det_target=detections.target,
        det_xy=detections.xy,
        det_range=detections.range,
        det_azimuth=detections.azimuth,
        det_range_rate=detections.range_rate,
        det_amplitude=detections.amplitude,
        det_offsets=frame_offsets(detections.frame, frames),
    )
