"""Scenario overview: true trajectories, detections (clutter apart), sensors and fields of view."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.collections import LineCollection

from tracker.plots import style
from tracker.plots.layers import PointRows, Trails, truth_rows
from tracker.plots.scene import (
    draw_sensors,
    frame_range,
    panel_figure,
    prepare_axes,
    view_extent,
)

MAX_DRAWN_DETECTIONS = 200_000


def plot_scenario(scene, out_path: str | os.PathLike, frames: tuple[int, int] | None = None,
                  panel_size: float = 7.0, seed: int = 0, dpi: int = style.DEFAULT_DPI,
                  region: tuple[float, float, float, float] | None = None) -> Path:
    """Draw ``scene`` (frames FIRST..LAST, 1-based inclusive; default all) to a PNG/PDF/SVG.

    True trajectories get one colour per target with a marker where each starts; detections are
    small dark dots (target returns) and grey crosses (clutter). Above
    ``MAX_DRAWN_DETECTIONS`` detections an evenly random subset (``seed``) is drawn, as the
    title says. region: (xmin, xmax, ymin, ymax) m to zoom into (default: the whole scene).
    """
    style.check_suffix(out_path, style.STATIC_SUFFIXES)
    first, last = (frame - 1 for frame in frame_range(scene, frames))
    names = ["target detection", "clutter", "sensor + field of view", "trajectory start"]
    figure, (ax,), columns = panel_figure(1, panel_size, len(names) + 1, dpi=100)
    prepare_axes(ax, view_extent(scene, region))
    draw_sensors(ax, scene.sensors)

    detections = np.flatnonzero((scene.det_frame >= first) & (scene.det_frame <= last))
    shown = detections
    if len(detections) > MAX_DRAWN_DETECTIONS:
        rng = np.random.default_rng(seed)
        shown = np.sort(rng.choice(detections, MAX_DRAWN_DETECTIONS, replace=False))
    clutter = scene.det_target[shown] < 0
    marker_scale = min(1.0, 3000.0 / max(len(shown), 1)) ** 0.5
    ax.scatter(*scene.det_xy[shown][clutter].T, s=14 * marker_scale, marker="x",
               c=style.CLUTTER_COLOUR, linewidths=0.6, rasterized=True, zorder=1)
    ax.scatter(*scene.det_xy[shown][~clutter].T, s=5 * marker_scale, c=style.TARGET_RETURN_COLOUR,
               linewidths=0, rasterized=True, zorder=2)

    truth = truth_rows(scene)
    window_rows = truth.take(slice(truth.offsets[first], truth.offsets[last + 1]))
    trails = Trails.from_rows(window_rows)
    ax.add_collection(LineCollection(trails.segments, colors=style.id_colours(trails.ids),
                                     linewidths=1.6, alpha=0.9, zorder=3), autolim=False)
    starts = _first_rows(window_rows)
    crowding = min(1.0, 50.0 / max(len(starts), 1))  # smaller start circles for many targets
    ax.scatter(*window_rows.xy[starts].T, s=18 * crowding**0.5, facecolors="white",
               edgecolors=style.id_colours(window_rows.ids[starts]),
               linewidths=0.5 + 0.7 * crowding, zorder=4)

    targets = len(np.unique(window_rows.ids))
    sampled = f", {len(shown):,} drawn" if len(shown) < len(detections) else ""
    ax.set_title(
        f"{scene.config.name}: {targets} targets, frames {first + 1}-{last + 1}\n"
        f"{len(detections):,} detections ({np.mean(scene.det_target[detections] < 0):.0%} "
        f"clutter{sampled})", fontsize=10,
    )
    handles = [style.legend_entry(name) for name in names]
    handles.insert(2, style.legend_entry("true trajectory (colour per target)"))
    figure.legend(handles=handles, loc="lower center", ncol=columns, fontsize=8, frameon=False)
    return style.save_figure(figure, out_path, dpi)


def _first_rows(rows: PointRows) -> np.ndarray:
    """Index of each id's first row (rows are sorted by frame, so the first occurrence)."""
    return np.unique(rows.ids, return_index=True)[1]
