"""The tracks file written by ``hste track``: CSV, one row per track and frame (MOTChallenge-like).

Header ``frame,id,x,y,vx,vy,cov_xx,cov_xy,cov_yy,confirmed``: frame 1-based, id >= 1 stable per
track, position m, velocity m/s, position covariance m^2, confirmed 1 (0 = tentative); then
``time`` (s) when the tracked detections had times.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from common.atomic import atomic_path
from common.errors import InputError
from tracker.models import CV_SPACE, StateSpace

COLUMNS = ("frame", "id", "x", "y", "vx", "vy", "cov_xx", "cov_xy", "cov_yy", "confirmed")
INDEX_MAX = 2**31 - 1
"""The largest frame number and track id a tracks file may hold."""
VALUE_MAX = {"x": 1e12, "y": 1e12, "vx": 1e12, "vy": 1e12,
             "cov_xx": 1e24, "cov_xy": 1e24, "cov_yy": 1e24}
"""The largest magnitude of each position (m), velocity (m/s) and covariance (m^2) column:
beyond them squares and distances would overflow; no tracker in a real scene reaches them."""
_FORMATS = ("%d", "%d", "%.4f", "%.4f", "%.4f", "%.4f", "%.6g", "%.6g", "%.6g", "%d")


@dataclass(frozen=True)
class TrackTable:
    """N track rows as parallel arrays named like the CSV columns.

    frame (N,) int64 1-based; id (N,) int64 >= 1; x, y (N,) m; vx, vy (N,) m/s;
    cov_xx, cov_xy, cov_yy (N,) m^2; confirmed (N,) bool; time (N,) float64 s, NaN where
    unknown (None when building: all NaN).
    """

    frame: np.ndarray
    id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    cov_xx: np.ndarray
    cov_xy: np.ndarray
    cov_yy: np.ndarray
    confirmed: np.ndarray
    time: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.time is None:
            object.__setattr__(self, "time", np.full(self.frame.shape, np.nan))

    def __len__(self) -> int:
        return int(self.frame.size)

    @classmethod
    def from_states(cls, frame: int, ids: np.ndarray, states: np.ndarray,
                    covariances: np.ndarray, confirmed: np.ndarray, time: float = math.nan,
                    space: StateSpace = CV_SPACE) -> TrackTable:
        """Rows of one frame (1-based, at ``time`` s) from T track states (T, n) and
        covariances (T, n, n) laid out as ``space`` says (components other than the position
        and velocity are not written)."""
        count = ids.size
        position, velocity = space.position(states), space.velocity(states)
        position_covariance = space.position_covariance(covariances)
        return cls(np.full(count, frame, dtype=np.int64), ids.astype(np.int64),
                   *position.T.copy(), *velocity.T.copy(), position_covariance[:, 0, 0].copy(),
                   position_covariance[:, 0, 1].copy(), position_covariance[:, 1, 1].copy(),
                   confirmed.astype(bool), np.full(count, time))

    @classmethod
    def concatenate(cls, parts: list[TrackTable]) -> TrackTable:
        """All rows of ``parts`` in order (an empty table for no parts)."""
        if not parts:
            return cls(*(np.zeros(0, dtype=_dtype(f.name)) for f in fields(cls)))
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def take(self, index: np.ndarray) -> TrackTable:
        """The rows at ``index`` (int or bool array)."""
        return TrackTable(*(getattr(self, f.name)[index] for f in fields(self)))

    @property
    def positions(self) -> np.ndarray:
        """(N, 2) ``[x, y]`` m."""
        return np.stack([self.x, self.y], axis=1)


def _dtype(column: str) -> type:
    return {"frame": np.int64, "id": np.int64, "confirmed": bool}.get(column, np.float64)


def write_tracks(path: str | os.PathLike, table: TrackTable, with_time: bool = False) -> None:
    """Write ``table`` as the tracks CSV, atomically; ``with_time`` adds the ``time`` column
    (s, the frame's time) after the others."""
    columns = COLUMNS + ("time",) if with_time else COLUMNS
    formats = list(_FORMATS) + ["%.9g"] if with_time else list(_FORMATS)
    matrix = np.stack([getattr(table, c).astype(np.float64) for c in columns], axis=1)
    with atomic_path(path) as tmp:
        np.savetxt(tmp, matrix.reshape(-1, len(columns)), delimiter=",", fmt=formats,
                   header=",".join(columns), comments="")


def read_tracks(path: str | os.PathLike) -> TrackTable:
    """Read a tracks CSV; rows are returned sorted by frame, then id.

    Raises:
        InputError: missing file, missing columns, unparsable or NaN values, frames or ids
            outside 1..INDEX_MAX, values beyond VALUE_MAX, confirmed not 0/1, or the same id
            twice in one frame.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such tracks file")
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
            rows = list(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"{path}: not a tracks CSV ({error})") from None
    header = [name.strip() for name in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(f"{path}: tracks CSV lacks column(s) {', '.join(missing)}")
    rows = [row for row in rows if row]
    if any(len(row) != len(header) for row in rows):
        raise InputError(f"{path}: a row has a different number of fields than the header")
    try:
        matrix = np.array(rows, dtype=np.float64).reshape(len(rows), len(header))
    except ValueError as error:
        raise InputError(f"{path}: non-numeric value in tracks CSV ({error})") from None
    data = {c: matrix[:, header.index(c)] for c in COLUMNS}
    _check_values(path, data)
    time = matrix[:, header.index("time")] if "time" in header else None
    table = TrackTable(**{c: data[c].astype(_dtype(c)) for c in COLUMNS}, time=time)
    return table.take(np.lexsort((table.id, table.frame)))


def _check_values(path: Path, data: dict[str, np.ndarray]) -> None:
    """InputError for NaN/inf, non-integer or out-of-range frames, ids and confirmed flags."""
    for column, values in data.items():
        if not np.all(np.isfinite(values)):
            raise InputError(f"{path}: column {column} holds NaN or infinite values")
    for column in ("frame", "id"):
        values = data[column]
        if np.any(values < 1) or np.any(values > INDEX_MAX) or np.any(values != np.round(values)):
            raise InputError(f"{path}: column {column} must hold integers in 1..{INDEX_MAX}")
    for column, limit in VALUE_MAX.items():
        if np.any(np.abs(data[column]) > limit):
            raise InputError(f"{path}: column {column} holds values beyond +-{limit:g}")
    if not np.all(np.isin(data["confirmed"], (0.0, 1.0))):
        raise InputError(f"{path}: column confirmed must hold 0 or 1")
    keys = data["frame"].astype(np.int64) * (int(data["id"].max(initial=0)) + 1) + data["id"]
    if np.unique(keys).size != keys.size:
        raise InputError(f"{path}: a track id appears twice in one frame")
