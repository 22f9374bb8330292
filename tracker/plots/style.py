"""Shared look of every picture: colours, marker styles, figure saving.

One place decides how truth, detections, clutter and tracks look, so the static plots and the
animation read the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from sim.atomic import atomic_path
from sim.errors import InputError

# Saturated hues readable on white: tab10 without its grey (grey means truth and clutter here),
# then Dark2 without its grey; consecutive ids get clearly different colours.
_TRACK_PALETTE = np.concatenate([
    np.delete(np.asarray(colormaps["tab10"].colors), 7, axis=0),
    np.delete(np.asarray(colormaps["Dark2"].colors), 7, axis=0),
])

TRUTH_COLOUR = "0.55"
TARGET_RETURN_COLOUR = "0.15"
CLUTTER_COLOUR = "0.70"
SENSOR_COLOUR = "tab:blue"
SWITCH_COLOUR = "red"
FALSE_TRACK_COLOUR = "darkorange"

STATIC_SUFFIXES = (".png", ".pdf", ".svg")


def id_colours(ids: np.ndarray) -> np.ndarray:
    """Stable RGBA colour (n, 4) per track id (n,): the same id always gets the same colour."""
    rgb = _TRACK_PALETTE[(np.asarray(ids, dtype=np.int64) - 1) % len(_TRACK_PALETTE)]
    return np.concatenate([rgb, np.ones((len(rgb), 1))], axis=1)


def check_suffix(path: str | os.PathLike, allowed: tuple[str, ...]) -> Path:
    """Return ``path`` as a Path; InputError unless its extension is one of ``allowed``."""
    path = Path(path)
    if path.suffix.lower() not in allowed:
        raise InputError(
            f"{path}: unknown output extension {path.suffix or '(none)'!r}; use one of "
            + ", ".join(allowed)
        )
    return path


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 150) -> Path:
    """Write ``fig`` atomically as PNG, PDF or SVG (from the extension); return the path."""
    path = check_suffix(path, STATIC_SUFFIXES)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    return path
