"""Detection CSVs and truth CSVs: the round trip from a scene, the contract's variants, and the
answers to bad input (one ``Error:`` line naming the file and the line or key, exit 2)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from sim import generate
from sim.config import MotionConfig, RadarConfig, ScenarioConfig
from tracker.cli import main
from tracker.detections_io import read_detections
from tracker.measurements import measure_scan
from tracker.sensors import CartesianSensor, RadarSensor
from tracker.tracks_io import COLUMNS, read_tracks

MOTION = MotionConfig(initial_targets=4, birth_rate=0.0, survival_prob=1.0,
                      birth_region=(-800.0, 800.0, 800.0, 2000.0))
TWO_RADARS = (RadarConfig(clutter_rate=4.0),
              RadarConfig(position=(3000.0, 0.0), orientation=np.pi, clutter_rate=4.0,
                          pd_model="snr"))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_refused(result, message, *paths_not_written):
    """Exit 2, one line on stderr naming the problem, no traceback, no output file."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], \
        result.stderr
    for path in paths_not_written:
        assert not path.exists()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A two-radar scene as .npz, detections CSV, sensor TOML and truth CSV."""
    folder = tmp_path_factory.mktemp("exported")
    generate(ScenarioConfig(frames=15, motion=MOTION, sensors=TWO_RADARS), 4).save(
        folder / "scene.npz")
    paths = {name: folder / name for name in ("scene.npz", "d.csv", "sensor.toml", "gt.csv")}
    result = run("simulate", "--config", _config(folder), "--seed", "4", "-o", paths["scene.npz"],
                 "--detections-csv", paths["d.csv"], "--sensor-toml", paths["sensor.toml"],
                 "--truth-csv", paths["gt.csv"])
    assert result.exit_code == 0, result.output
    return paths


def _config(folder):
    path = folder / "two.toml"
    path.write_text(ScenarioConfig(frames=15, motion=MOTION, sensors=TWO_RADARS).to_toml())
    return path


def _columns_dropped(source, target, drop):
    with open(source, newline="") as handle:
        rows = list(csv.reader(handle))
    keep = [i for i, name in enumerate(rows[0]) if name not in drop]
    with open(target, "w", newline="") as handle:
        csv.writer(handle).writerows([[row[i] for i in keep] for row in rows])
    return target


def _tracks(path, *args):
    result = run("track", path, *args, "--quiet")
    assert result.exit_code == 0, result.output
    return read_tracks(args[args.index("-o") + 1])


@pytest.mark.parametrize("drop", [(), ("time",), ("frame",)])
def test_tracking_the_exported_csv_gives_the_scenes_tracks(exported, tmp_path, drop):
    scene = _tracks(exported["scene.npz"], "-o", tmp_path / "npz.csv")
    detections = _columns_dropped(exported["d.csv"], tmp_path / "d.csv", drop)
    tracks_path = tmp_path / "csv.csv"
    table = _tracks(detections, "--sensor", exported["sensor.toml"], "-o", tracks_path)
    assert len(scene) > 100 and scene.confirmed.any()
    for column in COLUMNS:
        np.testing.assert_array_equal(getattr(table, column), getattr(scene, column), column)
    header = tracks_path.read_text().splitlines()[0]
    assert header.endswith(",confirmed,time") == ("time" not in drop)
    if "time" not in drop:
        np.testing.assert_array_equal(table.time, table.frame - 1.0)  # dt = 1 s


def test_truth_csv_scores_like_the_scene(exported, tmp_path):
    tracks = tmp_path / "t.csv"
    _tracks(exported["scene.npz"], "-o", tracks)
    scores = {}
    for name, args in {"scene": [exported["scene.npz"]],
                       "truth": ["--truth", exported["gt.csv"]]}.items():
        result = run("evaluate", *args, tracks, "--json", tmp_path / f"{name}.json")
        assert result.exit_code == 0, result.output
        scores[name] = json.loads((tmp_path / f"{name}.json").read_text())["tracks"]["t"]
    assert scores["scene"]["MOTA"] > 0.5
    for metric in ("MOTA", "IDF1", "FP", "FN", "IDSW", "GOSPA_mean"):
        assert scores["truth"][metric] == pytest.approx(scores["scene"][metric]), metric


def test_motchallenge_text_without_header_is_truth(exported, tmp_path):
    tracks, gt = tmp_path / "t.csv", tmp_path / "gt.txt"
    _tracks(exported["scene.npz"], "-o", tracks)
    rows = exported["gt.csv"].read_text().splitlines()[1:]
    gt.write_text("\n".join(",".join(r.split(",")[:4] + ["1", "1", "1"]) for r in rows) + "\n")
    result = run("evaluate", "--truth", gt, tracks, "--json", tmp_path / "s.json")
    assert result.exit_code == 0, result.output


def _write(path, text):
    path.write_text(text)
    return path


CARTESIAN = ('kind = "cartesian"\nsigma = 5.0\npd = 0.9\nclutter_rate = 2\n'
             'region = [0, 100, 0, 100]\n')


@pytest.mark.parametrize("csv_text, sensor_text, message", [
    ("t,x,y\n0,1,1\n", CARTESIAN, "d.csv: detections CSV needs a time (s) or frame column"),
    ("time,x\n0,1\n", CARTESIAN, "d.csv: detections CSV needs columns x,y (m) or range,azimuth"),
    ("time,x,y\n0,1,1\n1,abc,2\n", CARTESIAN, "d.csv: line 3: column x: 'abc' is not a number"),
    ("time,x,y\n0,1,1\n2,1,1\n1,1,1\n", CARTESIAN, "d.csv: line 4: time goes backwards"),
    ("frame,x,y\n2,1,1\n1,1,1\n", CARTESIAN + "dt = 1.0\n", "d.csv: line 3: frame goes backwards"),
    ("frame,x,y\n1.5,1,1\n", CARTESIAN + "dt = 1.0\n", "d.csv: line 2: frame must be an integer"),
    ("frame,x,y\n1,1,1\n", CARTESIAN, "s.toml: frame-numbered detections need dt (s)"),
    ("time,sensor,x,y\n0,0,1,1\n0,radar9,1,1\n", CARTESIAN,
     "d.csv: line 3: unknown sensor id 'radar9'"),
    ("time,x,y\n0,1\n", CARTESIAN, "d.csv: line 2: 2 field(s), the header has 3"),
    ("time,range,azimuth\n0,10,0.1\n", CARTESIAN, "range,azimuth given for the cartesian"),
    ("time,x,y,cov_xx,cov_xy,cov_yy\n0,1,1,1,2,1\n", CARTESIAN,
     "d.csv: line 2: cov_xx,cov_xy,cov_yy is not a positive definite"),
    ("time,x,y\n0,1,1\n", "sigma = 5\n", "s.toml: sensor.kind = None"),
    ("time,x,y\n0,1,1\n", 'kind = "sonar"\n', "s.toml: sensor.kind = 'sonar'"),
    ("time,x,y\n0,1,1\n", 'kind = "cartesian"\nsigma = "five"\n', "s.toml: sensor.sigma = 'five'"),
    ("time,x,y\n0,1,1\n", 'kind = "cartesian"\nregion = [0, 1]\n', "s.toml: sensor.region"),
    ("time,x,y\n", CARTESIAN, "d.csv: no detection rows"),
])
def test_bad_detection_files_are_one_error_line(tmp_path, csv_text, sensor_text, message):
    detections = _write(tmp_path / "d.csv", csv_text)
    sensor = _write(tmp_path / "s.toml", sensor_text)
    out = tmp_path / "tracks.csv"
    assert_refused(run("track", detections, "--sensor", sensor, "-o", out, "--quiet"),
                   message, out)


def test_a_csv_needs_a_sensor_file_and_a_scene_refuses_one(tmp_path, exported):
    out = tmp_path / "tracks.csv"
    assert_refused(run("track", exported["d.csv"], "-o", out), "needs --sensor SENSOR.toml", out)
    assert_refused(run("track", exported["scene.npz"], "--sensor", exported["sensor.toml"],
                       "-o", out), "--sensor is for detections CSVs", out)


def test_nan_positions_are_dropped_with_a_count(tmp_path):
    detections = _write(tmp_path / "d.csv", "time,x,y\n0,10,10\n0,,5\n1,12,11\n1,nan,3\n")
    sensor = _write(tmp_path / "s.toml", CARTESIAN)
    result = run("track", detections, "--sensor", sensor, "-o", tmp_path / "t.csv", "--quiet")
    assert result.exit_code == 0, result.output
    assert "dropped 2 detection(s) with NaN position" in result.stderr
    assert read_tracks(tmp_path / "t.csv").id.max() == 1


def test_per_detection_covariances_override_the_sensors(tmp_path):
    path = _write(tmp_path / "d.csv", "time,x,y,cov_xx,cov_xy,cov_yy,extra\n"
                                      "0,1,2,4,1,9,a\n0,5,5,,,,b\n")
    sensor = CartesianSensor(sigma=3.0)
    scans = read_detections(path, [sensor]).scans
    measured = measure_scan(sensor, scans[0].detections, 1.0)
    np.testing.assert_array_equal(measured.covariances, [[[4.0, 1.0], [1.0, 9.0]], 9.0 * np.eye(2)])


def test_polar_detections_are_placed_by_the_radars_pose(tmp_path):
    radar = RadarSensor(position=(100.0, 0.0), orientation=np.pi / 2, id="r")
    path = _write(tmp_path / "d.csv", "time,sensor,range,azimuth,range_rate,amplitude\n"
                                      "0,r,1000,0.0,-3.5,21\n0.5,r,500,1.5707963267948966,,\n")
    source = read_detections(path, [radar])
    assert not source.dropped and [s.time for s in source] == [0.0, 0.5]
    first, second = (scan.detections for scan in source)
    np.testing.assert_allclose(first.xy, [[100.0, 1000.0]], atol=1e-9)
    np.testing.assert_allclose(second.xy, [[-400.0, 0.0]], atol=1e-9)
    assert first.range_rate[0] == -3.5 and np.isnan(second.amplitude[0])
