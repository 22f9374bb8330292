"""``hste animate``: a scene and one or more trackers' tracks as a GIF or MP4."""

from __future__ import annotations

from pathlib import Path

import click

from common.atomic import refuse_overwriting_inputs
from common.cli_types import FiniteFloatRange
from tracker.plots.animation import TENTATIVE_STYLES, animate, check_output
from tracker.plots.inputs import (
    FrameRange,
    read_labelled_tracks,
    region_option,
    resolve_frames,
    scored_events,
)
from tracker.scene_source import load_scene


@click.command("animate")
@click.argument("scene_path", metavar="SCENE.npz", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("tracks_paths", metavar="[TRACKS.csv]...", nargs=-1,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Animation to write: .gif (Pillow) or .mp4 (needs ffmpeg); or .png for "
                   "one frame (--frames K:K).")
@click.option("--label", "labels", multiple=True,
              help="Panel title per tracks file, in order (default: the file names).")
@click.option("--frames", type=FrameRange(), default=None,
              help="Frames to draw, FIRST:LAST, 1-based inclusive (default: all).")
@click.option("--fps", type=FiniteFloatRange(min=0.1), default=10.0, show_default=True,
              help="Frames per second of the output.")
@click.option("--trail", type=click.IntRange(min=1), default=15, show_default=True,
              help="Length of the fading track and truth trails, in frames.")
@click.option("--panel-size", type=FiniteFloatRange(min=1.0, max=20.0), default=5.0,
              show_default=True, help="Size of each (square) panel in inches.")
@click.option("--dpi", type=click.IntRange(min=20, max=600), default=100, show_default=True,
              help="Pixels per inch (the frame is about panel-size x dpi pixels per panel).")
@click.option("--sigma", type=FiniteFloatRange(min=0.0, min_open=True), default=2.0,
              show_default=True, help="Covariance ellipses at this many standard deviations.")
@region_option
@click.option("--tentative", type=click.Choice(TENTATIVE_STYLES), default="faint",
              show_default=True,
              help="Tentative tracks: faint (thin translucent grey, no ellipse or id), hide, or "
                   "show (in their id colours, hollow and dashed).")
@click.option("--mark-events", is_flag=True,
              help="Mark ID switches and false tracks as `hste evaluate` scores them.")
@click.option("--match-distance", type=FiniteFloatRange(min=0.0, min_open=True), default=None,
              help="With --mark-events: largest track-target distance (m) that counts as a "
                   "match (default: hste evaluate's).")
def animate_command(scene_path: Path, tracks_paths: tuple[Path, ...], output: Path,
                    labels: tuple[str, ...], frames, fps: float, trail: int, panel_size: float,
                    dpi: int, sigma: float, region, tentative: str, mark_events: bool,
                    match_distance: float | None) -> None:
    """Animate a scene with the tracks of one or more trackers, one panel per tracks file.

    Per frame: detections (clutter apart from target returns), the true trajectories as faint
    trails, each confirmed track in a stable colour per id with a fading trail, covariance
    ellipse and id, tentative tracks faint (or --tentative hide / show), the sensors' fields of
    view, a frame counter. With --mark-events, ID switches get a red star (kept for --trail
    frames) and tracks that match no target an orange square.

    \b
    Example:
        hste simulate --preset crossing --seed 1 -o scene.npz
        hste track scene.npz --assoc gnn -o gnn.csv
        hste animate scene.npz gnn.csv --label gnn --mark-events -o gnn.gif
        hste animate scene.npz gnn.csv learned.csv --frames 20:80 -o compare.gif
        hste animate scene.npz gnn.csv --frames 50:50 --region -800,0,1000,1800 -o zoom.png
    """
    check_output(output)
    refuse_overwriting_inputs([output], [scene_path, *tracks_paths])
    scene = load_scene(scene_path, require_frames=False)
    tracks = read_labelled_tracks(list(tracks_paths), labels)
    events = None
    if mark_events:
        events = scored_events(scene, tracks, match_distance)
    summary = animate(scene, tracks, output, events=events,
                      frames=resolve_frames(frames, scene.num_frames), fps=fps, trail=trail,
                      panel_size=panel_size, dpi=dpi, sigma=sigma, region=region,
                      tentative=tentative)
    frames_text = "1 frame" if summary.frames == 1 else f"{summary.frames} frames"
    click.echo(f"wrote {summary.path}: {frames_text} of {summary.width} x "
               f"{summary.height} px in {summary.seconds:.1f} s")
