"""A flat batch of detections from one or several sensors, in storage dtypes.

Storage choice: positions, polar values and amplitudes are float32 (7 significant digits: 0.5 mm
at 5 km, 1e-7 rad; far below any sensor noise), which halves the memory of large scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sim.config import SensorConfig
from sim.geometry import to_world

DET_FLOAT = np.float32


@dataclass(frozen=True)
class Detections:
    """L detections. frame (L,) int32 0-based; sensor (L,) int16 index into the scenario's sensors;
    target (L,) int32 true target id, -1 for clutter; xy (L, 2) float32 world position m (from the
    measured polar values); range (L,) m; azimuth (L,) rad, sensor frame; range_rate (L,) m/s, NaN
    without Doppler; amplitude (L,) SNR dB, NaN where the sensor gives none. All float32.
    """

    frame: np.ndarray
    sensor: np.ndarray
    target: np.ndarray
    xy: np.ndarray
    range: np.ndarray
    azimuth: np.ndarray
    range_rate: np.ndarray
    amplitude: np.ndarray

    @classmethod
    def measured(
        cls,
        sensor: SensorConfig,
        sensor_index: int,
        frame: np.ndarray,
        target: np.ndarray,
        range_: np.ndarray,
        azimuth: np.ndarray,
        range_rate: np.ndarray | None = None,
        amplitude: np.ndarray | None = None,
    ) -> Detections:
        """Detections of one sensor from measured polar values; missing channels become NaN."""
        count = len(frame)
        nan = np.full(count, np.nan, DET_FLOAT)
        return cls(
            frame=frame.astype(np.int32, copy=False),
            sensor=np.full(count, sensor_index, np.int16),
            target=target.astype(np.int32, copy=False),
            xy=to_world(sensor, range_, azimuth).astype(DET_FLOAT),
            range=range_.astype(DET_FLOAT),
            azimuth=azimuth.astype(DET_FLOAT),
            range_rate=nan if range_rate is None else range_rate.astype(DET_FLOAT),
            amplitude=nan if amplitude is None else amplitude.astype(DET_FLOAT),
        )

    @classmethod
    def concatenate(cls, parts: list[Detections]) -> Detections:
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def take(self, index: np.ndarray) -> Detections:
        return Detections(*(np.take(getattr(self, f.name), index, axis=0) for f in fields(self)))

    def in_scan_order(self) -> Detections:
        """Sorted by frame, then sensor, then azimuth (the order a scanning sensor reports in), so
        the position in the list says nothing about which target made a detection."""
        # One float64 key instead of a 3-key lexsort (10x faster): azimuth + pi lies in [0, 2 pi],
        # below the step of 8 between consecutive (frame, sensor) pairs; float64 resolves 1e-9 rad
        # up to 1e6 frames x 100 sensors.
        group = self.frame.astype(np.float64) * (int(self.sensor.max(initial=0)) + 1) + self.sensor
        return self.take(np.argsort(group * 8.0 + (self.azimuth + np.pi)))
