"""Tracks over truth: one panel per tracker, every track in its id colour over the grey truth."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.collections import LineCollection

from tracker.plots import style
from tracker.plots.events import EventRows
from tracker.plots.layers import PointRows, Trails, track_rows, truth_rows
from tracker.plots.scene import (
    draw_sensors,
    frame_range,
    panel_figure,
    prepare_axes,
    scene_extent,
    view_extent,
)


def plot_tracks(scene, tracks: Mapping[str, object], out_path: str | os.PathLike,
                frames: tuple[int, int] | None = None,
                events: Mapping[str, EventRows] | None = None, panel_size: float = 6.0,
                dpi: int = style.DEFAULT_DPI, all_tracks: bool = False,
                region: tuple[float, float, float, float] | None = None) -> Path:
    """Draw each tracks table (label -> TrackTable) over ``scene``'s truth, one panel each.

    frames: FIRST..LAST, 1-based inclusive (default all). Confirmed stretches of a track are solid,
    tentative ones thin and faded; a hollow circle marks where each track starts and its id is
    written where it ends. Tracks that were never confirmed (in clutter, most tracks) are left
    out unless ``all_tracks``; the panel title counts them. With ``events`` (label -> EventRows),
    ID switches are starred. region: (xmin, xmax, ymin, ymax) m to zoom into (default: all).
    """
    style.check_suffix(out_path, style.STATIC_SUFFIXES)
    first, last = (frame - 1 for frame in frame_range(scene, frames))
    extent = scene_extent(scene)
    rows = {label: _window(track_rows(table, scene.num_frames, label, extent), first, last)
            for label, table in tracks.items()}
    names = ["true trajectory", "confirmed track + id", "tentative track", "track start",
             "sensor + field of view"] + (["ID switch"] if events else [])
    figure, axes, columns = panel_figure(len(rows), panel_size, len(names), dpi=100)
    truth = Trails.from_rows(_window(truth_rows(scene), first, last))
    for ax, (label, table) in zip(axes, rows.items(), strict=True):
        shown = table if all_tracks else _ever_confirmed(table)
        hidden = len(np.unique(table.ids)) - len(np.unique(shown.ids))
        prepare_axes(ax, view_extent(scene, region), f"{label}: {len(np.unique(shown.ids))} tracks"
                     + (f" (+{hidden} never confirmed, not drawn)" if hidden else ""))
        draw_sensors(ax, scene.sensors)
        ax.add_collection(LineCollection(truth.segments, colors=[style.TRUTH_TRAIL_RGBA],
                                         linewidths=3.0, zorder=1), autolim=False)
        _draw_tracks(ax, shown)
        if events and label in events:
            placed = events[label].located(table)
            switches = placed.kind == "switch"
            ax.scatter(*placed.xy[switches].T, s=120, marker="*", c=style.SWITCH_COLOUR,
                       edgecolors="black", linewidths=0.5, zorder=6)
    figure.text(0.01, 0.99, f"frames {first + 1}-{last + 1} of {scene.num_frames}", va="top",
                fontsize=9)
    figure.legend(handles=[style.legend_entry(name) for name in names], loc="lower center",
                  ncol=columns, fontsize=8, frameon=False)
    return style.save_figure(figure, out_path, dpi)


def _window(rows: PointRows, first: int, last: int) -> PointRows:
    """The rows of 0-based frames first..last."""
    return rows.take(slice(rows.offsets[first], rows.offsets[last + 1]))


def _ever_confirmed(rows: PointRows) -> PointRows:
    """The rows of the ids that are confirmed in at least one frame."""
    return rows.take(np.isin(rows.ids, rows.ids[rows.confirmed]))


def _draw_tracks(ax, rows: PointRows) -> None:
    """Track lines (confirmed solid, tentative thin and faded), start circles and end ids."""
    trails = Trails.from_rows(rows)
    colours = style.id_colours(trails.ids)
    colours[~trails.confirmed, 3] = 0.35
    ax.add_collection(LineCollection(trails.segments, colors=colours,
                                     linewidths=np.where(trails.confirmed, 1.6, 0.8), zorder=3),
                      autolim=False)
    ids, starts = np.unique(rows.ids, return_index=True)
    ends = len(rows.ids) - 1 - np.unique(rows.ids[::-1], return_index=True)[1]
    ax.scatter(*rows.xy[starts].T, s=16, facecolors="white", edgecolors=style.id_colours(ids),
               linewidths=1.1, zorder=4)
    for track_id, (x, y), colour in zip(ids, rows.xy[ends], style.id_colours(ids), strict=True):
        ax.annotate(str(track_id), (x, y), xytext=(3, 3), textcoords="offset points",
                    fontsize=7, fontweight="bold", color=colour, zorder=5, clip_on=True)
