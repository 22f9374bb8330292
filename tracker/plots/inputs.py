"""What the picture commands share on their command line: frame ranges, labels, tracks files,
evaluation events (imported lazily: the evaluation pulls in motmetrics and torch)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from common.errors import InputError
from tracker.plots.events import EventRows
from tracker.tracks_io import TrackTable, read_tracks


class FrameRange(click.ParamType):
    """``FIRST:LAST``, 1-based inclusive frame numbers (either side may be left out)."""

    name = "FIRST:LAST"

    def convert(self, value, param, ctx) -> tuple[int | None, int | None]:
        if isinstance(value, tuple):
            return value
        first, sep, last = str(value).partition(":")
        try:
            if not sep:
                raise ValueError
            return (int(first) if first.strip() else None, int(last) if last.strip() else None)
        except ValueError:
            self.fail(f"{value!r} is not FIRST:LAST (for example 10:200, or 50: for 50 to the end)",
                      param, ctx)


class Region(click.ParamType):
    """``XMIN,XMAX,YMIN,YMAX`` in metres: the area to zoom into."""

    name = "XMIN,XMAX,YMIN,YMAX"

    def convert(self, value, param, ctx) -> tuple[float, float, float, float]:
        if isinstance(value, tuple):
            return value
        try:
            xmin, xmax, ymin, ymax = (float(part) for part in str(value).split(","))
        except ValueError:
            self.fail(f"{value!r} is not XMIN,XMAX,YMIN,YMAX (for example -500,500,0,1000)",
                      param, ctx)
        if not (xmin < xmax and ymin < ymax):
            self.fail(f"{value!r}: need XMIN < XMAX and YMIN < YMAX", param, ctx)
        return xmin, xmax, ymin, ymax


def region_option(function):
    """The ``--region`` option of the picture commands."""
    return click.option("--region", type=Region(), default=None,
                        help="Zoom into XMIN,XMAX,YMIN,YMAX metres (widened to a square); "
                             "default: the whole scene.")(function)


def resolve_frames(frames: tuple[int | None, int | None] | None,
                   num_frames: int) -> tuple[int, int] | None:
    """Fill the open ends of a FrameRange with 1 and ``num_frames``; None stays None (all)."""
    if frames is None:
        return None
    first, last = frames
    return (1 if first is None else first, num_frames if last is None else last)


def labels_for(paths: list[Path], labels: tuple[str, ...]) -> list[str]:
    """One distinct panel/legend label per input file: the given ``labels`` or the file stems."""
    if labels and len(labels) != len(paths):
        raise InputError(f"got {len(labels)} --label value(s) for {len(paths)} input file(s)")
    chosen = list(labels) or [path.stem for path in paths]
    if len(set(chosen)) < len(chosen):
        chosen = [f"{label} ({i})" for i, label in enumerate(chosen, start=1)]
    return chosen


def read_labelled_tracks(paths: list[str | os.PathLike],
                         labels: tuple[str, ...]) -> dict[str, TrackTable]:
    """Tracks files (``hste track`` CSV) keyed by label, in command-line order."""
    paths = [Path(path) for path in paths]
    return {label: read_tracks(path)
            for label, path in zip(labels_for(paths, labels), paths, strict=True)}


def scored_events(scene, tracks: dict[str, TrackTable],
                  match_distance: float | None = None) -> dict[str, EventRows]:
    """Evaluation events (ID switches, false tracks) per label, scored as ``hste evaluate`` does
    (its default match distance unless ``match_distance`` m is given)."""
    from tracker.evaluation import EvaluationConfig
    from tracker.plots.scored_events import evaluation_events

    config = EvaluationConfig() if match_distance is None else EvaluationConfig(
        match_distance=match_distance)
    return {label: evaluation_events(scene, table, config, label)
            for label, table in tracks.items()}
