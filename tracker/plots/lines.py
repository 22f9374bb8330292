"""Small multiples of line charts: one panel per quantity, one line per run, shared x axis."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tracker.plots import style


def panel_grid(count: int, title: str, columns: int = 2) -> tuple[Figure, list[Axes]]:
    """A figure with ``count`` panels in rows of ``columns`` (fewer when count is smaller)."""
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(5.2 * columns, 3.3 * rows + 0.6), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for spare in axes[count:]:
        spare.set_visible(False)
    figure.suptitle(title, fontsize=12, fontweight="bold")
    return figure, list(axes[:count])


def draw_lines(ax: Axes, x: Mapping[str, np.ndarray], y: Mapping[str, np.ndarray],
               ylabel: str, xlabel: str, spread: Mapping[str, np.ndarray] | None = None) -> None:
    """One labelled line per key of ``y`` against ``x[key]``; ``spread[key]`` draws +- bands.

    The y axis turns logarithmic when every value is positive and they span over 2 decades.
    """
    for key, values in y.items():
        (line,) = ax.plot(x[key], values, marker="o" if len(values) <= 30 else None, ms=4,
                          lw=1.6, label=key)
        if spread is not None:
            ax.fill_between(x[key], values - spread[key], values + spread[key],
                            color=line.get_color(), alpha=0.18, linewidth=0)
    finite = np.concatenate([np.asarray(v, float) for v in y.values()])
    finite = finite[np.isfinite(finite)]
    if len(finite) and finite.min() > 0 and finite.max() / finite.min() > 100:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, color="0.9", linewidth=0.6)
    if len(y) > 1:
        ax.legend(fontsize=8)


def save_lines(figure: Figure, out_path: str | os.PathLike) -> Path:
    """Write a line-chart figure (PNG/PDF/SVG) atomically."""
    return style.save_figure(figure, out_path, dpi=120)
