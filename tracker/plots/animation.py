"""Track animations: a scene's detections, truth and one or more trackers' tracks, frame by frame.

``animate(scene, {"gnn": table, ...}, "out.gif")`` draws, per frame and per tracker panel, the
detections (target returns apart from clutter), the true trajectories as faint trails, each track
in a stable colour per id with a fading trail, its covariance ellipse and its id label, the
sensors with their fields of view, a frame counter, a legend and, when the evaluation's events
are given, markers for ID switches and false tracks. Tentative tracks (in dense clutter hundreds
per frame, mostly clutter-born) are drawn ``faint`` by default: thin, grey, translucent, small
hollow points without ellipse or label; ``hide`` leaves them out, ``show`` draws them in their id
colours (hollow, dashed, unlabelled).

Speed comes from blitting: the static part of the figure (axes, sensors, legend) is drawn once, and
each frame restores that background and draws only the moving artists, whose data are array
slices precomputed in :mod:`tracker.plots.layers`. Frames go to a GIF through Pillow (one palette
for all frames, so colours do not flicker) or to an MP4 through an ``ffmpeg`` process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import Collection, EllipseCollection, PathCollection
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.path import Path as MplPath
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D
from PIL import Image
from tqdm import tqdm

from common.atomic import atomic_path
from common.errors import InputError
from tracker.plots import style
from tracker.plots.events import EventRows
from tracker.plots.layers import PointRows, Trails, ellipse_axes, track_rows, truth_rows
from tracker.plots.scene import (
    draw_sensors,
    frame_range,
    panel_figure,
    prepare_axes,
    scene_extent,
    view_extent,
)

SUFFIXES = (".gif", ".mp4", ".png")
TENTATIVE_STYLES = ("faint", "hide", "show")
PALETTE_SAMPLES = 6


@dataclass(frozen=True)
class AnimationSummary:
    """What :func:`animate` wrote: path, frame count, frame size in pixels, seconds spent."""

    path: Path
    frames: int
    width: int
    height: int
    seconds: float


def animate(
    scene,
    tracks: Mapping[str, object] | None,
    out_path: str | os.PathLike,
    *,
    events: Mapping[str, EventRows] | None = None,
    frames: tuple[int, int] | None = None,
    fps: float = 10.0,
    trail: int = 15,
    panel_size: float = 5.0,
    dpi: int = 100,
    sigma: float = 2.0,
    region: tuple[float, float, float, float] | None = None,
    tentative: str = "faint",
    progress: bool = True,
) -> AnimationSummary:
    """Animate ``scene``, one panel per ``tracks`` entry (label -> TrackTable), into a GIF or MP4
    (or draw one frame of it as a PNG still).

    frames: first and last frame to draw, 1-based inclusive like the tracks file (default: all);
    fps: frames per second of the output; trail: length of the fading trails in frames;
    panel_size: inches per (square) panel; dpi: pixels per inch; sigma: covariance ellipse scale
    (2 = the 2-sigma ellipse); region: (xmin, xmax, ymin, ymax) m to zoom into (widened to a
    square; default: the whole scene); events: label -> ID switches / false tracks to mark (see
    :func:`tracker.plots.scored_events.evaluation_events`); a switch stays marked for ``trail``
    frames, a false track is marked in the frames where it is false.
    InputError for an unknown extension, a missing ffmpeg for MP4, an empty scene, a frame range
    outside the scene or tracks that do not fit it; nothing is written then.
    """
    start_time = time.perf_counter()
    path, ffmpeg = check_output(out_path)
    first, last = frame_range(scene, frames)
    if path.suffix.lower() == ".png" and first != last:
        raise InputError(f"a .png holds one frame, not frames {first}..{last}; pick it with "
                         "--frames K:K")
    if fps <= 0 or trail < 1 or panel_size <= 0 or dpi < 10 or sigma <= 0:
        raise InputError("fps, panel size and sigma must be > 0, trail >= 1 frame, dpi >= 10")
    if tentative not in TENTATIVE_STYLES:
        raise InputError(f"tentative must be one of {', '.join(TENTATIVE_STYLES)}")
    tracks = dict(tracks or {})
    if tentative == "hide":
        tracks = {label: table.take(np.asarray(table.confirmed, dtype=bool))
                  for label, table in tracks.items()}
    renderer = FrameRenderer(scene, tracks, dict(events or {}), trail, panel_size, dpi,
                             sigma, region, faint_tentative=tentative == "faint")
    indices = range(first - 1, last)
    if path.suffix.lower() == ".png":
        with atomic_path(path) as tmp:
            renderer.render(indices[0]).save(tmp)
    elif ffmpeg is None:
        _write_gif(path, renderer, indices, fps, progress)
    else:
        _write_mp4(path, ffmpeg, renderer, indices, fps, progress)
    height, width = renderer.shape
    return AnimationSummary(path, len(indices), width, height, time.perf_counter() - start_time)


def check_output(out_path: str | os.PathLike) -> tuple[Path, str | None]:
    """(path, ffmpeg executable or None for GIF); InputError for another extension, or for MP4
    when ffmpeg is not installed. Cheap: call it before loading anything."""
    path = style.check_suffix(out_path, SUFFIXES)
    if path.suffix.lower() != ".mp4":
        return path, None
    found = shutil.which("ffmpeg")
    if found is None:
        raise InputError("MP4 output needs ffmpeg, which is not installed; write a .gif instead")
    return path, found


class FrameRenderer:
    """Draws frame after frame of one figure by blitting; ``render(k)`` -> RGB Pillow image."""

    def __init__(self, scene, tracks: dict, events: dict, trail: int, panel_size: float,
                 dpi: int, sigma: float, region: tuple[float, float, float, float] | None = None,
                 faint_tentative: bool = False):
        unknown = sorted(set(events) - set(tracks))
        if unknown:
            raise InputError(f"events given for unknown tracker(s): {', '.join(unknown)}")
        extent = scene_extent(scene)
        rows = {
            label: track_rows(table, scene.num_frames, label, extent)
            for label, table in tracks.items()
        }
        labels = list(tracks) or [""]
        handles = legend_handles(bool(tracks), bool(events))
        self.figure, axes, columns = panel_figure(len(labels), panel_size, len(handles), dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        truth_trails = Trails.from_rows(truth_rows(scene))
        self.panels = [
            Panel(ax, scene, view_extent(scene, region), label, truth_trails, rows.get(label),
                  events.get(label), trail, sigma, faint_tentative)
            for ax, label in zip(axes, labels, strict=True)
        ]
        self.figure.legend(handles=handles, loc="lower center", ncol=columns,
                           fontsize=8, frameon=False)
        self.scene = scene
        self.counter = self.figure.text(0.01, 0.985, "", va="top", fontsize=10,
                                        family="monospace", animated=True)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        self.shape = np.asarray(self.canvas.buffer_rgba()).shape[:2]

    def render(self, k: int) -> Image.Image:
        """RGB image of 0-based frame ``k``, of size ``self.shape`` (height, width) pixels."""
        self.canvas.restore_region(self.background)
        for panel in self.panels:
            panel.draw(k)
        time_s = self.scene.frame_times[k] - self.scene.frame_times[0]
        self.counter.set_text(f"frame {k + 1}/{self.scene.num_frames}   t = {time_s:.1f} s")
        self.figure.draw_artist(self.counter)
        height, width = self.shape
        return Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba()).convert("RGB")


class Panel:
    """The moving artists of one axes: detections, truth trails, one tracker's tracks, events."""

    def __init__(self, ax, scene, view: np.ndarray, label: str, truth_trails: Trails,
                 tracks: PointRows | None, events: EventRows | None, trail: int, sigma: float,
                 faint_tentative: bool = False):
        prepare_axes(ax, view, label)
        draw_sensors(ax, scene.sensors)
        self.ax, self.scene, self.trail, self.sigma = ax, scene, trail, sigma
        self.faint_tentative = faint_tentative
        self.truth_trails = truth_trails
        self.clutter = scene.det_target < 0
        self.artists: list = []
        self.truth_lines = self._add(_segment_collection(ax, 2.5, zorder=2))
        self.truth_lines.set_edgecolor(style.TRUTH_TRAIL_RGBA)
        self.target_dets = self._add(ax.scatter([], [], s=9, c=style.TARGET_RETURN_COLOUR,
                                                marker="o", linewidths=0, zorder=3))
        self.clutter_dets = self._add(ax.scatter([], [], s=10, c=style.CLUTTER_COLOUR,
                                                 marker="x", linewidths=0.8, zorder=2.5))
        self.tracks = tracks
        if tracks is None:
            return
        self.track_trails = Trails.from_rows(tracks)
        self.track_lines = self._add(_segment_collection(ax, 1.8, zorder=4))
        self.ellipses = self._add(EllipseCollection(
            [], [], [], units="xy", offsets=np.zeros((0, 2)), offset_transform=ax.transData,
            facecolors="none", linewidths=1.0, zorder=4))
        self.points = self._add(ax.scatter([], [], s=28, linewidths=1.4, zorder=5))
        self.id_labels = self._add(IdLabels(ax))
        self.events = events.located(tracks) if events is not None else None
        if self.events is not None:
            self.switches = self._add(ax.scatter([], [], s=150, marker="*", zorder=6,
                                                 c=style.SWITCH_COLOUR, edgecolors="black",
                                                 linewidths=0.5))
            self.false_tracks = self._add(ax.scatter([], [], s=90, marker="s", zorder=6,
                                                     facecolors="none", linewidths=1.6,
                                                     edgecolors=style.FALSE_TRACK_COLOUR))

    def _add(self, artist):
        if isinstance(artist, Collection) and artist.axes is None:
            self.ax.add_collection(artist, autolim=False)
        artist.set_animated(True)
        self.artists.append(artist)
        return artist

    def draw(self, k: int) -> None:
        """Update every moving artist to 0-based frame ``k`` and draw it onto the canvas."""
        self._update_scene(k)
        if self.tracks is not None:
            self._update_tracks(k)
            if self.events is not None:
                self._update_events(k)
        for artist in self.artists:
            self.ax.draw_artist(artist)

    def _update_scene(self, k: int) -> None:
        scene = self.scene
        rows = slice(scene.det_offsets[k], scene.det_offsets[k + 1])
        xy, clutter = scene.det_xy[rows], self.clutter[rows]
        self.target_dets.set_offsets(xy[~clutter])
        self.clutter_dets.set_offsets(xy[clutter])
        self.truth_lines.set_paths([self.truth_trails.compound(k, self.trail)])

    def _update_tracks(self, k: int) -> None:
        trails = self.track_trails
        window = trails.window(k, self.trail)
        colours = self._colours(trails.ids[window], trails.confirmed[window])
        colours[:, 3] *= self._fade(trails.end_frame[window], k)
        self.track_lines.set_paths(list(trails.paths[window]))
        self.track_lines.set_edgecolor(colours)
        self.track_lines.set_linewidth(np.where(trails.confirmed[window], 1.8, 1.0))

        now = self.tracks.at(k)
        xy, ids, confirmed = self.tracks.xy[now], self.tracks.ids[now], self.tracks.confirmed[now]
        colours = self._colours(ids, confirmed)
        faces = colours.copy()
        faces[~confirmed] = (1.0, 1.0, 1.0, 0.0)
        self.points.set_offsets(xy)
        self.points.set_facecolors(faces)
        self.points.set_edgecolors(colours)
        self.points.set_sizes(np.where(confirmed, 28.0, 14.0))
        widths, heights, angles = ellipse_axes(self.tracks.cov[now], self.sigma)
        self.ellipses.set_offsets(xy)
        self.ellipses.set_widths(widths)
        self.ellipses.set_heights(heights)
        self.ellipses.set_angles(angles)
        edges = colours.copy()
        if self.faint_tentative:
            edges[~confirmed, 3] = 0.0
        self.ellipses.set_edgecolor(edges)
        self.ellipses.set_linestyle(["-" if c else "--" for c in confirmed])
        self.id_labels.show(ids[confirmed], xy[confirmed], colours[confirmed])

    def _colours(self, ids: np.ndarray, confirmed: np.ndarray) -> np.ndarray:
        """(n, 4) RGBA of tracks ``ids`` (n,): id colours; tentative ones translucent, or the
        faint grey of ``style.TENTATIVE_RGBA``."""
        colours = style.id_colours(ids)
        if self.faint_tentative:
            colours[~confirmed] = style.TENTATIVE_RGBA
        else:
            colours[~confirmed, 3] = 0.6
        return colours

    def _update_events(self, k: int) -> None:
        recent = self.events.window(k, self.trail)
        kinds, xy = self.events.kind[recent], self.events.xy[recent]
        self.switches.set_offsets(xy[kinds == "switch"])
        now = self.events.window(k, 1)
        self.false_tracks.set_offsets(self.events.xy[now][self.events.kind[now] == "false"])

    def _fade(self, end_frame: np.ndarray, k: int) -> np.ndarray:
        """Opacity of trail segments: 1 for the newest, falling linearly to 1/trail."""
        return 1.0 - (k - end_frame) / self.trail


def _segment_collection(ax, linewidth: float, zorder: float) -> PathCollection:
    """An empty collection for trail segments given as Paths in data coordinates."""
    return PathCollection([], transform=ax.transData, facecolors="none", linewidths=linewidth,
                          capstyle="round", zorder=zorder)


class IdLabels(PathCollection):
    """Track id labels as glyph outlines in one collection: one draw call, not one per label.

    Matplotlib Text artists cost about a millisecond each to draw; the outline of each id is built
    once (TextPath, cached) and placed beside the track's marker, offset by a few points.
    """

    FONT_SIZE = 7.5
    OFFSET_POINTS = (4.0, 4.0)

    def __init__(self, ax):
        dpi = ax.get_figure(root=True).dpi
        super().__init__([], offsets=np.zeros((0, 2)), offset_transform=ax.transData,
                         transform=Affine2D().scale(dpi / 72.0), linewidths=0, zorder=6)
        self._outlines: dict[int, MplPath] = {}
        self._font = FontProperties(weight="bold")

    def show(self, ids: np.ndarray, xy: np.ndarray, colours: np.ndarray) -> None:
        """Label the points xy (n, 2) m with their ids (n,) in colours (n, 4)."""
        self.set_paths([self._outline(int(i)) for i in ids])
        self.set_offsets(xy)
        self.set_facecolor(colours)

    def _outline(self, track_id: int) -> MplPath:
        if track_id not in self._outlines:
            glyphs = TextPath(self.OFFSET_POINTS, str(track_id), size=self.FONT_SIZE,
                              prop=self._font)
            self._outlines[track_id] = glyphs
        return self._outlines[track_id]


def legend_handles(with_tracks: bool, with_events: bool) -> list[Line2D]:
    """Proxy artists naming every kind of mark the animation draws."""
    names = ["target detection", "clutter", "true trajectory", "sensor + field of view"]
    if with_tracks:
        names += ["confirmed track + id", "tentative track", "covariance ellipse"]
    if with_events:
        names += ["ID switch", "false track"]
    return [style.legend_entry(name) for name in names]


def _shown(indices: range, progress: bool) -> Iterator[int]:
    return tqdm(indices, desc="animate", unit="frame", disable=not progress, leave=False)


def _write_gif(path: Path, renderer: FrameRenderer, indices: range, fps: float,
               progress: bool) -> None:
    """Quantise every frame to one palette taken from a few sample frames, then save with Pillow."""
    sample = np.unique(np.linspace(indices[0], indices[-1], PALETTE_SAMPLES).astype(int))
    palette = gif_palette([renderer.render(k) for k in sample])

    def quantised() -> Iterator[Image.Image]:
        for k in _shown(indices, progress):
            yield renderer.render(k).quantize(palette=palette, dither=Image.Dither.NONE)

    images = quantised()
    with atomic_path(path) as tmp:
        next(images).save(tmp, save_all=True, append_images=images, duration=1000.0 / fps,
                          loop=0, optimize=False)


def gif_palette(samples: list[Image.Image]) -> Image.Image:
    """A 256-colour palette image: the exact key colours (tracks, marks), then the median-cut
    colours of the ``samples`` frames (anti-aliased edges, fills, text)."""
    reserved = np.round(style.key_colours() * 255).astype(np.uint8)
    montage = Image.fromarray(np.concatenate([np.asarray(sample) for sample in samples]))
    adaptive = montage.quantize(colors=256 - len(reserved), method=Image.Quantize.MEDIANCUT)
    palette = Image.new("P", (1, 1))
    palette.putpalette(reserved.ravel().tolist()
                       + adaptive.getpalette()[: 3 * (256 - len(reserved))])
    return palette


def _write_mp4(path: Path, ffmpeg: str, renderer: FrameRenderer, indices: range, fps: float,
               progress: bool) -> None:
    """Pipe raw RGB frames (padded to even sizes for yuv420p) into ``ffmpeg`` writing H.264."""
    height, width = renderer.shape
    pad_h, pad_w = height % 2, width % 2
    with atomic_path(path) as tmp, tempfile.TemporaryFile() as log:
        command = [
            ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
            "-s", f"{width + pad_w}x{height + pad_h}", "-r", f"{fps}", "-i", "-",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", str(tmp),
        ]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=log)
        try:
            for k in _shown(indices, progress):
                frame = np.pad(np.asarray(renderer.render(k)), ((0, pad_h), (0, pad_w), (0, 0)),
                               mode="edge")
                process.stdin.write(frame.tobytes())
        except BrokenPipeError:
            pass  # ffmpeg stopped reading; its exit status and message say why
        finally:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
            status = process.wait()
        if status != 0:
            log.seek(0)
            lines = log.read().decode(errors="replace").strip().splitlines() or ["no message"]
            raise InputError(f"ffmpeg could not write {path}: {lines[-1]}")
