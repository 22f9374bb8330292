"""Regression tests of issue 20, through the real commands: bad or unlucky input is answered by
exit 0 with the documented behaviour or by exit status 2 and one ``Error:`` line, never a
traceback, a destroyed input or a partial output."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from learned_scans import single_thread  # noqa: F401 (autouse fixture)
from test_tracking_cli import assert_refused, run, tiny_scene

TINY_TRAIN = ["--preset", "crossing", "--frames", "6", "--scenes-per-epoch", "2",
              "--batch-scenes", "2", "--passes", "1", "--hidden", "8", "--rounds", "1",
              "--samples", "2", "--validation-scenes", "1"]


def digests(folder):
    """{file name: sha256} of every file in ``folder`` (hidden temp files included)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_fresh_run_into_a_finished_run_is_refused_unless_overwrite(tmp_path):
    """Item 1: forgetting --resume must not replace best.pt, checkpoint.pt or log.csv."""
    out = tmp_path / "run"
    assert run("train", *TINY_TRAIN, "--epochs", "1", "--out", out).exit_code == 0
    before = digests(out)
    assert_refused(run("train", *TINY_TRAIN, "--epochs", "1", "--out", out),
                   "use --resume to continue it, a new --out, or --overwrite to replace it")
    assert digests(out) == before
    result = run("train", *TINY_TRAIN, "--epochs", "1", "--seed", "3", "--out", out,
                 "--overwrite")
    assert result.exit_code == 0, result.output
    assert set(digests(out)) == set(before) and digests(out) != before


def test_resume_refuses_what_it_would_ignore(tmp_path):
    """Item 8: --config and a smaller --epochs are refused; nothing left to train is said."""
    out = tmp_path / "run"
    assert run("train", *TINY_TRAIN, "--epochs", "2", "--out", out).exit_code == 0
    before = digests(out)
    config = tmp_path / "t.toml"
    config.write_text("epochs = 5\n")
    assert_refused(run("train", "--resume", "--config", config, "--out", out),
                   "--config is not read with --resume")
    assert_refused(run("train", "--resume", "--epochs", "1", "--out", out),
                   "holds 2 finished epoch(s); --epochs 1 would train nothing")
    assert_refused(run("train", "--resume", "--overwrite", "--out", out), "contradict")
    done = run("train", "--resume", "--out", out)
    assert done.exit_code == 0 and "all 2 epoch(s) already done" in done.stderr
    assert digests(out) == before


@pytest.fixture(scope="module")
def scene_files(tmp_path_factory):
    """A tiny scene, its tracks and a scene config TOML, in one folder."""
    folder = tmp_path_factory.mktemp("scene")
    tiny_scene().save(folder / "scene.npz")
    assert run("track", folder / "scene.npz", "-o", folder / "tracks.csv",
               "--quiet").exit_code == 0
    assert run("simulate", "--preset", "crossing", "--frames", "4", "-o", folder / "c.npz",
               "--save-config", folder / "scene.toml").exit_code == 0
    return folder


@pytest.mark.parametrize("args, message", [
    (["simulate", "--frames", "3", "-o", "{d}/s.npz", "--mot", "{d}/s.npz"], "two outputs"),
    (["simulate", "--frames", "3", "-o", "{d}/s.npz", "--save-config", "{d}/s.npz"],
     "two outputs"),
    (["simulate", "--config", "{d}/scene.toml", "-o", "{d}/s.npz", "--mot", "{d}/scene.toml"],
     "is also an input"),
    (["simulate", "--config", "{d}/scene.toml", "-o", "{d}/s.npz",
      "--save-config", "{d}/./scene.toml"], "is also an input"),
    (["evaluate", "{d}/scene.npz", "{d}/tracks.csv", "--json", "{d}/x.json",
      "--per-frame", "{d}/x.json"], "two outputs"),
    (["evaluate", "{d}/scene.npz", "{d}/tracks.csv", "--json", "{d}/link.csv"],
     "is also an input"),
    (["plot", "tracks", "{d}/scene.npz", "{d}/tracks.csv", "-o", "{d}/link.png"],
     "is also an input"),
    (["animate", "{d}/scene.npz", "{d}/link.png", "-o", "{d}/../{d.name}/link.png"],
     "is also an input"),
    (["train", "--config", "{d}/log.csv", "--out", "{d}"], "is also an input"),
])
def test_outputs_never_replace_inputs_or_each_other(scene_files, args, message):
    """Item 2: one check of every command's outputs against its inputs and each other (a
    symlink or a hard link to an input counts as the input)."""
    for name in ("link.csv", "link.png"):
        if not (scene_files / name).exists():
            os.link(scene_files / "tracks.csv", scene_files / name)
    (scene_files / "log.csv").write_text("epochs = 1\n")
    before = digests(scene_files)
    assert_refused(run(*(a.format(d=scene_files) for a in args)), message)
    assert digests(scene_files) == before


def test_evaluate_without_json_prints_the_table_alone(scene_files):
    result = run("evaluate", scene_files / "scene.npz", scene_files / "tracks.csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split()[:3] == ["tracks", "MOTA", "MOTP_m"]
    assert len(result.stdout.splitlines()) == 2


def test_a_nan_detection_is_dropped_by_every_picture_command(tmp_path):
    """Item 3: plot scenario, plot tracks and animate read the scene as track does."""
    scene = tiny_scene()
    xy = scene.det_xy.copy()
    xy[[0, 3]] = np.nan
    path, tracks = tmp_path / "nan.npz", tmp_path / "t.csv"
    replace(scene, det_xy=xy).save(path)
    assert run("track", path, "-o", tracks, "--quiet").exit_code == 0
    for args in (["plot", "scenario", path, "-o", tmp_path / "s.png"],
                 ["plot", "tracks", path, tracks, "-o", tmp_path / "t.png"],
                 ["animate", path, tracks, "--frames", "2:3", "-o", tmp_path / "a.gif"]):
        result = run(*args)
        assert result.exit_code == 0, result.output
        assert "dropped 2 detection(s)" in result.stderr
        assert args[-1].stat().st_size > 0


@pytest.mark.parametrize("args, toml, message", [
    (["simulate", "--frames", str(10**12), "-o", "{d}/s.npz"], None, "PiB of memory"),
    (["simulate", "--frames", str(10**20), "-o", "{d}/s.npz"], None, "of memory, more than"),
    (["simulate", "--frames", str(10**400), "-o", "{d}/s.npz"], None, "of memory, more than"),
    (["simulate", "--config", "{d}/c.toml", "-o", "{d}/s.npz"],
     '[[sensors]]\nkind = "radar"\nclutter_rate = 1e300\n', "of memory, more than"),
    (["simulate", "--config", "{d}/c.toml", "-o", "{d}/s.npz"],
     "[motion]\ninitial_targets = 100000000000\n", "of memory, more than"),
    (["train", "--scenario-config", "{d}/c.toml", "--out", "{d}/run"],
     '[[sensors]]\nkind = "radar"\nclutter_rate = 1e300\n', "of memory, more than"),
    (["train", "--frames", str(10**15), "--out", "{d}/run"], None, "of memory, more than"),
    (["bench", "sorting", "--sizes", "1000000", "--out", "{d}/so"], None,
     "sorting N = 1000000 would need about"),
    (["bench", "sorting", "--sizes", "5", "--lr", "inf", "--out", "{d}/so"], None,
     "lr must be finite"),
    (["bench", "sorting", "--sizes", "5", "--noise", "inf", "--out", "{d}/so"], None,
     "noise must be finite"),
    (["bench", "jigsaw", "--data-dir", "{d}", "--sizes", "2", "--lr", "inf", "--out", "{d}/jo"],
     None, "lr must be finite"),
    (["bench", "jigsaw", "--data-dir", "{d}", "--sizes", "2", "--config", "{d}/c.toml",
      "--out", "{d}/jo"], "noise = inf\n", "noise"),
])
def test_numbers_beyond_their_limits_are_refused_before_allocating(tmp_path, args, toml,
                                                                   message):
    """Item 5: one range and memory check (common.limits) refuses sizes that cannot fit and
    infinite rates, naming the memory they would need."""
    if toml is not None:
        (tmp_path / "c.toml").write_text(toml)
    result = run(*(a.format(d=tmp_path) for a in args))
    assert_refused(result, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["c.toml"] if toml else [])


KILL_DURING_WRITE = """
import os, signal, sys
import numpy as np
from tracker.cli import main

savez = np.savez

def killed_while_writing(file, *args, **kwargs):
    file.write(b"PK partial")
    file.flush()
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    savez(file, *args, **kwargs)

np.savez = killed_while_writing
main(["simulate", "--preset", "crossing", "--frames", "4", "-o", sys.argv[2]])
"""


def simulate_killed(signal_name: str, target) -> subprocess.CompletedProcess:
    """``hste simulate -o target`` in a subprocess that gets ``signal_name`` mid-write."""
    return subprocess.run([sys.executable, "-c", KILL_DURING_WRITE, signal_name, str(target)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def test_sigterm_during_a_write_cleans_up_and_exits_like_ctrl_c(tmp_path):
    """Item 9: SIGTERM mid-write removes the temp file, leaves the target as it was, 143."""
    target = tmp_path / "scene.npz"
    target.write_bytes(b"the previous scene")
    result = simulate_killed("SIGTERM", target)
    assert result.returncode == 143, result.stderr
    assert "Traceback" not in result.stderr and "Terminated (SIGTERM)" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["scene.npz"]
    assert target.read_bytes() == b"the previous scene"


def test_a_sigkilled_writers_temp_file_is_swept_by_the_next_write(tmp_path):
    """Item 9: SIGKILL cannot be handled; the next write of the same target sweeps its temp
    file (and one of the older pid-less name once old), never other targets' temp files."""
    target = tmp_path / "scene.npz"
    assert simulate_killed("SIGKILL", target).returncode == -9
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".scene.") and left[0].endswith(".tmp.npz")
    legacy = tmp_path / ".scene.0123456789ab.tmp.npz"
    other = tmp_path / ".scene2.0123456789ab.1.tmp.npz"
    for path in (legacy, other):
        path.write_bytes(b"x")
    os.utime(legacy, (0, 0))
    assert run("simulate", "--preset", "crossing", "--frames", "4", "-o", target).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "scene.npz"]


@pytest.mark.parametrize("change, message", [
    ({"version": np.array("1")}, "version must be a single integer"),
    ({"version": np.array([1, 1])}, "version must be a single integer"),
    ({"seed": np.array([1, 2])}, "seed must be a single integer"),
    ({"seed": np.array(1.5)}, "seed must be a single integer"),
    ({"format": np.array(["hste-scenario"])}, "format must be a single string"),
    ({"config_json": np.array("[1, 2]")}, "a JSON list, not an object"),
    ({"config_json": np.array(["{}", "{}"])}, "config_json must be a single string"),
    ({"dt": np.array("1.0")}, "dt must be a single number"),
    ({"det_sensor": None}, "lacks det_sensor"),
    ({"det_sensor": "out of range"}, "det_sensor holds indices outside the 1 sensor(s)"),
])
def test_crafted_scene_fields_are_one_line(scene_files, tmp_path, change, message):
    """Items 10 and 12: every scalar field of a scene goes through one loader; sensor indices
    must name a sensor of the stored config."""
    from test_sim_scenario import rewrite

    if change.get("det_sensor") == "out of range":
        with np.load(scene_files / "scene.npz") as data:
            change = {"det_sensor": np.full_like(data["det_sensor"], 7)}
    bad, out = tmp_path / "bad.npz", tmp_path / "t.csv"
    rewrite(scene_files / "scene.npz", bad, **change)
    for args in (["track", bad, "-o", out], ["evaluate", bad, scene_files / "tracks.csv"],
                 ["plot", "scenario", bad, "-o", tmp_path / "s.png"]):
        assert_refused(run(*args), message, out, tmp_path / "s.png")


def test_a_text_file_named_npz_is_not_called_pickled_data(tmp_path):
    """Item 11: no hint at allow_pickle for a file that is not a zip archive."""
    fake = tmp_path / "scene.npz"
    fake.write_text("frame,id\n1,2\n")
    result = run("track", fake, "-o", tmp_path / "t.csv")
    assert_refused(result, "not a zip archive")
    assert "pickle" not in result.stderr


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A tiny finished training run (2 epochs)."""
    out = tmp_path_factory.mktemp("train") / "run"
    assert run("train", *TINY_TRAIN, "--epochs", "2", "--out", out).exit_code == 0
    return out


def _edited_checkpoint(source, target, edit) -> None:
    import torch

    content = torch.load(source / "checkpoint.pt", weights_only=True)
    edit(content)
    target.mkdir()
    torch.save(content, target / "checkpoint.pt")


@pytest.mark.parametrize("edit, message", [
    (lambda c: c.pop("log"), "lacks its training log"),
    (lambda c: c.update(epoch=1.5), "epoch must be an integer >= 0, got 1.5"),
    (lambda c: c.update(epoch="1"), "epoch must be an integer"),
    (lambda c: c.update(best_mota=[0.5]), "best_mota must be a number"),
    (lambda c: c["optimizer"]["param_groups"].pop(), "optimiser state does not fit this run"),
    (lambda c: c["optimizer"]["param_groups"][0]["params"].pop(),
     "optimiser state does not fit this run"),
    (lambda c: c.update(optimizer=[1, 2]), "optimiser state does not fit this run"),
    (lambda c: c.update(network=[8, 1]), "another model config"),
    (lambda c: c["gnn"].update(gate_probability=[0.0, 0.0]), "another model config"),
])
def test_crafted_checkpoints_are_refused_by_resume(finished_run, tmp_path, edit, message):
    """Item 10: a checkpoint missing its log, with other optimiser groups or a non-integer
    epoch is one line, not a traceback (the gnn case: fuzz case 380 of the slow run)."""
    out = tmp_path / "run"
    _edited_checkpoint(finished_run, out, edit)
    before = digests(out)
    assert_refused(run("train", "--resume", "--epochs", "3", "--out", out), message)
    assert digests(out) == before


def test_a_foreign_checkpoint_never_suggests_weights_only_false(tmp_path):
    """Item 11: the refused object is named; torch's advice to load it unsafely is not passed
    on (track's checkpoint and jigsaw's go through one loader)."""
    import torch
    from test_jigsaw import write_tiny_mnist

    data, out = write_tiny_mnist(tmp_path / "mnist"), tmp_path / "out"
    (out / "checkpoints").mkdir(parents=True)
    torch.save({"config": np.zeros(2)}, out / "checkpoints" / "M2_hste_seed0.pt")
    jigsaw = run("bench", "jigsaw", "--data-dir", data, "--out", out, "--sizes", "2",
                 "--epochs", "1", "--methods", "hste")
    torch.save({"weights": np.zeros(2)}, tmp_path / "model.pt")
    scene = tmp_path / "scene.npz"
    tiny_scene().save(scene)
    track = run("track", scene, "--assoc", "learned", "--model", tmp_path / "model.pt",
                "-o", tmp_path / "t.csv")
    for result in (jigsaw, track):
        assert_refused(result, "refused without running anything in it")
        assert "WeightsUnpickler error" in result.stderr
        assert "weights_only=False" not in result.stderr and "weights_only" not in result.stderr


def test_other_crafted_inputs_are_one_line(tmp_path):
    """Item 10: a sorting run file that is a JSON list, a bench CSV with a non-numeric size;
    item 12: an all-NaN per-frame CSV."""
    out = tmp_path / "so"
    args = ["bench", "sorting", "--sizes", "3", "--methods", "hste", "--seeds", "1",
            "--epochs", "2", "--out", out, "--no-plots"]
    assert run(*args).exit_code == 0
    (record,) = (out / "runs").iterdir()
    record.write_text("[1, 2]")
    assert_refused(run(*args), "not a run record (a JSON list")
    results = tmp_path / "results.csv"
    results.write_text("method,size,seed,kendall_tau\nhste,five,0,0.5\n")
    assert_refused(run("plot", "bench", results, "-o", tmp_path / "b.png"),
                   "column size must hold numbers", tmp_path / "b.png")
    frames = tmp_path / "frames.csv"
    frames.write_text("frame,gospa,prop_wrong\n1,nan,nan\n2,,nan\n")
    assert_refused(run("plot", "metrics", frames, "-o", tmp_path / "m.png"),
                   "no finite value in any file", tmp_path / "m.png")


def test_the_learned_tracker_takes_infinite_amplitudes_as_none(finished_run, tmp_path):
    """Item 10: +inf amplitudes count as no amplitude: the same tracks as NaN amplitudes."""
    scene = tiny_scene()
    results = []
    for name, value in (("inf", np.inf), ("nan", np.nan)):
        amplitude = scene.det_amplitude.copy()
        amplitude[::3] = value
        replace(scene, det_amplitude=amplitude).save(tmp_path / f"{name}.npz")
        out = tmp_path / f"{name}.csv"
        result = run("track", tmp_path / f"{name}.npz", "--assoc", "learned", "--model",
                     finished_run / "best.pt", "-o", out, "--quiet")
        assert result.exit_code == 0 and "Warning" not in result.output, result.output
        results.append(out.read_text())
    assert results[0] == results[1]


@pytest.mark.parametrize("column, value, message", [
    (1, "1e19", "column id must hold integers in 1..2147483647"),
    (0, "1e19", "column frame must hold integers in 1..2147483647"),
    (2, "1e300", "column x holds values beyond +-1e+12"),
    (5, "-1e300", "column vy holds values beyond +-1e+12"),
    (6, "1e300", "column cov_xx holds values beyond +-1e+24"),
])
def test_huge_values_in_a_tracks_file_are_one_line(scene_files, tmp_path, column, value,
                                                    message):
    """Item 6: ids, frames and values past their limits (tracks_io.INDEX_MAX, VALUE_MAX) are
    refused by every reader, not an OverflowError."""
    lines = (scene_files / "tracks.csv").read_text().splitlines()
    cells = lines[1].split(",")
    cells[column] = value
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    scene = scene_files / "scene.npz"
    for args in (["evaluate", scene, bad], ["plot", "tracks", scene, bad, "-o", tmp_path / "p.png"],
                 ["animate", scene, bad, "-o", tmp_path / "a.gif"]):
        assert_refused(run(*args), message, tmp_path / "p.png", tmp_path / "a.gif")


def test_values_at_the_limits_are_scored_and_drawn(scene_files, tmp_path):
    lines = (scene_files / "tracks.csv").read_text().splitlines()
    cells = lines[1].split(",")
    cells[2:10] = ["1e12", "-1e12", "1e12", "0", "1e24", "-1e24", "1e24", "1"]
    edge = tmp_path / "edge.csv"
    edge.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    scene = scene_files / "scene.npz"
    for args in (["evaluate", scene, edge],
                 ["plot", "tracks", scene, edge, "--mark-switches", "-o", tmp_path / "p.png"],
                 ["animate", scene, edge, "--mark-events", "--frames", "1:2",
                  "-o", tmp_path / "a.gif"]):
        result = run(*args)
        assert result.exit_code == 0, result.output


def _rank_with_bad_input(marker) -> None:
    from common.errors import InputError
    from tracker.distributed import init_process_group

    context = init_process_group()
    raise InputError(f"{marker}: bad input seen by rank {context.rank}")


@pytest.mark.parametrize("args, message", [
    (["--out", "{d}/file.txt/run"], "cannot create the output folder"),
    (["--scenario-config", "{d}/bad.toml", "--out", "{d}/run"], "unknown setting(s) colour"),
])
def test_train_nproc_2_refuses_bad_input_in_one_line(tmp_path, args, message):
    """Item 4: bad input is refused before any rank starts."""
    (tmp_path / "file.txt").write_text("a file")
    (tmp_path / "bad.toml").write_text("colour = 1\n")
    result = run("train", *TINY_TRAIN, "--nproc", "2", *(a.format(d=tmp_path) for a in args))
    assert_refused(result, message, tmp_path / "run")


@pytest.mark.slow
def test_an_input_error_inside_a_rank_is_one_input_error_in_the_parent(tmp_path):
    """Item 4: what only a rank can see still comes back as one line, not two tracebacks."""
    from common.errors import InputError
    from tracker.distributed import spawn

    with pytest.raises(InputError) as error:
        spawn(2, _rank_with_bad_input, ("scene.toml",))
    assert str(error.value) in ("scene.toml: bad input seen by rank 0",
                                "scene.toml: bad input seen by rank 1")
