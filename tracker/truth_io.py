"""Truth files for scoring: ground truth in MOTChallenge layout, from any simulator or labeller.

A CSV (or MOTChallenge text) whose first four columns are ``frame,id,x,y``: frame 1-based
integer, id an integer >= 0 per target, x, y m; further columns are ignored except ``vx,vy``
(m/s) when a header names them. A header row is optional (MOTChallenge ``gt.txt`` has none;
``hste simulate --truth-csv`` writes ``frame,id,x,y,vx,vy``); with a header the columns are found
by name. :class:`TruthTable` is what :func:`tracker.evaluation.evaluate_many` scores against.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.csv_rows import read_csv_rows
from common.errors import InputError

TRUTH_COLUMNS = ("frame", "id", "x", "y")


@dataclass(frozen=True)
class FrameTruthRows:
    """The targets of one frame: ``id`` (N,) int64, ``state`` (N, 4) [x, y, vx, vy] m, m/s
    (velocities NaN where the file gives none)."""

    id: np.ndarray
    state: np.ndarray

    def __len__(self) -> int:
        return int(self.id.size)


@dataclass(frozen=True)
class TruthTable:
    """Ground truth over ``num_frames`` frames: rows sorted by frame, then id.

    Attributes:
        frame: (K,) int64 1-based. id: (K,) int64. state: (K, 4) m, m/s.
        num_frames: frames scored (1..num_frames).
        sensors: always empty: every listed target is scored.
    """

    frame: np.ndarray
    id: np.ndarray
    state: np.ndarray
    num_frames: int
    sensors: tuple = ()

    def frame_truth(self, k: int) -> FrameTruthRows:
        """The targets of 0-based frame ``k``."""
        start, stop = np.searchsorted(self.frame, [k + 1, k + 2])
        return FrameTruthRows(self.id[start:stop], self.state[start:stop])

    def with_frames(self, num_frames: int) -> TruthTable:
        """The same truth scored over at least ``num_frames`` frames."""
        return TruthTable(self.frame, self.id, self.state, max(self.num_frames, num_frames))


def read_truth(path: str | os.PathLike) -> TruthTable:
    """Read a truth file (layout in the module docstring).

    Raises:
        InputError: missing file, fewer than four columns, a non-numeric or NaN cell in
            frame, id, x, y (naming the line), frames < 1, or an id twice in one frame.
    """
    path = Path(path)
    rows = read_csv_rows(path, "truth")
    if not rows:
        raise InputError(f"{path}: empty truth file")
    first = [cell.strip() for cell in rows[0][1]]
    if not _numeric(first):
        missing = [name for name in TRUTH_COLUMNS if name not in first]
        if missing:
            raise InputError(f"{path}: truth header lacks {', '.join(missing)} (MOTChallenge "
                             "layout: frame,id,x,y,...)")
        names, rows = first, rows[1:]
    else:
        names = list(TRUTH_COLUMNS)
    wanted = [*TRUTH_COLUMNS] + [v for v in ("vx", "vy") if v in names and len(names) > 4]
    index = [names.index(name) for name in wanted]
    values = np.full((len(rows), len(wanted)), np.nan)
    for row_number, (line, row) in enumerate(rows):
        if len(row) <= max(index):
            raise InputError(f"{path}: line {line}: {len(row)} field(s); expected at least "
                             f"{max(index) + 1} (frame,id,x,y,...)")
        try:
            values[row_number] = [float(row[i]) for i in index]
        except ValueError:
            raise InputError(f"{path}: line {line}: frame, id, x, y must be numbers") from None
        if not np.isfinite(values[row_number, :4]).all():
            raise InputError(f"{path}: line {line}: frame, id, x, y must be finite")
    frame, ids = values[:, 0], values[:, 1]
    for name, column, low in (("frame", frame, 1), ("id", ids, 0)):
        bad = (column < low) | (column != np.round(column))
        if bad.any():
            raise InputError(f"{path}: line {rows[int(np.flatnonzero(bad)[0])][0]}: {name} must "
                             f"be an integer >= {low}")
    state = np.full((len(rows), 4), np.nan)
    state[:, :2] = values[:, 2:4]
    if len(wanted) == 6:
        state[:, 2:] = values[:, 4:6]
    order = np.lexsort((ids, frame))
    frame, ids, state = frame[order].astype(np.int64), ids[order].astype(np.int64), state[order]
    twice = np.r_[False, (np.diff(frame) == 0) & (np.diff(ids) == 0)]
    if twice.any():
        raise InputError(f"{path}: target id {ids[twice][0]} appears twice in frame "
                         f"{frame[twice][0]}")
    return TruthTable(frame, ids, state, int(frame.max(initial=0)))


def _numeric(cells: list[str]) -> bool:
    try:
        [float(cell) for cell in cells[:4]]
    except ValueError:
        return False
    return True
