"""The training log (``hste train``'s log.csv): loss and validation scores per epoch."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from common.errors import InputError
from tracker.plots import style
from tracker.plots.lines import draw_lines, panel_grid, shared_legend

AXIS_LABELS = {
    "loss": "training loss",
    "val_mota": "validation MOTA",
    "val_idf1": "validation IDF1",
}
BASELINE_PREFIX = "gnn_"


def default_columns(table: Mapping[str, np.ndarray]) -> list[str]:
    """``loss`` and every ``val_*`` column of a training log, in file order."""
    return [name for name in table if name == "loss" or name.startswith("val_")]


def plot_training(logs: Mapping[str, Mapping[str, np.ndarray]], out_path: str | os.PathLike,
                  columns: Sequence[str] | None = None, dpi: int = style.DEFAULT_DPI) -> Path:
    """One panel per logged quantity against epoch, one line per run (label -> log columns).

    A ``gnn_<column>`` column, when the log has one, is drawn dashed beside ``<column>``: the
    classical baseline scored on the same validation scenes.
    """
    for label, table in logs.items():
        if "epoch" not in table:
            raise InputError(f"{label}: no 'epoch' column (not a training log?)")
    chosen = list(columns) if columns else default_columns(next(iter(logs.values())))
    missing = [name for name in chosen if any(name not in table for table in logs.values())]
    if missing or not chosen:
        available = ", ".join(next(iter(logs.values())))
        raise InputError(f"column(s) {', '.join(missing) or '(none)'} not in every log; "
                         f"available: {available}")
    figure, axes = panel_grid(len(chosen), "Training", columns=min(3, len(chosen)))
    epochs = {label: table["epoch"] for label, table in logs.items()}
    for ax, name in zip(axes, chosen, strict=True):
        draw_lines(ax, epochs, {label: table[name] for label, table in logs.items()},
                   AXIS_LABELS.get(name, name), "epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        groups = baseline_groups(logs, name)
        for members in groups.values():
            suffix = f" ({', '.join(members)})" if len(groups) > 1 else ""
            first = logs[members[0]]
            ax.plot(first["epoch"], first[BASELINE_PREFIX + name], ls="--", color="0.35", lw=1.3,
                    label=f"gnn baseline{suffix}")
    shared_legend(figure, axes)
    return style.save_figure(figure, out_path, dpi)


def baseline_groups(logs: Mapping[str, Mapping[str, np.ndarray]], name: str
                    ) -> dict[tuple[float, ...], list[str]]:
    """Runs grouped by their ``gnn_<name>`` values: runs validated on the same scenes share one
    baseline, which is then drawn (and listed in the legend) once. Runs without it are left out.
    """
    groups: dict[tuple[float, ...], list[str]] = {}
    for label, table in logs.items():
        baseline = table.get(BASELINE_PREFIX + name)
        if baseline is not None and np.isfinite(baseline).any():
            groups.setdefault(tuple(np.unique(baseline[np.isfinite(baseline)])), []).append(label)
    return groups
