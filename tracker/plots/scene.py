"""The scene's frame of reference in a picture: axes limits, sensors and their fields of view."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Wedge

from common.errors import InputError
from tracker.plots import style


def frame_range(scene, frames: tuple[int, int] | None) -> tuple[int, int]:
    """Validated 1-based inclusive (first, last) frames of ``scene``; InputError when impossible."""
    total = scene.num_frames
    if total == 0 or (len(scene.truth_frame) == 0 and len(scene.det_frame) == 0):
        raise InputError("the scene is empty (no frames, no targets and no detections to draw)")
    first, last = frames if frames is not None else (1, total)
    if not 1 <= first <= last <= total:
        raise InputError(f"frame range {first}..{last} lies outside the scene's frames 1..{total}")
    return first, last


def scene_extent(scene) -> np.ndarray:
    """Square [[xmin, ymin], [xmax, ymax]] m covering the truth, the target returns and the sensors.

    Square so that equal-aspect axes show it whole in a square panel.
    Clutter is left out: it fills the whole field of view, which can be far larger than the area
    where the targets move (the field of view is still drawn, clipped to these limits).
    """
    target_returns = scene.det_xy[scene.det_target >= 0]
    sensors = np.asarray([sensor.position for sensor in scene.sensors], dtype=np.float64)
    points = np.concatenate(
        [scene.truth_state[:, :2], target_returns, sensors.reshape(-1, 2), scene.det_xy[:1]]
    )
    return _square(points.min(axis=0), points.max(axis=0), margin=0.05)


def view_extent(scene, region: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """The square area a picture shows: ``region`` (xmin, xmax, ymin, ymax) m widened to a
    square around its centre, or (no region) the whole :func:`scene_extent`."""
    if region is None:
        return scene_extent(scene)
    xmin, xmax, ymin, ymax = region
    return _square(np.array([xmin, ymin]), np.array([xmax, ymax]), margin=0.0)


def _square(low: np.ndarray, high: np.ndarray, margin: float) -> np.ndarray:
    """[[xmin, ymin], [xmax, ymax]] of the square with the box's centre, its longer side plus
    ``margin`` of it on each end."""
    half = (0.5 + margin) * max(float(np.max(high - low)), 1.0)
    centre = 0.5 * (low + high)
    return np.stack([centre - half, centre + half])


def prepare_axes(ax: Axes, extent: np.ndarray, title: str = "") -> None:
    """Equal-aspect metric axes over ``extent`` with labels, a light grid and ``title``."""
    ax.set_xlim(extent[0, 0], extent[1, 0])
    ax.set_ylim(extent[0, 1], extent[1, 1])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.grid(True, color="0.92", linewidth=0.6)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title, fontsize=11, fontweight="bold")


def draw_sensors(ax: Axes, sensors) -> None:
    """Each sensor as a triangle with its kind, and its field of view as a shaded annular sector."""
    for number, sensor in enumerate(sensors, start=1):
        x, y = sensor.position
        span = math.degrees(sensor.azimuth_span)
        centre = math.degrees(sensor.orientation)
        sector = (0.0, 360.0) if span >= 360.0 else (centre - span / 2, centre + span / 2)
        ax.add_patch(Wedge(
            (x, y), sensor.max_range, *sector, width=sensor.max_range - sensor.min_range,
            facecolor=style.SENSOR_COLOUR, alpha=0.05, edgecolor="none", zorder=0,
        ))
        ax.add_patch(Wedge(
            (x, y), sensor.max_range, *sector, width=sensor.max_range - sensor.min_range,
            facecolor="none", edgecolor=style.SENSOR_COLOUR, alpha=0.5, linestyle="--",
            linewidth=0.8, zorder=0.5,
        ))
        ax.plot([x], [y], marker="^", markersize=10, color=style.SENSOR_COLOUR, zorder=7,
                markeredgecolor="white")
        ax.annotate(f"{sensor.kind} {number}", (x, y), xytext=(6, -10),
                    textcoords="offset points", fontsize=8, color=style.SENSOR_COLOUR, zorder=7,
                    annotation_clip=True)


def panel_figure(
    panels: int, panel_size: float, legend_entries: int, dpi: int
) -> tuple[Figure, list[Axes], int]:
    """A figure of ``panels`` square axes side by side, room above for titles and the counter and
    below for a legend of ``legend_entries`` entries; returns (figure, axes list, legend columns).

    Margins are fixed in inches so that labels never clip, whatever the panel size.
    """
    left, gap, right, top, bottom = 0.85, 0.85, 0.25, 0.6, 0.55
    width = left + panels * panel_size + (panels - 1) * gap + right
    columns = max(1, min(legend_entries, int(width // 2.0)))
    legend_height = 0.25 * -(-legend_entries // columns) + 0.1
    height = top + panel_size + bottom + legend_height
    figure = Figure(figsize=(width, height), dpi=dpi)
    axes = [
        figure.add_axes((
            (left + i * (panel_size + gap)) / width, (bottom + legend_height) / height,
            panel_size / width, panel_size / height,
        ))
        for i in range(panels)
    ]
    return figure, axes, columns
