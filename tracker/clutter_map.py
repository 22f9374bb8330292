"""A clutter map: each sensor's clutter density learned from its own scans, cell by cell.

Sensor models (:mod:`tracker.sensors`) give a clutter density that is uniform or follows the
sensor's geometry; real clutter is not: sea and ground clutter come in patches that drift, rain
in cells. A clutter map estimates the density where the clutter actually is, as radar trackers
have long done: every scan, the measurements that no confirmed track took are counted in a grid
of square cells (``cell_size`` m, world coordinates) with exponential forgetting (time constant
``memory`` scans); a measurement's density is then the forgotten count over the 3 x 3 cells
around it, per scan and per m^2, shrunk towards the sensor model's density by ``prior_scans``
scans' worth of it, and never below ``floor`` times it:

    density = (C + k * lambda0 * A) / ((S + k) * A),   at least floor * lambda0,

with C the forgotten clutter count of the 3 x 3 block, A its area (9 cell_size^2), S the
forgotten number of scans seen, k = ``prior_scans`` and lambda0 the sensor model's density at the
measurement. Before any scan it is the sensor's density; in a patch it rises to the patch's.
Every consumer of ``Measurements.clutter_density`` (the gnn / jpda scores, the track score test,
the learned network's priors) then sees the learned density. Off by default
(``TrackerConfig.clutter_map.enabled``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from tracker.measurements import Measurements

_NEIGHBOURS = np.array([(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)], dtype=np.int64)


@dataclass(frozen=True)
class ClutterMapConfig:
    """Settings of the clutter map (the module docstring has the estimate).

    Attributes:
        enabled: learn and use the map.
        cell_size: m, side of a square cell (the estimate averages 3 x 3 cells).
        memory: scans, time constant of the forgetting (counts decay by ``1 - 1/memory`` per
            scan of the sensor).
        prior_scans: scans' worth of the sensor model's density the estimate starts from.
        floor: the estimate never falls below this fraction of the sensor model's density.
    """

    enabled: bool = False
    cell_size: float = 250.0
    memory: float = 10.0
    prior_scans: float = 5.0
    floor: float = 0.25

    def __post_init__(self) -> None:
        if not (math.isfinite(self.cell_size) and self.cell_size > 0):
            raise ValueError("clutter_map.cell_size must be > 0")
        if not (math.isfinite(self.memory) and self.memory >= 1):
            raise ValueError("clutter_map.memory must be >= 1 scan")
        if not (math.isfinite(self.prior_scans) and self.prior_scans > 0):
            raise ValueError("clutter_map.prior_scans must be > 0")
        if not (math.isfinite(self.floor) and 0 < self.floor <= 1):
            raise ValueError("clutter_map.floor must be in (0, 1]")


class _SensorGrid:
    """One sensor's forgotten counts: sorted cell keys (K,) int64 and their counts (K,), all
    brought up to the current scan."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0)
        self.scans_seen = 0.0

    def count(self, keys: np.ndarray) -> np.ndarray:
        """The counts (Q,) of cells ``keys`` (Q,) (0 for a cell never seen)."""
        index = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        if len(self.keys) == 0:
            return np.zeros(len(keys))
        return np.where(self.keys[index] == keys, self.counts[index], 0.0)


def _key(cells: np.ndarray) -> np.ndarray:
    """(N,) int64 key of integer cells (N, 2) (each coordinate within +-2**31)."""
    return (cells[:, 0] << 32) + cells[:, 1]


class ClutterMap:
    """The per-sensor clutter maps of one tracker (sensors named by their index)."""

    def __init__(self, config: ClutterMapConfig) -> None:
        self.config = config
        self.decay = 1.0 - 1.0 / config.memory
        self.grids: dict[int, _SensorGrid] = {}

    def _cells(self, xy: np.ndarray) -> np.ndarray:
        """(D, 2) int64 cell index of world positions (D, 2) m."""
        return np.floor(xy / self.config.cell_size).astype(np.int64)

    def density(self, sensor: int, xy: np.ndarray, prior: np.ndarray) -> np.ndarray:
        """(D,) estimated clutter density per m^2 at positions ``xy`` (D, 2) m of ``sensor``,
        given the sensor model's density ``prior`` (D,) there."""
        grid = self.grids.get(sensor)
        if grid is None or len(xy) == 0:
            return np.asarray(prior, dtype=np.float64).copy()
        neighbours = self._cells(xy)[:, None, :] + _NEIGHBOURS[None]  # (D, 9, 2)
        block = grid.count(_key(neighbours.reshape(-1, 2))).reshape(len(xy), 9).sum(axis=1)
        area = 9.0 * self.config.cell_size**2
        k = self.config.prior_scans
        estimate = (block + k * prior * area) / ((grid.scans_seen + k) * area)
        return np.maximum(estimate, self.config.floor * prior)

    def estimate(self, sensor: int, measurements: Measurements) -> Measurements:
        """``measurements`` with the map's clutter density in place of the sensor model's."""
        density = self.density(sensor, measurements.xy, measurements.clutter_density)
        return dataclasses.replace(measurements, clutter_density=density)

    def learn(self, sensor: int, clutter_xy: np.ndarray) -> None:
        """Count one scan of ``sensor`` whose clutter (the measurements no confirmed track
        took) lies at ``clutter_xy`` (C, 2) m; cells whose count decays below 1e-3 are
        dropped (bounded memory on long runs)."""
        grid = self.grids.setdefault(sensor, _SensorGrid())
        grid.scans_seen = grid.scans_seen * self.decay + 1.0
        new_keys, added = np.unique(_key(self._cells(clutter_xy)), return_counts=True)
        keys = np.concatenate([grid.keys, new_keys])
        counts = np.concatenate([grid.counts * self.decay, added.astype(np.float64)])
        keys, slot = np.unique(keys, return_inverse=True)
        counts = np.bincount(slot, counts, minlength=len(keys))
        kept = counts >= 1e-3
        grid.keys, grid.counts = keys[kept], counts[kept]
