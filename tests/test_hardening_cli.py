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
