"""Command-line options generated from the config dataclasses (common.config.cli_options): one
field list for TOML and CLI, for training and tracker settings; training takes a tracker TOML."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import click
import pytest
from click.testing import CliRunner
from learned_scans import single_thread  # noqa: F401 (autouse fixture)
from test_tracking_cli import assert_refused, run, scene_path  # noqa: F401 (fixture)

from common.config import cli_options, cli_values, documented_attributes, merged_tables, option
from common.errors import InputError
from tracker.commands.track import track_command
from tracker.commands.train import train_command
from tracker.pipeline import TrackerConfig
from tracker.training import TrainingConfig


@dataclass(frozen=True)
class Inner:
    """Inner table.

    Attributes:
        rate: Hz, how often; continued
            on a deeper line.
        on: a switch.
    """

    rate: float = field(default=2.0, metadata=option(minimum=0.0, open_minimum=True))
    on: bool = False


@dataclass(frozen=True)
class Outer:
    """Outer settings.

    Attributes:
        kind: one of a or b.
        count, other: shared text.
        inner: a table.
    """

    kind: str = field(default="a", metadata=option(choices=("a", "b")))
    count: int = field(default=1, metadata=option(minimum=1))
    other: str = ""
    inner: Inner = field(default_factory=Inner)


@cli_options(Outer)
@click.command()
def show(**values):
    click.echo(repr(cli_values(Outer, values)))


def invoke(*args):
    return CliRunner().invoke(show, list(args))


def test_documented_attributes_read_the_attributes_section():
    assert documented_attributes(Inner) == {"rate": "Hz, how often; continued on a deeper line.",
                                            "on": "a switch."}
    assert documented_attributes(Outer)["other"] == "shared text."


def test_generated_options_give_back_only_what_was_given_as_a_table():
    assert invoke().output.strip() == "{}"
    result = invoke("--kind", "b", "--count", "3", "--inner-rate", "0.5", "--inner-on")
    assert result.output.strip() == "{'kind': 'b', 'count': 3, 'inner': {'rate': 0.5, 'on': True}}"
    assert invoke("--no-inner-on").output.strip() == "{'inner': {'on': False}}"
    help_text = invoke("--help").output
    assert "Hz, how often; continued on a deeper line. [default: 2.0]" in " ".join(
        help_text.split())
    assert "[default: none]" in help_text


@pytest.mark.parametrize("args", [["--kind", "c"], ["--count", "0"], ["--inner-rate", "0"]])
def test_generated_options_refuse_values_outside_their_metadata(args):
    result = invoke(*args)
    assert result.exit_code == 2 and f"Invalid value for '{args[0]}'" in result.output


def test_a_setting_without_a_description_has_no_option():
    @dataclass(frozen=True)
    class Undocumented:
        """No attributes section."""

        speed: float = 1.0

    with pytest.raises(TypeError, match="Undocumented.speed: no description"):
        cli_options(Undocumented)


def test_merged_tables_write_changes_over_nested_tables():
    base = {"a": 1, "t": {"x": 1, "y": 2}}
    assert merged_tables(base, {"t": {"y": 3}, "b": 4}) == {"a": 1, "t": {"x": 1, "y": 3}, "b": 4}
    assert base == {"a": 1, "t": {"x": 1, "y": 2}}


def _destinations(command) -> set[str]:
    return {param.name for param in command.params}


def _setting_names(cls, prefix=""):
    for item in dataclasses.fields(cls):
        value = item.default_factory() if item.default_factory is not dataclasses.MISSING else None
        if dataclasses.is_dataclass(value):
            yield from _setting_names(type(value), f"{prefix}{item.name}_")
        else:
            yield prefix + item.name


def test_every_training_and_tracker_setting_is_an_option_under_its_old_name():
    assert set(_setting_names(TrainingConfig)) <= _destinations(train_command)
    assert set(_setting_names(TrackerConfig)) <= _destinations(track_command)
    old_train = {"preset", "scenario_config", "frames", "mode", "operator", "epochs",
                 "scenes_per_epoch", "batch_scenes", "passes", "lr", "evidence_lr", "hidden",
                 "rounds", "tau", "noise", "samples", "evidence_weight", "validation_scenes",
                 "behaviour", "seed", "unroll"}
    flags = {opt for param in train_command.params for opt in param.opts}
    assert {f"--{name.replace('_', '-')}" for name in old_train} <= flags
    assert {"--sinkhorn-iters", "--grad-clip", "--gate-probability", "--tracker-config"} <= flags


def test_tracker_options_equal_the_same_settings_in_toml(tmp_path, scene_path):  # noqa: F811
    toml = tmp_path / "tracker.toml"
    toml.write_text('motion_model = "ct"\n[management]\nmax_misses = 2\n'
                    '[gnn]\ngate_probability = 0.99\n')
    options = ["--motion-model", "ct", "--management-max-misses", "2",
               "--gnn-gate-probability", "0.99"]
    outputs = {}
    for name, args in {"toml": ["--config", toml], "cli": options,
                       "default": [], "override": ["--config", toml, "--motion-model", "cv",
                                                   "--management-max-misses", "4",
                                                   "--gnn-gate-probability", "0.999"]}.items():
        out = tmp_path / f"{name}.csv"
        result = run("track", scene_path, *args, "-o", out, "--quiet")
        assert result.exit_code == 0, result.output
        outputs[name] = out.read_bytes()
    assert outputs["cli"] == outputs["toml"] != outputs["default"] == outputs["override"]


def test_bad_tracker_option_values_take_the_input_error_path(tmp_path, scene_path):  # noqa: F811
    out = tmp_path / "t.csv"
    assert_refused(run("track", scene_path, "--gnn-gate-probability", "1.5", "-o", out),
                   "gate_probability must be in (0, 1)", out)
    assert_refused(run("track", scene_path, "--noise-diff-coeff", "nan", "-o", out),
                   "tracker.noise_diff_coeff = nan: must be a finite number", out)


def test_training_uses_the_tracker_settings_of_its_tracker_toml(tmp_path):
    toml = tmp_path / "tracker.toml"
    toml.write_text('motion_model = "ct"\n[management]\ninitiator = "two-point"\n'
                    '[gnn]\ngate_probability = 0.9\n')
    tracker = TrainingConfig(tracker_config=str(toml), gate_probability=0.99).tracker()
    assert tracker.motion_model == "ct" and tracker.management.initiator == "two-point"
    assert tracker.gnn.gate_probability == 0.99  # the training's gate wins
    assert TrainingConfig().tracker() == TrackerConfig()
    toml.write_text("colour = 1\n")
    with pytest.raises(InputError, match="unknown setting"):
        TrainingConfig(tracker_config=str(toml)).tracker()


TINY = ["--preset", "manoeuvring", "--frames", "6", "--scenes-per-epoch", "2", "--batch-scenes",
        "2", "--passes", "1", "--hidden", "8", "--rounds", "1", "--samples", "2",
        "--validation-scenes", "1"]


def test_hste_train_takes_a_tracker_toml_and_refuses_what_it_cannot_run(tmp_path):
    ct = tmp_path / "ct.toml"
    ct.write_text('motion_model = "ct"\n')
    out = tmp_path / "run"
    result = run("train", *TINY, "--epochs", "1", "--tracker-config", ct, "--out", out)
    assert result.exit_code == 0, result.output
    assert (out / "best.pt").exists()
    fresh = tmp_path / "e2e"
    assert_refused(run("train", *TINY, "--mode", "end-to-end", "--unroll", "2",
                       "--tracker-config", ct, "--out", fresh),
                   "constant-velocity motion model only", fresh / "checkpoint.pt")
    bad = tmp_path / "bad.toml"
    bad.write_text("[gnn]\ngate_probability = 2.0\n")
    assert_refused(run("train", *TINY, "--tracker-config", bad, "--out", fresh),
                   "gate_probability must be in (0, 1)", fresh / "checkpoint.pt")
