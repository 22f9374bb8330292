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
    """One sensor's forgotten counts: cell -> (count, scan it was last brought up to date)."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], tuple[float, int]] = {}
        self.scan = 0
        self.scans_seen = 0.0

    def count(self, cell: tuple[int, int], decay: float) -> float:
        """The cell's count, forgotten up to the current scan."""
        value, last = self.cells.get(cell, (0.0, self.scan))
        return value * decay ** (self.scan - last)


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
        block = np.array([sum(grid.count((int(x + dx), int(y + dy)), self.decay)
                              for dx, dy in _NEIGHBOURS) for x, y in self._cells(xy)])
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
        took) lies at ``clutter_xy`` (C, 2) m."""
        grid = self.grids.setdefault(sensor, _SensorGrid())
        grid.scan += 1
        grid.scans_seen = grid.scans_seen * self.decay + 1.0
        cells, counts = np.unique(self._cells(clutter_xy), axis=0, return_counts=True)
        for (x, y), added in zip(cells.tolist(), counts.tolist(), strict=True):
            cell = (x, y)
            grid.cells[cell] = (grid.count(cell, self.decay) + added, grid.scan)
        if grid.scan % int(10 * self.config.memory) == 0:
            self._forget_empty(grid)

    def _forget_empty(self, grid: _SensorGrid) -> None:
        """Drop cells whose count has decayed below 1e-3 (bounded memory on long runs)."""
        grid.cells = {cell: (grid.count(cell, self.decay), grid.scan) for cell in grid.cells
                      if grid.count(cell, self.decay) >= 1e-3}
