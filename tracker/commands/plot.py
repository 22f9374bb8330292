"""``hste plot scenario|tracks|metrics|training|bench``: static pictures (PNG, PDF or SVG)."""

from __future__ import annotations

from pathlib import Path

import click

from common.atomic import refuse_overwriting_inputs
from common.cli_types import SEED
from tracker.plots.bench import plot_bench
from tracker.plots.inputs import (
    FrameRange,
    labels_for,
    read_labelled_tracks,
    region_option,
    resolve_frames,
    scored_events,
)
from tracker.plots.metrics import plot_metrics
from tracker.plots.scenario import plot_scenario
from tracker.plots.style import DEFAULT_DPI, STATIC_SUFFIXES, check_suffix
from tracker.plots.tables import read_columns
from tracker.plots.tracks import plot_tracks
from tracker.plots.training import plot_training
from tracker.scene_source import load_scene

_FILE = click.Path(dir_okay=False, path_type=Path)


def _check_output(output: Path, inputs) -> None:
    """InputError for a picture suffix we cannot write, or an output that is also an input."""
    check_suffix(output, STATIC_SUFFIXES)
    refuse_overwriting_inputs([output], inputs)


def _output(function):
    function = click.option("--dpi", type=click.IntRange(min=20, max=1200), default=DEFAULT_DPI,
                            show_default=True, help="Pixels per inch of a PNG.")(function)
    return click.option("-o", "--output", type=_FILE, required=True,
                        help="Picture to write: .png, .pdf or .svg.")(function)


def _labels(function):
    return click.option("--label", "labels", multiple=True,
                        help="Label per input file, in order (default: the file names).")(function)


def _frames(function):
    return click.option("--frames", type=FrameRange(), default=None,
                        help="Frames to draw, FIRST:LAST, 1-based inclusive (default: all).")(
                            function)


def _metrics(function):
    return click.option("--metric", "metrics", multiple=True,
                        help="Column to draw; repeat for several (default: the usual ones).")(
                            function)


def _read_tables(paths: tuple[Path, ...], labels: tuple[str, ...]) -> dict:
    return {label: read_columns(path)
            for label, path in zip(labels_for(list(paths), labels), paths, strict=True)}


def _done(path: Path) -> None:
    click.echo(f"wrote {path}")


@click.command("scenario")
@click.argument("scene_path", metavar="SCENE.npz", type=_FILE)
@_output
@_frames
@region_option
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="Seed of the subset of detections drawn for very large scenes.")
def scenario(scene_path: Path, output: Path, dpi: int, frames, region, seed: int) -> None:
    """Scenario overview: true trajectories, detections (clutter apart), sensors, fields of view.

    \b
    Example:
        hste simulate --preset crossing --seed 1 -o scene.npz
        hste plot scenario scene.npz -o scene.png
    """
    _check_output(output, [scene_path])
    scene = load_scene(scene_path, require_frames=False)
    _done(plot_scenario(scene, output, resolve_frames(frames, scene.num_frames), seed=seed,
                        dpi=dpi, region=region))


@click.command("tracks")
@click.argument("scene_path", metavar="SCENE.npz", type=_FILE)
@click.argument("tracks_paths", metavar="TRACKS.csv...", nargs=-1, required=True, type=_FILE)
@_output
@_labels
@_frames
@click.option("--mark-switches", is_flag=True,
              help="Star the ID switches, as `hste evaluate` counts them.")
@region_option
@click.option("--all-tracks", is_flag=True,
              help="Also draw the tracks that were never confirmed (hidden by default).")
def tracks(scene_path: Path, tracks_paths: tuple[Path, ...], output: Path, dpi: int,
           labels: tuple[str, ...], frames, mark_switches: bool, region,
           all_tracks: bool) -> None:
    """Tracks over truth, one panel per tracks file (tracks never confirmed left out).

    \b
    Example:
        hste plot tracks scene.npz gnn.csv learned.csv --label gnn --label learned -o tracks.png
    """
    _check_output(output, [scene_path, *tracks_paths])
    scene = load_scene(scene_path, require_frames=False)
    tables = read_labelled_tracks(list(tracks_paths), labels)
    events = scored_events(scene, tables) if mark_switches else None
    _done(plot_tracks(scene, tables, output, resolve_frames(frames, scene.num_frames), events,
                      dpi=dpi, all_tracks=all_tracks, region=region))


@click.command("metrics")
@click.argument("csv_paths", metavar="PER_FRAME.csv...", nargs=-1, required=True, type=_FILE)
@_output
@_labels
@_metrics
@click.option("--smooth", type=click.IntRange(min=1), default=1, show_default=True,
              help="Centred moving average over this many frames.")
def metrics(csv_paths: tuple[Path, ...], output: Path, dpi: int, labels: tuple[str, ...],
            metrics: tuple[str, ...], smooth: int) -> None:
    """Per-frame metrics (GOSPA components, association accuracy), one line per tracker.

    The inputs are `hste evaluate`'s per-frame CSV files (a `frame` column, one per metric).

    \b
    Example:
        hste plot metrics gnn_frames.csv learned_frames.csv --label gnn --label learned \\
            --smooth 5 -o metrics.png
    """
    _check_output(output, csv_paths)
    _done(plot_metrics(_read_tables(csv_paths, labels), output, metrics, smooth, dpi))


@click.command("training")
@click.argument("log_paths", metavar="LOG.csv...", nargs=-1, required=True, type=_FILE)
@_output
@_labels
@_metrics
def training(log_paths: tuple[Path, ...], output: Path, dpi: int, labels: tuple[str, ...],
             metrics: tuple[str, ...]) -> None:
    """Training log: loss and validation scores per epoch (gnn baseline dashed), a line per run.

    \b
    Example:
        hste plot training runs/hste/log.csv runs/sinkhorn/log.csv --label hste \\
            --label sinkhorn -o training.png
    """
    _check_output(output, log_paths)
    _done(plot_training(_read_tables(log_paths, labels), output, metrics, dpi))


@click.command("bench")
@click.argument("results_path", metavar="RESULTS.csv", type=_FILE)
@_output
@_metrics
@click.option("--title", default=None, help="Figure title (default: the results folder name).")
def bench(results_path: Path, output: Path, dpi: int, metrics: tuple[str, ...],
          title: str | None) -> None:
    """Benchmark results of `hste bench sorting|jigsaw`: each metric against N or M, a line per
    method (mean over seeds, band = +- one standard deviation).

    \b
    Example:
        hste plot bench docs/results/sorting/results.csv --metric kendall_tau -o sorting.png
    """
    _check_output(output, [results_path])
    table = read_columns(results_path)
    title = title or f"Benchmark: {results_path.parent.resolve().name}"
    _done(plot_bench(table, output, metrics, title, dpi))
