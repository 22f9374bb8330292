"""Benchmark results (``hste bench sorting|jigsaw`` results.csv): metric against size per method."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import NullLocator, ScalarFormatter

from common.errors import InputError
from tracker.plots import style
from tracker.plots.lines import draw_lines, panel_grid, shared_legend
from tracker.plots.tables import numeric_columns, require_numbers

SIZE_COLUMNS = ("size", "N", "M")
SIZE_LABELS = {"size": "problem size (N or M)", "N": "N (numbers to sort)",
               "M": "M (pieces per side)"}
KEY_COLUMNS = ("method", "seed")


def plot_bench(table: Mapping[str, np.ndarray], out_path: str | os.PathLike,
               metrics: Sequence[str] | None = None, title: str = "Benchmark",
               dpi: int = style.DEFAULT_DPI) -> Path:
    """One panel per metric against problem size, one line per method: mean over seeds, with a
    band of +- one standard deviation over seeds (none with one seed).

    table: the long-format results (method, size or N or M, seed, one column per metric).
    """
    size_name = next((name for name in SIZE_COLUMNS if name in table), None)
    if size_name is None or "method" not in table:
        raise InputError("results need a 'method' column and a size column "
                         f"({' or '.join(SIZE_COLUMNS)}); found {', '.join(table)}")
    available = numeric_columns(table, exclude=(size_name, *KEY_COLUMNS))
    chosen = list(metrics) if metrics else available
    missing = [name for name in chosen if name not in available]
    if missing or not chosen:
        raise InputError(f"metric(s) {', '.join(missing) or '(none)'} not in the results; "
                         f"available: {', '.join(available) or '(none)'}")
    require_numbers("results", size_name, table[size_name], every=True)
    for name in chosen:
        require_numbers("results", name, table[name])
    sizes = np.asarray(table[size_name], dtype=np.float64)
    methods = np.asarray(table["method"]).astype(str)
    figure, axes = panel_grid(len(chosen), title, columns=min(3, len(chosen)))
    for ax, name in zip(axes, chosen, strict=True):
        x, mean, spread = {}, {}, {}
        for method in dict.fromkeys(methods):
            rows = methods == method
            x[method], mean[method], spread[method] = mean_over_seeds(sizes[rows],
                                                                      table[name][rows])
        draw_lines(ax, x, mean, name, SIZE_LABELS[size_name], spread)
        if sizes.min() > 0 and sizes.max() / sizes.min() >= 8:
            ax.set_xscale("log")
            ax.set_xticks(np.unique(sizes), minor=False)
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_locator(NullLocator())
    shared_legend(figure, axes)
    return style.save_figure(figure, out_path, dpi)


def mean_over_seeds(sizes: np.ndarray, values: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct size (sorted): the mean of ``values`` and their standard deviation (ddof 0)."""
    unique, group = np.unique(sizes, return_inverse=True)
    count = np.bincount(group)
    mean = np.bincount(group, weights=values) / count
    variance = np.bincount(group, weights=(values - mean[group]) ** 2) / count
    return unique, mean, np.sqrt(variance)
