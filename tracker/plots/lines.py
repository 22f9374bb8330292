"""Small multiples of line charts: one panel per quantity, one line per run, shared x axis."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure


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


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":")


def draw_lines(ax: Axes, x: Mapping[str, np.ndarray], y: Mapping[str, np.ndarray],
               ylabel: str, xlabel: str, spread: Mapping[str, np.ndarray] | None = None) -> None:
    """One labelled line per key of ``y`` against ``x[key]``; ``spread[key]`` draws +- bands.

    Each line has its own marker (short series) and dash pattern, later ones thinner, so that
    lines lying on top of each other stay visible. The y axis turns logarithmic when every value
    is positive and they span over 2 decades.
    """
    for index, (key, values) in enumerate(y.items()):
        short = len(values) <= 30
        (line,) = ax.plot(x[key], values, label=key, lw=max(2.4 - 0.4 * index, 1.0),
                          ls=LINESTYLES[index % len(LINESTYLES)],
                          marker=MARKERS[index % len(MARKERS)] if short else None,
                          ms=max(8 - 1.3 * index, 3.5), mfc="none" if index else None)
        if spread is not None:
            ax.fill_between(x[key], values - spread[key], values + spread[key],
                            color=line.get_color(), alpha=0.15, linewidth=0)
    finite = np.concatenate([np.asarray(v, float) for v in y.values()])
    finite = finite[np.isfinite(finite)]
    if len(finite) and finite.min() > 0 and finite.max() / finite.min() > 100:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, color="0.9", linewidth=0.6)


def shared_legend(figure: Figure, axes: list[Axes]) -> None:
    """One legend for the whole figure, below the panels: every distinct line label once."""
    entries: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    if entries:
        figure.legend(list(entries.values()), list(entries), loc="outside lower center",
                      ncol=min(len(entries), 5), fontsize=9, frameon=False)
