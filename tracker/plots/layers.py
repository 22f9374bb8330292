"""Frame-indexed views of truth and tracks, shared by the static plots and the animation.

Everything here is precomputed once per picture and vectorised, so that a frame of an animation
is a few array slices: rows sorted by frame with offsets (like the scenario's own layout), and
trail segments sorted by the frame they end in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.path import Path

from common.errors import InputError

TRACK_COLUMNS = ("frame", "id", "x", "y", "cov_xx", "cov_xy", "cov_yy", "confirmed")


@dataclass(frozen=True)
class PointRows:
    """Points of many objects over frames, sorted by frame then id.

    frame (n,) int64 0-based; ids (n,) int64 >= 1; xy (n, 2) m; cov (n, 3) m^2 as
    [xx, xy, yy] (zeros for truth); confirmed (n,) bool; offsets (T+1,) so that frame k is rows
    offsets[k]:offsets[k+1].
    """

    frame: np.ndarray
    ids: np.ndarray
    xy: np.ndarray
    cov: np.ndarray
    confirmed: np.ndarray
    offsets: np.ndarray

    @classmethod
    def build(
        cls,
        frame: np.ndarray,
        ids: np.ndarray,
        xy: np.ndarray,
        num_frames: int,
        cov: np.ndarray | None = None,
        confirmed: np.ndarray | None = None,
    ) -> PointRows:
        """Sort the rows by (frame, id) and index them by frame; frames lie in [0, num_frames)."""
        frame = np.asarray(frame, dtype=np.int64)
        ids = np.asarray(ids, dtype=np.int64)
        cov = np.zeros((len(frame), 3)) if cov is None else np.asarray(cov, dtype=np.float64)
        confirmed = np.ones(len(frame), bool) if confirmed is None else np.asarray(confirmed, bool)
        order = np.lexsort((ids, frame))
        offsets = np.searchsorted(frame[order], np.arange(num_frames + 1))
        return cls(
            frame[order], ids[order], np.asarray(xy, np.float64)[order], cov[order],
            confirmed[order], offsets,
        )

    def take(self, keep: np.ndarray | slice) -> PointRows:
        """The rows selected by ``keep`` (bool mask, indices or slice), over the same frames."""
        return PointRows.build(self.frame[keep], self.ids[keep], self.xy[keep],
                               len(self.offsets) - 1, self.cov[keep], self.confirmed[keep])

    def at(self, k: int) -> slice:
        """Rows of 0-based frame ``k``."""
        return slice(self.offsets[k], self.offsets[k + 1])


def truth_rows(scene) -> PointRows:
    """The scenario's true target positions as PointRows."""
    return PointRows.build(
        scene.truth_frame, scene.truth_id, scene.truth_state[:, :2], scene.num_frames
    )


def track_rows(
    table, num_frames: int, name: str = "tracks", extent: np.ndarray | None = None
) -> PointRows:
    """A TrackTable (tracker.tracks_io, frames 1-based) as PointRows with 0-based frames.

    InputError when the tracks cannot belong to a scene of ``num_frames`` frames (or, with the
    scene's ``extent``, lie mostly far outside it: see :func:`check_tracks_fit_scene`).
    """
    columns = {column: np.asarray(getattr(table, column)) for column in TRACK_COLUMNS}
    frame = columns["frame"].astype(np.int64) - 1
    if len(frame) and (frame.min() < 0 or frame.max() >= num_frames):
        raise InputError(
            f"{name}: frames {frame.min() + 1}..{frame.max() + 1} do not fit the scene's "
            f"{num_frames} frames (tracks of another scene?)"
        )
    xy = np.stack([columns["x"], columns["y"]], axis=1)
    cov = np.stack([columns["cov_xx"], columns["cov_xy"], columns["cov_yy"]], axis=1)
    rows = PointRows.build(frame, columns["id"], xy, num_frames, cov, columns["confirmed"] > 0)
    if extent is not None:
        check_tracks_fit_scene(rows, extent, name)
    return rows


@dataclass(frozen=True)
class Trails:
    """Line segments joining consecutive points of each id, sorted by the frame they end in.

    segments (S, 2, 2) m; end_frame (S,) 0-based; ids (S,); confirmed (S,) bool (of the end point);
    paths (S,) object array of the segments as matplotlib Paths, built once so that an animation
    frame only slices them.
    """

    segments: np.ndarray
    end_frame: np.ndarray
    ids: np.ndarray
    confirmed: np.ndarray
    paths: np.ndarray

    @classmethod
    def from_rows(cls, rows: PointRows) -> Trails:
        """Join each id's consecutive rows (in frame order) by a segment."""
        by_id = np.lexsort((rows.frame, rows.ids))
        same = rows.ids[by_id][1:] == rows.ids[by_id][:-1]
        start, end = by_id[:-1][same], by_id[1:][same]
        segments = np.stack([rows.xy[start], rows.xy[end]], axis=1)
        order = np.argsort(rows.frame[end], kind="stable")
        end, segments = end[order], segments[order]
        paths = np.empty(len(segments), dtype=object)
        paths[:] = [Path(segment) for segment in segments]
        return cls(segments, rows.frame[end], rows.ids[end], rows.confirmed[end], paths)

    def window(self, k: int, length: int) -> slice:
        """Segments ending in frames k - length + 1 .. k."""
        return recent(self.end_frame, k, length)


    def compound(self, k: int, length: int) -> Path:
        """The segments of :meth:`window` as one multi-part Path (drawn in one go, one colour)."""
        window = self.window(k, length)
        count = window.stop - window.start
        codes = np.tile(np.asarray([Path.MOVETO, Path.LINETO], dtype=Path.code_type), count)
        return Path(self.segments[window].reshape(-1, 2), codes)


def recent(frames: np.ndarray, k: int, length: int) -> slice:
    """Rows of the sorted ``frames`` (n,) that lie in k - length + 1 .. k."""
    first, last = np.searchsorted(frames, [k - length + 1, k + 1])
    return slice(int(first), int(last))


def ellipse_axes(cov: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full axis lengths (m) and angle (degrees) of the ``sigma`` ellipses of 2x2 covariances.

    cov (n, 3) as [xx, xy, yy] in m^2 -> (widths (n,), heights (n,), angles (n,)), width along the
    major axis. Closed-form eigen-decomposition, no loop.
    """
    xx, xy, yy = cov[:, 0], cov[:, 1], cov[:, 2]
    half_trace = 0.5 * (xx + yy)
    spread = np.sqrt(np.maximum((0.5 * (xx - yy)) ** 2 + xy**2, 0.0))
    major = np.sqrt(np.maximum(half_trace + spread, 0.0))
    minor = np.sqrt(np.maximum(half_trace - spread, 0.0))
    angle = np.degrees(0.5 * np.arctan2(2.0 * xy, xx - yy))
    return 2.0 * sigma * major, 2.0 * sigma * minor, angle


def check_tracks_fit_scene(rows: PointRows, extent: np.ndarray, name: str) -> None:
    """InputError when most track points lie far outside the scene's extent.

    extent (2, 2) as [[xmin, ymin], [xmax, ymax]] m; the box is widened by its own size on every
    side before the test, so only tracks of another scene fail.
    """
    if len(rows.xy) == 0:
        return
    size = extent[1] - extent[0]
    inside = np.all((rows.xy >= extent[0] - size) & (rows.xy <= extent[1] + size), axis=1)
    if inside.mean() < 0.5:
        raise InputError(
            f"{name}: {100 * (1 - inside.mean()):.0f}% of the track points lie far outside the "
            "scene (tracks of another scene?)"
        )
