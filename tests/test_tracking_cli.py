"""``hste track`` and ``hste evaluate`` end to end, and their answers to bad input."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from sim import generate
from sim.config import MotionConfig, RadarConfig, ScenarioConfig
from tracker.cli import main
from tracker.commands.evaluate import names_for, per_frame_paths
from tracker.tracks_io import read_tracks


def tiny_scene(targets: int = 3, frames: int = 12):
    motion = MotionConfig(initial_targets=targets, birth_rate=0.0, survival_prob=1.0,
                          birth_region=(-800.0, 800.0, 800.0, 2000.0))
    return generate(ScenarioConfig(frames=frames, motion=motion,
                                   sensors=(RadarConfig(clutter_rate=3.0),)), 3)


@pytest.fixture(scope="module")
def scene_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("scene") / "scene.npz"
    tiny_scene().save(path)
    return path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_refused(result, message, *paths_not_written):
    """Exit 2, one line on stderr naming the problem, no traceback, no output file."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    for path in paths_not_written:
        assert not path.exists()


def test_simulate_track_evaluate(tmp_path):
    scene = tmp_path / "scene.npz"
    assert run("simulate", "--preset", "crossing", "--frames", "15", "--seed", "2", "-o",
               scene).exit_code == 0
    tracks = tmp_path / "gnn.csv"
    result = run("track", scene, "--assoc", "gnn", "-o", tracks, "--quiet")
    assert result.exit_code == 0, result.output
    table = read_tracks(tracks)
    assert table.frame.max() <= 15 and table.confirmed.any()
    scores, frames = tmp_path / "scores.json", tmp_path / "frames.csv"
    result = run("evaluate", scene, tracks, "--json", scores, "--per-frame", frames)
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0].split()
    assert header[:4] == ["tracks", "MOTA", "MOTP_m", "IDF1"]
    document = json.loads(scores.read_text())
    summary = document["tracks"]["gnn"]
    assert 0.0 < summary["MOTA"] <= 1.0 and summary["GT"] > 0
    assert document["settings"]["gospa_p"] == 2
    per_frame = np.genfromtxt(frames, delimiter=",", names=True)
    assert len(per_frame) == 15 and "prop_any_wrong" in per_frame.dtype.names


def test_evaluate_compares_several_tracks_files_in_one_table(tmp_path, scene_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert run("track", scene_path, "-o", first, "--quiet").exit_code == 0
    config = tmp_path / "tracker.toml"
    config.write_text('[management]\ninitiator = "two-point"\n')
    assert run("track", scene_path, "--config", config, "-o", second, "--quiet").exit_code == 0
    result = run("evaluate", scene_path, first, second, "--json", tmp_path / "s.json",
                 "--per-frame", tmp_path / "f.csv")
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()
    assert [row.split()[0] for row in rows[1:]] == ["a", "b"]
    assert (tmp_path / "f_a.csv").exists() and (tmp_path / "f_b.csv").exists()
    assert set(json.loads((tmp_path / "s.json").read_text())["tracks"]) == {"a", "b"}


def test_missing_truncated_and_foreign_scenes_are_refused(tmp_path, scene_path):
    out = tmp_path / "t.csv"
    assert_refused(run("track", tmp_path / "none.npz", "-o", out), "no such scenario", out)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(scene_path.read_bytes()[:2000])
    assert_refused(run("track", truncated, "-o", out), "truncated", out)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.zeros(3))
    assert_refused(run("track", foreign, "-o", out), "not an hste scenario", out)


def test_wrong_version_scene_is_refused(tmp_path, scene_path):
    with np.load(scene_path) as data:
        stored = dict(data)
    stored["version"] = np.array(99)
    old = tmp_path / "old.npz"
    np.savez(old, **stored)
    out = tmp_path / "t.csv"
    assert_refused(run("track", old, "-o", out), "version", out)


def test_scene_without_frames_is_refused(tmp_path):
    scene = tiny_scene()
    empty = replace(scene, frame_times=scene.frame_times[:0],
                    **{name: getattr(scene, name)[:0] for name in (
                        "truth_frame", "truth_id", "truth_state", "det_frame", "det_sensor",
                        "det_target", "det_xy", "det_range", "det_azimuth", "det_range_rate",
                        "det_amplitude")},
                    truth_offsets=np.zeros(1, np.int64), det_offsets=np.zeros(1, np.int64))
    path = tmp_path / "empty.npz"
    empty.save(path)
    out, scores = tmp_path / "t.csv", tmp_path / "s.json"
    assert_refused(run("track", path, "-o", out), "no frames", out)
    tracks = tmp_path / "tracks.csv"
    tracks.write_text("frame,id,x,y,vx,vy,cov_xx,cov_xy,cov_yy,confirmed\n")
    assert_refused(run("evaluate", path, tracks, "--json", scores), "no frames", scores)


def test_scene_without_targets_is_tracked_but_not_scored(tmp_path):
    path = tmp_path / "clutter.npz"
    tiny_scene(targets=0).save(path)
    tracks, scores = tmp_path / "t.csv", tmp_path / "s.json"
    assert run("track", path, "-o", tracks, "--quiet").exit_code == 0
    assert_refused(run("evaluate", path, tracks, "--json", scores), "no targets", scores)


def test_nan_detections_are_dropped_with_a_counted_warning(tmp_path):
    scene = tiny_scene()
    xy = scene.det_xy.copy()
    xy[[1, 4, 5]] = np.nan
    path = tmp_path / "nan.npz"
    replace(scene, det_xy=xy).save(path)
    out = tmp_path / "t.csv"
    result = run("track", path, "-o", out, "--quiet")
    assert result.exit_code == 0, result.output
    assert "dropped 3 detection(s)" in result.stderr
    assert out.exists()


def test_bad_tracks_files_are_refused(tmp_path, scene_path):
    scores = tmp_path / "s.json"
    assert_refused(run("evaluate", scene_path, tmp_path / "none.csv", "--json", scores),
                   "no such tracks file", scores)
    missing_column = tmp_path / "cols.csv"
    missing_column.write_text("frame,id,x,y\n1,1,0,0\n")
    assert_refused(run("evaluate", scene_path, missing_column, "--json", scores),
                   "lacks column", scores)
    late = tmp_path / "late.csv"
    late.write_text("frame,id,x,y,vx,vy,cov_xx,cov_xy,cov_yy,confirmed\n13,1,0,0,0,0,1,0,1,1\n")
    assert_refused(run("evaluate", scene_path, late, "--json", scores), "outside the scene",
                   scores)


def test_jpda_tracks_a_scene_from_the_cli_and_refuses_a_model(tmp_path, scene_path):
    tracks = tmp_path / "jpda.csv"
    result = run("track", scene_path, "--assoc", "jpda", "-o", tracks, "--quiet")
    assert result.exit_code == 0, result.output
    assert "--assoc jpda" in result.output and read_tracks(tracks).confirmed.any()
    model = tmp_path / "model.pt"
    model.write_bytes(b"x")
    out = tmp_path / "t.csv"
    assert_refused(run("track", scene_path, "--assoc", "jpda", "--model", model, "-o", out),
                   "not jpda", out)


def test_mht_tracks_a_scene_from_the_cli_with_its_settings(tmp_path, scene_path):
    tracks = tmp_path / "mht.csv"
    result = run("track", scene_path, "--assoc", "mht", "--mht-window", "2", "-o", tracks,
                 "--quiet")
    assert result.exit_code == 0, result.output
    assert read_tracks(tracks).confirmed.any()
    out = tmp_path / "t.csv"
    assert_refused(run("track", scene_path, "--assoc", "mht", "--mht-window", "0", "-o", out),
                   "window", out)


def test_bad_checkpoint_and_options_are_refused(tmp_path, scene_path):
    out = tmp_path / "t.csv"
    not_a_model = tmp_path / "model.pt"
    torch.save({"format": "something else", "weights": torch.zeros(3)}, not_a_model)
    result = run("track", scene_path, "--assoc", "learned", "--model", not_a_model, "-o", out)
    assert_refused(result, "model.pt", out)
    assert_refused(run("track", scene_path, "--model", not_a_model, "-o", out), "--model", out)
    config = tmp_path / "bad.toml"
    config.write_text("[management]\nmax_misses = -1\n")
    assert_refused(run("track", scene_path, "--config", config, "-o", out), "max_misses", out)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--bogus"], "hste: No such option '--bogus'. (see 'hste --help')"),
        (["plot", "nope"], "hste plot: No such command 'nope'."),
        (["track"], "hste track: Missing argument 'DETECTIONS'. (see 'hste track --help')"),
        (["track", "{scene}"], "Missing option '-o' / '--output'"),
        (["evaluate", "{scene}", "x.csv", "--json", "s.json", "--match-distance", "-1"],
         "Invalid value for '--match-distance'"),
        (["animate", "{scene}", "-o", "a.gif", "--region", "1,2"], "is not XMIN,XMAX,YMIN,YMAX"),
    ],
)
def test_usage_errors_are_one_line_naming_the_command(scene_path, args, message):
    args = [a.format(scene=scene_path) for a in args]
    assert_refused(CliRunner().invoke(main, args, prog_name="hste"), message)


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", "{scene}", "{tracks}", "--json", "{out}", "--match-distance", "nan"],
        ["evaluate", "{scene}", "{tracks}", "--json", "{out}", "--gospa-cutoff", "inf"],
        ["animate", "{scene}", "{tracks}", "-o", "{out}", "--fps", "nan"],
        ["animate", "{scene}", "{tracks}", "-o", "{out}", "--panel-size", "inf"],
        ["animate", "{scene}", "{tracks}", "-o", "{out}", "--sigma", "nan"],
        ["animate", "{scene}", "{tracks}", "-o", "{out}", "--mark-events",
         "--match-distance", "nan"],
        ["plot", "scenario", "{scene}", "-o", "{out}", "--seed", "-1"],
        ["plot", "scenario", "{scene}", "-o", "{out}", "--dpi", "100000"],
        ["animate", "{scene}", "{tracks}", "-o", "{out}", "--dpi", "100000"],
        ["animate", "{scene}", "{tracks}", "-o", "{out}", "--panel-size", "1000"],
    ],
)
def test_nan_infinite_negative_and_huge_options_are_refused(tmp_path, scene_path, args):
    tracks = tmp_path / "gnn.csv"
    assert run("track", scene_path, "-o", tracks, "--quiet").exit_code == 0
    out = tmp_path / {"evaluate": "out.json", "animate": "out.gif", "plot": "out.png"}[args[0]]
    args = [a.format(scene=scene_path, tracks=tracks, out=out) for a in args]
    option = next(a for a in reversed(args) if a.startswith("--"))
    assert_refused(run(*args), f"Invalid value for '{option}'", out)


def test_a_group_without_a_command_still_shows_its_help():
    result = CliRunner().invoke(main, ["plot"], prog_name="hste")
    assert "Usage: hste plot" in result.output and "tracks" in result.output


@pytest.mark.parametrize(
    "text, setting",
    [
        ("noise_diff_coeff = inf\n", "tracker.noise_diff_coeff = inf"),
        ('motion_model = "ct"\nturn_rate_noise = nan\n', "tracker.turn_rate_noise = nan"),
        ("[gnn]\ngate_probability = inf\n", "gnn.gate_probability = inf"),
        ("[management]\ninitial_speed_std = inf\n", "management.initial_speed_std = inf"),
    ],
)
def test_nan_or_infinite_tracker_settings_are_refused(tmp_path, scene_path, text, setting):
    config, out = tmp_path / "tracker.toml", tmp_path / "t.csv"
    config.write_text(text)
    result = run("track", scene_path, "--config", config, "-o", out, "--quiet")
    assert_refused(result, f"{setting}: must be a finite number", out)


@pytest.mark.parametrize(("options", "message"), [
    (["--motion-model", "imm"], "Invalid value for '--motion-model'"),
    (["--config", 'motion_model = "ct"\nturn_rate_std = -0.1\n'],
     "turn_rate_noise and turn_rate_std must be >= 0"),
])
def test_bad_motion_models_are_refused(tmp_path, scene_path, options, message):
    if options[0] == "--config":
        (tmp_path / "tracker.toml").write_text(options[1])
        options = ["--config", tmp_path / "tracker.toml"]
    out = tmp_path / "t.csv"
    assert_refused(run("track", scene_path, *options, "-o", out, "--quiet"), message, out)


def test_outputs_that_would_overwrite_an_input_are_refused(tmp_path, scene_path):
    scene = tmp_path / "scene.npz"
    scene.write_bytes(scene_path.read_bytes())
    assert_refused(run("track", scene, "-o", scene, "--quiet"), "is also an input")
    tracks = tmp_path / "gnn.csv"
    assert run("track", scene, "-o", tracks, "--quiet").exit_code == 0
    saved = tracks.read_bytes()
    assert_refused(run("evaluate", scene, tracks, "--json", tracks), "is also an input")
    assert_refused(run("evaluate", scene, tracks, "--json", tmp_path / "s.json",
                       "--per-frame", tracks), "is also an input", tmp_path / "s.json")
    assert scene.read_bytes() == scene_path.read_bytes() and tracks.read_bytes() == saved


def test_help_texts_have_examples():
    for command in ("track", "evaluate"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example:" in result.output


def test_tracks_files_are_named_by_stem_unless_stems_repeat(tmp_path):
    assert names_for([tmp_path / "a" / "gnn.csv", tmp_path / "learned.csv"]) == ["gnn", "learned"]
    repeated = [tmp_path / "a" / "gnn.csv", tmp_path / "b" / "gnn.csv"]
    assert names_for(repeated) == [str(path) for path in repeated]
    assert per_frame_paths(tmp_path / "f.csv", ["gnn"]) == [tmp_path / "f.csv"]
    assert per_frame_paths(tmp_path / "f.csv", ["gnn", "learned"]) == [
        tmp_path / "f_gnn.csv", tmp_path / "f_learned.csv"]
    assert per_frame_paths(tmp_path / "f.csv", [str(path) for path in repeated]) == [
        tmp_path / "f_a_gnn.csv", tmp_path / "f_b_gnn.csv"]
    same_folder_name = [str(tmp_path / folder / "a" / "gnn.csv") for folder in ("x", "y")]
    assert per_frame_paths(tmp_path / "f.csv", same_folder_name) == [
        tmp_path / "f_1_gnn.csv", tmp_path / "f_2_gnn.csv"]


def test_evaluate_without_per_frame_writes_only_the_json(tmp_path, scene_path):
    tracks = tmp_path / "gnn.csv"
    assert run("track", scene_path, "-o", tracks, "--quiet").exit_code == 0
    result = run("evaluate", scene_path, tracks, "--json", tmp_path / "s.json")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gnn.csv", "s.json"]


def test_tracks_files_with_the_same_name_get_a_per_frame_file_each(tmp_path, scene_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        assert run("track", scene_path, "-o", tmp_path / folder / "gnn.csv",
                   "--quiet").exit_code == 0
    result = run("evaluate", scene_path, tmp_path / "a" / "gnn.csv", tmp_path / "b" / "gnn.csv",
                 "--json", tmp_path / "s.json", "--per-frame", tmp_path / "f.csv")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("f_*.csv")) == ["f_a_gnn.csv", "f_b_gnn.csv"]
