"""``hste simulate`` end to end with click's CliRunner, and its answers to bad input."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import sim
from sim.presets import get_preset
from tracker.cli import main


def simulate(*args: str):
    return CliRunner().invoke(main, ["simulate", *map(str, args)])


def test_simulate_writes_a_loadable_scenario_and_prints_a_summary(tmp_path):
    out, mot = tmp_path / "scene.npz", tmp_path / "gt.txt"
    result = simulate("--preset", "crossing", "--frames", 6, "--seed", 3, "-o", out, "--mot", mot)
    assert result.exit_code == 0, result.output
    scenario = sim.load(out)
    assert scenario.num_frames == 6 and scenario.seed == 3 and scenario.config.name == "crossing"
    summary = scenario.summary()
    assert f"targets:    {summary['targets']} " in result.stdout
    assert f"detections: {summary['detections']} (sensor 0 radar:" in result.stdout
    assert f"clutter:    {summary['clutter']} ({summary['clutter_ratio']:.1%}" in result.stdout
    assert len(mot.read_text().splitlines()) == len(scenario.truth_id)


def test_same_seed_same_file_and_a_toml_config(tmp_path):
    config = tmp_path / "scene.toml"
    config.write_text(
        'frames = 4\n[motion]\ninitial_targets = 3\n[[sensors]]\nkind = "pointcloud"\n'
    )
    for name in ("a.npz", "b.npz"):
        assert simulate("--config", config, "--seed", 9, "-o", tmp_path / name).exit_code == 0
    a, b = sim.load(tmp_path / "a.npz"), sim.load(tmp_path / "b.npz")
    np.testing.assert_array_equal(a.det_xy, b.det_xy)
    assert a.num_frames == 4 and a.sensors[0].kind == "pointcloud"


def test_save_config_writes_the_config_used_with_the_frames_override(tmp_path):
    saved = tmp_path / "crossing.toml"
    args = ("--preset", "crossing", "--frames", 7, "-o", tmp_path / "x.npz", "--save-config", saved)
    assert simulate(*args).exit_code == 0
    assert sim.ScenarioConfig.from_toml(saved) == get_preset("crossing").replace(frames=7)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--config", "{tmp}/absent.toml"], "absent.toml: no such config file"),
        (["--config", "{tmp}/bad.toml"], "unknown setting(s) colour"),
        (["-o", "{tmp}/scene.txt"], "must end in .npz"),
        (["-o", "{tmp}/file/scene.npz"], "cannot write output"),
        (["--preset", "busy"], "Invalid value for '--preset'"),
        (["--frames", "0"], "Invalid value for '--frames'"),
        (["--seed", "-1"], "Invalid value for '--seed'"),
        (["--seed", str(2**63)], "Invalid value for '--seed'"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_file(tmp_path, args, message):
    (tmp_path / "bad.toml").write_text("colour = 3\n")
    (tmp_path / "file").write_text("a file where a folder is needed\n")
    args = [a.format(tmp=tmp_path) for a in args]
    output = [] if "-o" in args else ["-o", str(tmp_path / "scene.npz")]
    result = simulate(*args, *output)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")
    assert not list(tmp_path.glob("*.npz")) and not list(tmp_path.glob(".*"))
