"""``hste train`` end to end on tiny runs: outputs, a crash resumed exactly, the trained model
used by ``hste track``, and bad input refused in one line with exit status 2."""

from __future__ import annotations

import csv

import pytest
import torch
from learned_scans import single_thread  # noqa: F401 (autouse fixture)
from test_tracking_cli import assert_refused, run

import tracker.training as training
from tracker.training import LOG_COLUMNS, TrainingConfig, train

TINY = ["--preset", "crossing", "--frames", "6", "--scenes-per-epoch", "2", "--batch-scenes",
        "2", "--passes", "1", "--hidden", "8", "--rounds", "1", "--samples", "2"]
TINY_CONFIG = TrainingConfig(preset="crossing", frames=6, scenes_per_epoch=2, batch_scenes=2,
                             passes=2, hidden=8, rounds=1, samples=2, epochs=2,
                             validation_scenes=0, behaviour="model")


@pytest.mark.parametrize("context", [[], ["--context-features"]])
def test_train_writes_checkpoints_and_a_log_that_track_can_use(tmp_path, context):
    out = tmp_path / "run"
    result = run("train", *TINY, *context, "--epochs", "1", "--validation-scenes", "1",
                 "--out", out)
    assert result.exit_code == 0, result.output
    with open(out / "log.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == LOG_COLUMNS and [row["epoch"] for row in rows] == ["0", "1"]
    assert rows[0]["val_mota"] == rows[0]["gnn_val_mota"]
    # the evidence model counted the training detections of both kinds
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    assert (checkpoint["state_dict"]["evidence.label_counts"] > 0).all()
    assert checkpoint["network"]["context"] is bool(context)
    scene, tracks = tmp_path / "scene.npz", tmp_path / "tracks.csv"
    assert run("simulate", "--preset", "crossing", "--frames", "8", "-o", scene).exit_code == 0
    result = run("track", scene, "--assoc", "learned", "--model", out / "best.pt", "-o", tracks,
                 "--quiet")
    assert result.exit_code == 0, result.output
    assert tracks.read_text().startswith("frame,id,x,y")


def test_a_mixture_of_presets_takes_scene_i_from_preset_i_mod_n(tmp_path):
    config = TrainingConfig(preset="crossing+sea-clutter", frames=5)
    assert config.presets() == ("crossing", "sea-clutter")
    assert [config.scenario(i).name for i in range(4)] == ["crossing", "sea-clutter"] * 2
    assert {config.scenario(i).frames for i in range(4)} == {5}
    out = tmp_path / "run"
    result = run("train", *TINY, "--preset", "crossing+sea-clutter", "--epochs", "1",
                 "--validation-scenes", "2", "--out", out)
    assert result.exit_code == 0, result.output
    saved = torch.load(out / "best.pt", weights_only=True)["training"]
    assert saved["preset"] == "crossing+sea-clutter"


@pytest.mark.parametrize(("preset", "message"), [
    ("crossing+busy", "'busy' is not one of"),
    ("crossing+crossing", "names a choice twice"),
])
def test_a_bad_mixture_is_a_usage_error(tmp_path, preset, message):
    result = run("train", "--preset", preset, "--out", tmp_path / "run")
    assert result.exit_code == 2 and message in result.output


def test_a_crashed_run_resumes_to_exactly_the_uninterrupted_result(tmp_path, monkeypatch):
    straight = train(TINY_CONFIG, tmp_path / "straight", progress=False)
    original = training.simulate_scenes
    calls = []

    def crash_in_second_epoch(config, seeds, indices, model):
        calls.append(seeds)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(config, seeds, indices, model)

    monkeypatch.setattr(training, "simulate_scenes", crash_in_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        train(TINY_CONFIG, tmp_path / "crashed", progress=False)
    monkeypatch.setattr(training, "simulate_scenes", original)
    resumed = train(TINY_CONFIG, tmp_path / "crashed", resume=True, progress=False)
    assert resumed.epoch == straight.epoch == 1
    for name, value in straight.model.network.state_dict().items():
        assert torch.equal(resumed.model.network.state_dict()[name], value), name


def test_bad_training_input_is_refused_in_one_line(tmp_path):
    out = tmp_path / "run"
    missing = tmp_path / "missing.toml"
    assert_refused(run("train", "--config", missing, "--out", out), "no such training config",
                   out / "checkpoint.pt")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("epochs = 2\nlearning_rate = 0.1\n")
    assert_refused(run("train", "--config", unknown, "--out", out), "learning_rate")
    wrong_type = tmp_path / "type.toml"
    wrong_type.write_text('epochs = "two"\n')
    assert_refused(run("train", "--config", wrong_type, "--out", out),
                   "training config.epochs = 'two': expected a value like 6")
    assert_refused(run("train", *TINY, "--scenes-per-epoch", "3", "--out", out), "multiple")
    assert_refused(run("train", *TINY, "--nproc", "3", "--out", out), "divisible")
    assert_refused(run("train", "--resume", "--out", out), "no such checkpoint")
    assert run("train", *TINY, "--epochs", "1", "--validation-scenes", "0",
               "--out", out).exit_code == 0
    assert_refused(run("train", "--resume", "--hidden", "16", "--out", out),
                   "another training config (differs in hidden)")
    (out / "checkpoint.pt").write_text("not a checkpoint")
    assert_refused(run("train", "--resume", "--out", out), "not an hste-track checkpoint")


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--tau", "inf", "tau must be finite"),
        ("--noise", "inf", "noise must be finite"),
        ("--lr", "inf", "lr must be finite"),
        ("--seed", "-1", "seed must be >= 0"),
    ],
)
def test_infinite_rates_and_negative_seeds_are_refused(tmp_path, option, value, message):
    out = tmp_path / "run"
    result = run("train", *TINY, "--epochs", "0", option, value, "--out", out)
    assert_refused(result, message, out / "checkpoint.pt")


def test_help_has_an_example():
    for command in ("train", "demo"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example:" in result.output
