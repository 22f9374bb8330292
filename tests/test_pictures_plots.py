"""Static plots (scenario, tracks, metrics, training, bench) and the picture commands end to end."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from test_pictures_data import tiny_scene, truth_tracks

import sim
from common.errors import InputError
from tracker.cli import main
from tracker.plots.bench import mean_over_seeds, plot_bench
from tracker.plots.metrics import moving_average
from tracker.plots.scene import view_extent
from tracker.plots.tables import read_columns
from tracker.plots.training import baseline_groups
from tracker.tracks_io import write_tracks


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A tiny scene, two tracks files, two per-frame metric files, a training log, bench results."""
    folder = tmp_path_factory.mktemp("inputs")
    scene = tiny_scene(frames=10, targets=3)
    scene.save(folder / "scene.npz")
    write_tracks(folder / "gnn.csv", truth_tracks(scene))
    write_tracks(folder / "learned.csv", truth_tracks(scene, id_offset=4, shift=15.0))
    write_tracks(folder / "far.csv", truth_tracks(scene, shift=1e7))
    frames = np.arange(1, 11)
    for name, scale in (("gnn_frames", 1.0), ("learned_frames", 0.5)):
        rows = [f"{f},3,3,{scale * f:.3f},{scale * f * f:.3f},{f % 2},0,{scale / f:.3f},"
                f"{int(f > 5)}" for f in frames]
        (folder / f"{name}.csv").write_text(
            "frame,targets,tracks,gospa,gospa_localisation,gospa_missed,gospa_false,prop_wrong,"
            "prop_any_wrong\n" + "\n".join(rows) + "\n")
    (folder / "log.csv").write_text(
        "epoch,steps,loss,val_mota,val_idf1,gnn_val_mota,gnn_val_idf1\n"
        + "".join(f"{e},{10 * e},{2.0 / e:.4f},{0.5 + e / 20:.3f},{0.6:.2f},0.6,0.55\n"
                  for e in range(1, 6)))
    (folder / "results.csv").write_text(
        "method,size,seed,kendall_tau,l2_x1000\n"
        + "".join(f"{m},{n},{s},{1 - n / (100 + 50 * s) - (m == 'sinkhorn') * 0.1:.4f},"
                  f"{n * (s + 1):.1f}\n"
                  for m in ("hste", "sinkhorn") for n in (5, 10, 50, 100) for s in (0, 1)))
    return folder


def hste(*args) -> object:
    return CliRunner().invoke(main, [str(arg) for arg in args])


def opened(path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB")).astype(int)


def assert_a_picture(path, min_width: int = 250) -> np.ndarray:
    pixels = opened(path)
    assert pixels.shape[1] >= min_width and pixels.shape[0] >= 150
    assert pixels.std() > 10 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    return pixels


@pytest.mark.parametrize(
    "args",
    [
        ("scenario", "{f}/scene.npz"),
        ("scenario", "{f}/scene.npz", "--frames", "3:6"),
        ("tracks", "{f}/scene.npz", "{f}/gnn.csv", "{f}/learned.csv", "--label", "gnn",
         "--label", "learned", "--frames", "2:"),
        ("metrics", "{f}/gnn_frames.csv", "{f}/learned_frames.csv", "--smooth", "3"),
        ("training", "{f}/log.csv"),
        ("bench", "{f}/results.csv", "--metric", "kendall_tau"),
    ],
    ids=["scenario", "scenario-frames", "tracks", "metrics", "training", "bench"],
)
def test_every_plot_kind_writes_a_png(files, tmp_path, args):
    out = tmp_path / "plot.png"
    result = hste("plot", *(arg.format(f=files) for arg in args), "-o", out, "--dpi", 50)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {out}"
    assert_a_picture(out)


def test_a_frame_range_changes_the_scenario_picture(files, tmp_path):
    for name, extra in (("all.png", []), ("part.png", ["--frames", "1:2"])):
        assert hste("plot", "scenario", files / "scene.npz", "-o", tmp_path / name, "--dpi", 40,
                    *extra).exit_code == 0
    assert np.any(opened(tmp_path / "all.png") != opened(tmp_path / "part.png"))


def test_a_region_zooms_in(files, tmp_path):
    scene = sim.load(files / "scene.npz")
    np.testing.assert_allclose(view_extent(scene, (0.0, 100.0, 10.0, 30.0)), [[0, -30], [100, 70]])
    x, y = scene.truth_state[0, :2]
    region = f"{x - 300},{x + 300},{y - 300},{y + 300}"
    for name, extra in (("all.png", []), ("zoom.png", ["--region", region])):
        assert hste("plot", "tracks", files / "scene.npz", files / "gnn.csv", "--dpi", 40,
                    "-o", tmp_path / name, *extra).exit_code == 0
    whole, zoomed = opened(tmp_path / "all.png"), opened(tmp_path / "zoom.png")
    height, width = min(whole.shape[0], zoomed.shape[0]), min(whole.shape[1], zoomed.shape[1])
    assert abs(whole.shape[1] - zoomed.shape[1]) < 0.05 * width  # same layout, other content
    assert np.abs(whole[:height, :width] - zoomed[:height, :width]).mean() > 5


def test_two_trackers_give_two_panels(files, tmp_path):
    for name, inputs in (("one.png", ["gnn.csv"]), ("two.png", ["gnn.csv", "learned.csv"])):
        assert hste("plot", "tracks", files / "scene.npz", *(files / i for i in inputs),
                    "-o", tmp_path / name, "--dpi", 40).exit_code == 0
    one, two = opened(tmp_path / "one.png"), opened(tmp_path / "two.png")
    assert two.shape[1] > 1.7 * one.shape[1]


def test_animate_command_writes_a_gif(files, tmp_path):
    out = tmp_path / "a.gif"
    result = hste("animate", files / "scene.npz", files / "gnn.csv", files / "learned.csv",
                  "--frames", "2:5", "--dpi", 40, "--panel-size", 3, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out}: 4 frames of ")
    with Image.open(out) as image:
        assert image.format == "GIF" and image.n_frames == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("animate", "{f}/scene.npz", "-o", "{o}/a.webm"), "unknown output extension '.webm'"),
        (("animate", "{f}/scene.npz", "--frames", "8:20", "-o", "{o}/a.gif"),
         "frame range 8..20 lies outside the scene's frames 1..10"),
        (("animate", "{f}/scene.npz", "{f}/far.csv", "-o", "{o}/a.gif"), "far outside the scene"),
        (("animate", "{f}/scene.npz", "{f}/gnn.csv", "--label", "a", "--label", "b",
          "-o", "{o}/a.gif"), "2 --label value(s) for 1 input file(s)"),
        (("animate", "{f}/gnn.csv", "-o", "{o}/a.gif"), "gnn.csv"),
        (("animate", "{f}/scene.npz", "--frames", "x", "-o", "{o}/a.gif"), "is not FIRST:LAST"),
        (("animate", "{f}/scene.npz", "--region", "5,1,0,1", "-o", "{o}/a.gif"),
         "need XMIN < XMAX and YMIN < YMAX"),
        (("plot", "tracks", "{f}/scene.npz", "{f}/gnn.csv", "--region", "1,2", "-o", "{o}/a.png"),
         "is not XMIN,XMAX,YMIN,YMAX"),
        (("plot", "scenario", "{f}/scene.npz", "-o", "{o}/a.jpg"), "unknown output extension"),
        (("plot", "tracks", "{f}/scene.npz", "{f}/far.csv", "-o", "{o}/a.png"),
         "far outside the scene"),
        (("plot", "metrics", "{f}/log.csv", "-o", "{o}/a.png"), "no 'frame' column"),
        (("plot", "metrics", "{f}/gnn_frames.csv", "--metric", "mota", "-o", "{o}/a.png"),
         "metric(s) mota not in every file"),
        (("plot", "training", "{f}/results.csv", "-o", "{o}/a.png"), "no 'epoch' column"),
        (("plot", "bench", "{f}/log.csv", "-o", "{o}/a.png"), "need a 'method' column"),
        (("plot", "bench", "{f}/missing.csv", "-o", "{o}/a.png"), "cannot read CSV"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_file(files, tmp_path, args, message):
    result = hste(*(arg.format(f=files, o=tmp_path) for arg in args))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert message in lines[-1] and lines[-1].startswith("Error:")
    assert not list(tmp_path.iterdir())


def test_an_empty_scene_is_refused_by_the_scenario_plot(tmp_path):
    tiny_scene(frames=3, targets=0, clutter=0.0).save(tmp_path / "empty.npz")
    result = hste("plot", "scenario", tmp_path / "empty.npz", "-o", tmp_path / "x.png")
    assert result.exit_code == 2 and "the scene is empty" in result.output
    assert not (tmp_path / "x.png").exists()


def test_bench_plot_refuses_an_unknown_metric(files, tmp_path):
    with pytest.raises(InputError, match="available: kendall_tau, l2_x1000"):
        plot_bench(read_columns(files / "results.csv"), tmp_path / "b.png", ["mota"])


def test_read_columns_types_and_errors(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("method,size,score\nhste,5,0.5\nsinkhorn,10,\n")
    table = read_columns(good, required=("size",))
    assert table["method"].tolist() == ["hste", "sinkhorn"]
    np.testing.assert_array_equal(table["size"], [5.0, 10.0])
    assert np.isnan(table["score"][1])
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3\n")
    with pytest.raises(InputError, match="do not all have the 2 columns"):
        read_columns(ragged)
    with pytest.raises(InputError, match="missing column"):
        read_columns(good, required=("seed",))


def test_mean_over_seeds_and_moving_average():
    sizes, mean, spread = mean_over_seeds(np.array([10.0, 5.0, 10.0]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(sizes, [5.0, 10.0])
    np.testing.assert_array_equal(mean, [2.0, 2.0])
    np.testing.assert_array_equal(spread, [0.0, 1.0])
    smoothed = moving_average(np.array([1.0, np.nan, 3.0, 5.0]), 3)
    np.testing.assert_allclose(smoothed, [1.0, 2.0, 4.0, 4.0])
    np.testing.assert_allclose(moving_average(np.array([1.0, 2.0, 6.0]), 10), [3.0, 3.0, 3.0])
    values = np.random.default_rng(0).normal(size=9)
    for window in (2, 4, 5, 9):
        same = np.convolve(values, np.ones(window), mode="same") / np.convolve(
            np.ones(9), np.ones(window), mode="same")
        np.testing.assert_allclose(moving_average(values, window), same)


def test_smoothing_over_more_frames_than_the_scene_has(files, tmp_path):
    out = tmp_path / "m.png"
    result = hste("plot", "metrics", files / "gnn_frames.csv", "--smooth", "50", "-o", out)
    assert result.exit_code == 0, result.output
    assert_a_picture(out)


def test_the_scene_fixture_loads(files):
    assert sim.load(files / "scene.npz").num_frames == 10


def test_runs_sharing_a_gnn_baseline_get_one_baseline_line():
    epoch = np.arange(1.0, 4.0)
    logs = {
        "a": {"epoch": epoch, "val_mota": epoch / 10, "gnn_val_mota": np.full(3, 0.9)},
        "b": {"epoch": epoch, "val_mota": epoch / 9, "gnn_val_mota": np.full(3, 0.9)},
        "c": {"epoch": epoch, "val_mota": epoch / 8, "gnn_val_mota": np.full(3, 0.8)},
        "d": {"epoch": epoch, "val_mota": epoch / 7},
    }
    assert baseline_groups(logs, "val_mota") == {(0.9,): ["a", "b"], (0.8,): ["c"]}
    assert baseline_groups({k: logs[k] for k in "ab"}, "val_mota") == {(0.9,): ["a", "b"]}
    assert baseline_groups(logs, "loss") == {}
