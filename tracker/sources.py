"""Detection sources: what the tracker consumes, an iterable of scans in time order.

A :class:`Scan` is one sensor's look at one time: its detections (no truth needed) and the index
of the sensor model that made them in the tracker's sensor list. Any iterable of scans is a
detection source: a scene file (:mod:`tracker.scene_source`), a detection CSV
(:mod:`tracker.detections_io`) or a user's own generator. Scans must come in non-decreasing time
order; scans sharing a time form one frame (the tracks are predicted once to that time, every
scan updates them in the order given, then tracks are confirmed and deleted); times may be
irregular, and each frame's predict uses its own dt.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from tracker.measurements import ScanDetections


@dataclass(frozen=True)
class Scan:
    """One sensor's detections at one time.

    Attributes:
        time: s.
        sensor: index of the sensor model in the tracker's ``sensors``.
        detections: the scan's raw detections.
        frame: the frame number (>= 1) the tracks of this time are labelled with in the output,
            or None (then frames are numbered 1, 2, ... in time order).
    """

    time: float
    sensor: int
    detections: ScanDetections
    frame: int | None = None


def position_scan(time: float, xy: np.ndarray, sensor: int = 0,
                  frame: int | None = None) -> Scan:
    """A scan of position-only detections xy (L, 2) m (no range, Doppler, amplitude or truth)."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    nan = np.full(xy.shape[0], np.nan)
    return Scan(float(time), sensor, ScanDetections(
        xy, nan, nan.copy(), nan.copy(), nan.copy(), np.full(xy.shape[0], -1, dtype=np.int64)),
        frame)


def frames(scans: Iterable[Scan]) -> Iterator[tuple[float, int, list[Scan]]]:
    """Group consecutive scans of one time: yields ``(time s, frame label, scans)``.

    Raises:
        ValueError: a scan earlier than the one before it, or a non-finite time.
    """
    group: list[Scan] = []
    count = 0
    for scan in scans:
        if not math.isfinite(scan.time):
            raise ValueError(f"scan time {scan.time} is not finite")
        if group and scan.time == group[0].time:
            group.append(scan)
            continue
        if group:
            if scan.time < group[0].time:
                raise ValueError(f"scan at {scan.time} s comes after one at {group[0].time} s")
            count += 1
            yield group[0].time, _label(group[0], count), group
        group = [scan]
    if group:
        yield group[0].time, _label(group[0], count + 1), group


def _label(scan: Scan, count: int) -> int:
    return count if scan.frame is None else scan.frame
