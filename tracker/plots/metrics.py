"""Per-frame evaluation metrics (``hste evaluate``'s per-frame CSV) for several trackers."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from common.errors import InputError
from tracker.plots import style
from tracker.plots.lines import draw_lines, panel_grid, shared_legend
from tracker.plots.tables import numeric_columns, require_numbers

DEFAULT_METRICS = ("gospa", "gospa_localisation", "gospa_missed", "gospa_false", "prop_wrong",
                   "prop_any_wrong")
AXIS_LABELS = {
    "gospa": "GOSPA [m]",
    "gospa_localisation": "GOSPA localisation\n(sum of squared errors) [m²]",
    "gospa_missed": "missed targets (GOSPA)",
    "gospa_false": "false tracks (GOSPA)",
    "prop_wrong": "Prop. wrong\n(targets not held by their own track)",
    "prop_any_wrong": "Prop. any wrong",
    "targets": "targets in frame",
    "tracks": "tracks in frame",
}


def plot_metrics(tables: Mapping[str, Mapping[str, np.ndarray]], out_path: str | os.PathLike,
                 metrics: Sequence[str] | None = None, smooth: int = 1,
                 dpi: int = style.DEFAULT_DPI) -> Path:
    """One panel per metric against frame, one line per tracker (label -> per-frame columns).

    metrics: columns to draw (default: those of DEFAULT_METRICS present, else every numeric
    column but ``frame``); smooth: centred moving average over this many frames (1 = none).
    """
    if smooth < 1:
        raise InputError("--smooth must be at least 1 frame")
    for label, table in tables.items():
        if "frame" not in table:
            raise InputError(f"{label}: no 'frame' column (not a per-frame metrics CSV?)")
    shared = [name for name in numeric_columns(next(iter(tables.values())), exclude=("frame",))
              if all(name in table for table in tables.values())]
    chosen = list(metrics) if metrics else [m for m in DEFAULT_METRICS if m in shared] or shared
    missing = [name for name in chosen if name not in shared]
    if missing or not chosen:
        raise InputError(f"metric(s) {', '.join(missing) or '(none)'} not in every file; "
                         f"available: {', '.join(shared) or '(none)'}")
    for label, table in tables.items():
        require_numbers(label, "frame", table["frame"], every=True)
    for name in chosen:
        if not any(np.isfinite(table[name]).any() for table in tables.values()):
            raise InputError(f"metric {name}: no finite value in any file, nothing to draw")
    title = "Per-frame metrics" + (f" (moving average over {smooth} frames)" if smooth > 1 else "")
    figure, axes = panel_grid(len(chosen), title)
    frames = {label: table["frame"] for label, table in tables.items()}
    for ax, name in zip(axes, chosen, strict=True):
        values = {label: moving_average(table[name], smooth) for label, table in tables.items()}
        draw_lines(ax, frames, values, AXIS_LABELS.get(name, name), "frame")
    shared_legend(figure, axes)
    return style.save_figure(figure, out_path, dpi)


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centred mean over ``window`` samples of ``values`` (N,), ignoring NaN (NaN where a window
    has no value); (N,) for any window, also one longer than the series."""
    if window == 1:
        return values
    finite = np.isfinite(values)
    kernel = np.ones(window)
    # the full convolution cut to N values centred as numpy's mode="same" centres them (which
    # returns max(N, window) values, so cannot serve when window > N)
    centred = slice((window - 1) // 2, (window - 1) // 2 + len(values))
    sums = np.convolve(np.where(finite, values, 0.0), kernel, mode="full")[centred]
    counts = np.convolve(finite.astype(float), kernel, mode="full")[centred]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)
