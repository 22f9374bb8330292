"""The track animation: GIF/MP4 output, what the frames hold, blitting, bad input."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from test_pictures_data import tiny_scene, truth_tracks

from common.errors import InputError
from tracker.plots import style
from tracker.plots.animation import FrameRenderer, animate
from tracker.plots.events import EventRows
from tracker.plots.layers import PointRows, Trails, ellipse_axes, track_rows
from tracker.plots.scored_events import evaluation_events
from tracker.tracks_io import TrackTable

SMALL = dict(panel_size=3.0, dpi=40, progress=False)


@pytest.fixture(scope="module")
def scene():
    return tiny_scene(frames=12, targets=4)


def gif_frames(path) -> list[np.ndarray]:
    with Image.open(path) as image:
        frames = []
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGB")).astype(int))
    return frames


def test_gif_has_every_frame_at_the_reported_size_and_frames_differ(scene, tmp_path):
    summary = animate(scene, {"truth": truth_tracks(scene)}, tmp_path / "a.gif", **SMALL)
    frames = gif_frames(summary.path)
    assert summary.frames == len(frames) == 12
    assert frames[0].shape == (summary.height, summary.width, 3)
    assert summary.width == round((0.85 + 3.0 + 0.25) * 40)
    for before, after in zip(frames, frames[1:], strict=False):
        assert np.any(before != after)
    for frame in frames:
        assert frame.std() > 10 and (frame.min(axis=2) > 240).mean() > 0.3


def test_each_track_is_drawn_in_its_id_colour(scene, tmp_path):
    tracks = truth_tracks(scene, id_offset=0)
    frames = gif_frames(animate(scene, {"t": tracks}, tmp_path / "c.gif", frames=(6, 8),
                                **SMALL).path)
    assert len(frames) == 3
    for track_id in np.unique(tracks.id):
        colour = np.round(style.id_colours([track_id])[0, :3] * 255)
        close = np.all(np.abs(frames[-1] - colour) <= 12, axis=2)
        assert close.sum() >= 4, f"no pixels in the colour of track {track_id}"


def test_panels_side_by_side_and_a_scene_without_tracks(scene, tmp_path):
    one = animate(scene, {}, tmp_path / "one.gif", frames=(1, 2), **SMALL)
    two = animate(scene, {"a": truth_tracks(scene), "b": truth_tracks(scene, 5)},
                  tmp_path / "two.gif", frames=(1, 2), **SMALL)
    assert two.width - one.width == round((3.0 + 0.85) * 40)
    assert two.height == one.height + 10  # two legend rows more at 40 dpi (0.25 inch each)


def test_a_png_still_is_the_same_picture_as_that_gif_frame(scene, tmp_path):
    tracks = {"t": truth_tracks(scene)}
    still = animate(scene, tracks, tmp_path / "s.png", frames=(7, 7), **SMALL)
    frames = gif_frames(animate(scene, tracks, tmp_path / "a.gif", frames=(5, 7), **SMALL).path)
    with Image.open(still.path) as image:
        pixels = np.asarray(image.convert("RGB")).astype(int)
    assert still.frames == 1 and pixels.shape == frames[-1].shape
    assert np.abs(pixels - frames[-1]).mean() < 3  # only the GIF palette differs


def test_blitting_leaves_nothing_behind(scene):
    renderer = FrameRenderer(scene, {"t": truth_tracks(scene)}, {}, trail=4, panel_size=3.0,
                             dpi=40, sigma=2.0)
    first = np.asarray(renderer.render(5))
    for k in range(scene.num_frames):
        renderer.render(k)
    np.testing.assert_array_equal(np.asarray(renderer.render(5)), first)
    assert np.any(np.asarray(renderer.render(6)) != first)


def test_a_switch_is_marked_for_as_long_as_the_trail(scene, tmp_path):
    tracks = truth_tracks(scene)
    events = EventRows(np.array([4]), np.array([tracks.id[0]]), np.array(["switch"]))
    marked = gif_frames(animate(scene, {"t": tracks}, tmp_path / "m.gif", events={"t": events},
                                trail=2, panel_size=3.0, dpi=80, progress=False).path)
    red = [int(np.all(np.abs(frame - [255, 0, 0]) <= 30, axis=2).sum()) for frame in marked]
    legend_only = red[0]
    assert red[1:4] == [legend_only] * 3 and red[6:] == [legend_only] * 6
    assert min(red[4], red[5]) > legend_only + 10  # frames 5 and 6 (1-based) show the star


def test_events_of_unknown_tracks_are_refused(scene):
    tracks = track_rows(truth_tracks(scene), scene.num_frames)
    with pytest.raises(InputError, match="not in the tracks file"):
        EventRows(np.array([1]), np.array([999]), np.array(["false"])).located(tracks)


def test_mp4_without_ffmpeg_is_one_clear_error_and_no_file(scene, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(InputError, match="needs ffmpeg, which is not installed"):
        animate(scene, {}, tmp_path / "a.mp4", **SMALL)
    assert not any(tmp_path.iterdir())


def test_mp4_frames_are_piped_to_ffmpeg_at_even_size(scene, tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nfor last; do :; done\necho "$@" > "$last.args"\ncat > "$last"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    summary = animate(scene, {}, tmp_path / "out" / "a.mp4", frames=(3, 5), **SMALL)
    width, height = summary.width + summary.width % 2, summary.height + summary.height % 2
    assert summary.path.stat().st_size == 3 * width * height * 3
    assert summary.frames == 3


def test_a_failing_ffmpeg_is_one_clear_error_and_no_file(scene, tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "Unknown encoder libx264" >&2\nexit 1\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(InputError, match="ffmpeg could not write .*Unknown encoder libx264"):
        animate(scene, {}, tmp_path / "out" / "a.mp4", frames=(1, 4), **SMALL)
    assert not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(out="a.avi"), "unknown output extension '.avi'"),
        (dict(out="a.png", frames=(2, 3)), "a .png holds one frame, not frames 2..3"),
        (dict(frames=(0, 3)), "outside the scene's frames 1..12"),
        (dict(frames=(5, 13)), "outside the scene's frames 1..12"),
        (dict(tracks=dict(id_offset=0, shift=1e7)), "far outside the scene"),
        (dict(events=dict(other=EventRows(np.zeros(0, int), np.zeros(0, int), np.zeros(0, str)))),
         "events given for unknown tracker"),
    ],
)
def test_bad_input_is_an_input_error_and_writes_nothing(scene, tmp_path, change, message):
    tracks = {"t": truth_tracks(scene, **change.get("tracks", {}))}
    with pytest.raises(InputError, match=message):
        animate(scene, tracks, tmp_path / change.get("out", "a.gif"),
                frames=change.get("frames"), events=change.get("events"), **SMALL)
    assert not any(tmp_path.iterdir())


def test_tracks_with_frames_beyond_the_scene_are_refused(scene):
    tracks = truth_tracks(scene)
    tracks.frame[-1] = scene.num_frames + 1
    with pytest.raises(InputError, match="do not fit the scene's 12 frames"):
        track_rows(tracks, scene.num_frames)


def test_an_empty_scene_is_refused(tmp_path):
    empty = tiny_scene(frames=3, targets=0, clutter=0.0)
    with pytest.raises(InputError, match="the scene is empty"):
        animate(empty, {}, tmp_path / "a.gif", **SMALL)


def test_ellipse_axes_of_a_rotated_covariance():
    rotation = np.array([[1.0, -1.0], [1.0, 1.0]]) / np.sqrt(2)
    cov = rotation @ np.diag([9.0, 1.0]) @ rotation.T
    widths, heights, angles = ellipse_axes(np.array([[cov[0, 0], cov[0, 1], cov[1, 1]]]), 2.0)
    np.testing.assert_allclose([widths[0], heights[0], angles[0]], [12.0, 4.0, 45.0])


@given(st.floats(0.01, 1e4), st.floats(0.01, 1e4), st.floats(-0.99, 0.99), st.floats(0.5, 3))
def test_ellipse_axes_keep_trace_and_determinant(var_x, var_y, correlation, sigma):
    xy = correlation * np.sqrt(var_x * var_y)
    widths, heights, _ = ellipse_axes(np.array([[var_x, xy, var_y]]), sigma)
    major, minor = (widths[0] / (2 * sigma)) ** 2, (heights[0] / (2 * sigma)) ** 2
    np.testing.assert_allclose(major + minor, var_x + var_y, rtol=1e-9)
    np.testing.assert_allclose(major * minor, var_x * var_y - xy**2, rtol=1e-6,
                               atol=1e-9 * (var_x * var_y))
    assert widths[0] >= heights[0]


def test_trails_join_consecutive_points_of_each_id_and_window_by_end_frame():
    rows = PointRows.build(frame=[0, 1, 2, 0, 2], ids=[7, 7, 7, 9, 9],
                           xy=[[0, 0], [1, 0], [2, 0], [5, 5], [6, 6]], num_frames=3)
    trails = Trails.from_rows(rows)
    np.testing.assert_array_equal(trails.end_frame, [1, 2, 2])
    np.testing.assert_array_equal(trails.ids, [7, 7, 9])
    np.testing.assert_array_equal(trails.segments[2], [[5, 5], [6, 6]])
    window = trails.window(2, 1)
    np.testing.assert_array_equal(trails.ids[window], [7, 9])
    assert len(trails.compound(2, 2).vertices) == 6


def test_evaluation_events_are_the_switches_and_false_tracks_the_scores_count(scene):
    tracks = truth_tracks(scene, tentative_frames=0)
    swapped = (tracks.frame >= 6) & np.isin(tracks.id, [1, 2])
    tracks.id[swapped] = 3 - tracks.id[swapped]
    ghost = TrackTable(np.arange(1, 4), np.full(3, 99), np.full(3, 1e4), np.full(3, 1e4),
                       *np.zeros((5, 3)), np.ones(3, bool))
    events = evaluation_events(scene, TrackTable.concatenate([tracks, ghost]))
    switch = events.kind == "switch"
    np.testing.assert_array_equal(events.frame[switch], [5, 5])
    np.testing.assert_array_equal(np.sort(events.ids[switch]), [1, 2])
    np.testing.assert_array_equal(events.frame[~switch], [0, 1, 2])
    np.testing.assert_array_equal(events.ids[~switch], [99, 99, 99])


def coloured_changes(frame: np.ndarray, background: np.ndarray) -> int:
    """Pixels of ``frame`` that differ from ``background`` and are coloured, not grey (their
    RGB channels spread by more than 40 levels)."""
    changed = np.any(frame != background, axis=2)
    return int((changed & (np.ptp(frame, axis=2) > 40)).sum())


def test_tentative_tracks_are_faint_by_default_hidden_or_shown_on_request(scene, tmp_path):
    """Frame 2: every truth track still tentative. Against the frame without them (hidden, the
    same as drawing the confirmed rows alone), faint colours no pixel, shown (id colours) does."""
    tracks = truth_tracks(scene, tentative_frames=5)
    still = {}
    for mode in ("faint", "hide", "show"):
        path = animate(scene, {"t": tracks}, tmp_path / f"{mode}.png", frames=(2, 2),
                       tentative=mode, **SMALL).path
        still[mode] = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert coloured_changes(still["show"], still["hide"]) >= 20
    assert coloured_changes(still["faint"], still["hide"]) == 0
    assert np.any(still["faint"] != still["hide"])
    confirmed_only = animate(scene, {"t": tracks.take(tracks.confirmed)}, tmp_path / "c.png",
                             frames=(2, 2), tentative="show", **SMALL).path
    np.testing.assert_array_equal(np.asarray(Image.open(confirmed_only).convert("RGB")),
                                  still["hide"])


def test_an_unknown_tentative_style_is_refused(scene, tmp_path):
    with pytest.raises(InputError, match="tentative must be one of"):
        animate(scene, {}, tmp_path / "x.png", frames=(1, 1), tentative="bright", **SMALL)
    assert not (tmp_path / "x.png").exists()
