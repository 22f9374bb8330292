"""Shared figure helpers: one style, atomic PNG output, binary-matrix drawing."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from common.atomic import atomic_path  # noqa: E402

P = ParamSpec("P")
R = TypeVar("R")

DPI = 150
STYLE = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


def styled(draw: Callable[P, R]) -> Callable[P, R]:
    """Run a drawing function under the shared :data:`STYLE` (no global rcParams change)."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with plt.rc_context(STYLE):
            return draw(*args, **kwargs)

    return wrapper


def save_figure(figure: Figure, path: Path) -> Path:
    """Write ``figure`` as a PNG at :data:`DPI` atomically, close it, return ``path``."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return path


def draw_binary_matrix(ax: Axes, matrix: np.ndarray, title: str) -> None:
    """Draw a 0/1 matrix as a grid of black (1) and white (0) cells, without ticks."""
    n_rows, n_cols = matrix.shape
    ax.imshow(matrix, cmap="Greys", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks(np.arange(-0.5, n_cols), minor=True)
    ax.set_yticks(np.arange(-0.5, n_rows), minor=True)
    ax.grid(which="minor", color="0.6", linewidth=1)
    ax.grid(which="major", visible=False)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_title(title, fontsize=8)
