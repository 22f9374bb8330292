"""Shared look of every picture: colours, marker styles, figure saving.

One place decides how truth, detections, clutter and tracks look, so the static plots and the
animation read the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from common.atomic import atomic_path
from common.errors import InputError

# (K, 3) RGB in [0, 1]. Saturated hues readable on white: tab10 without its grey (grey means
# truth and clutter here), then Dark2 without its grey; consecutive ids differ clearly.
TRACK_PALETTE = np.concatenate([
    np.delete(np.asarray(colormaps["tab10"].colors), 7, axis=0),
    np.delete(np.asarray(colormaps["Dark2"].colors), 7, axis=0),
])

TRUTH_TRAIL_RGBA = (0.45, 0.45, 0.45, 0.3)
TARGET_RETURN_COLOUR = "0.15"
CLUTTER_COLOUR = "0.70"
SENSOR_COLOUR = "tab:blue"
SWITCH_COLOUR = "red"
FALSE_TRACK_COLOUR = "darkorange"
TENTATIVE_RGBA = (0.55, 0.55, 0.55, 0.35)  # tentative tracks in animations ("faint")

TRACK_EXAMPLE_COLOUR = "tab:green"

STATIC_SUFFIXES = (".png", ".pdf", ".svg")
DEFAULT_DPI = 150


def key_colours() -> np.ndarray:
    """(K, 3) RGB in [0, 1] of every colour a picture must show exactly: the track palette, the
    marks' colours, black and white (an 8-bit GIF palette keeps these)."""
    marks = [SENSOR_COLOUR, SWITCH_COLOUR, FALSE_TRACK_COLOUR, TARGET_RETURN_COLOUR,
             CLUTTER_COLOUR, "black", "white"]
    return np.concatenate([TRACK_PALETTE, [to_rgb(colour) for colour in marks]])


def id_colours(ids: np.ndarray) -> np.ndarray:
    """Stable RGBA colour (n, 4) per track id (n,): the same id always gets the same colour."""
    rgb = TRACK_PALETTE[(np.asarray(ids, dtype=np.int64) - 1) % len(TRACK_PALETTE)]
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


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = DEFAULT_DPI) -> Path:
    """Write ``fig`` atomically as PNG, PDF or SVG (from the extension); return the path."""
    path = check_suffix(path, STATIC_SUFFIXES)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    return path


_LEGEND_STYLES = {
    "target detection": dict(ls="", marker="o", ms=4, color=TARGET_RETURN_COLOUR),
    "clutter": dict(ls="", marker="x", ms=5, color=CLUTTER_COLOUR),
    "true trajectory": dict(lw=2.5, color=TRUTH_TRAIL_RGBA),
    "true trajectory (colour per target)": dict(lw=1.6, color="tab:purple"),
    "sensor + field of view": dict(ls="", marker="^", ms=7, color=SENSOR_COLOUR),
    "confirmed track + id": dict(marker="o", ms=6, lw=1.8, color=TRACK_EXAMPLE_COLOUR),
    "tentative track": dict(marker="o", ms=6, lw=1.0, mfc="white", color=TRACK_EXAMPLE_COLOUR,
                            alpha=0.7),
    "covariance ellipse": dict(ls="", marker="o", ms=14, mfc="none", color=TRACK_EXAMPLE_COLOUR),
    "ID switch": dict(ls="", marker="*", ms=11, color=SWITCH_COLOUR, mec="black", mew=0.5),
    "false track": dict(ls="", marker="s", ms=8, mfc="none", mew=1.6, color=FALSE_TRACK_COLOUR),
}
_LEGEND_STYLES["track start"] = _LEGEND_STYLES["trajectory start"] = dict(
    ls="", marker="o", ms=5, mfc="white", color="0.3"
)


def legend_entry(name: str) -> Line2D:
    """A legend proxy artist for one of the marks every picture shares, labelled ``name``."""
    return Line2D([], [], label=name, **_LEGEND_STYLES[name])
