"""Scenario configs: TOML loading, dict round trips, and clear errors for bad settings."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import InputError
from sim.config import MotionConfig, PointCloudConfig, RadarConfig, ScenarioConfig
from sim.presets import PRESETS, get_preset

TWO_SENSORS_TOML = """
name = "two sensors"
frames = 12
dt = 0.5

[motion]
initial_targets = 4
birth_region = [-100, 100, -50, 50]
birth_points = [[0.0, 0.0], [10.0, 5.0]]
crossing_pairs = 1
pattern_frame = 6

[[sensors]]
kind = "radar"
position = [0.0, -500.0]
orientation = 1.5708
pd_model = "snr"

[[sensors]]
kind = "pointcloud"
extent = [2.0, 0.8]
points_per_target = 5
"""


def write(tmp_path, text: str):
    path = tmp_path / "scene.toml"
    path.write_text(text)
    return path


def test_toml_with_two_sensors_loads_into_the_expected_config(tmp_path):
    config = ScenarioConfig.from_toml(write(tmp_path, TWO_SENSORS_TOML))
    expected = ScenarioConfig(
        name="two sensors",
        frames=12,
        dt=0.5,
        motion=MotionConfig(
            initial_targets=4, birth_region=(-100, 100, -50, 50),
            birth_points=((0.0, 0.0), (10.0, 5.0)), crossing_pairs=1, pattern_frame=6,
        ),
        sensors=(
            RadarConfig(position=(0.0, -500.0), orientation=1.5708, pd_model="snr"),
            PointCloudConfig(extent=(2.0, 0.8), points_per_target=5),
        ),
    )  # fmt: skip
    assert config == expected


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_survive_json_and_toml_round_trips(name, tmp_path):
    config = get_preset(name)
    assert ScenarioConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert ScenarioConfig.from_toml(write(tmp_path, config.to_toml())) == config


def test_toml_round_trip_of_two_sensors_and_optional_values(tmp_path):
    config = ScenarioConfig.from_toml(write(tmp_path, TWO_SENSORS_TOML))
    assert ScenarioConfig.from_toml(write(tmp_path, config.to_toml())) == config


@given(
    st.integers(0, 50), st.floats(0, 5), st.floats(0, 1), st.floats(0.01, 10),
    st.sampled_from(["constant", "snr"]), st.floats(0.1, 2 * math.pi),
)  # fmt: skip
def test_any_valid_config_round_trips_through_to_dict(initial, rate, survival, dt, pd_model, span):
    config = ScenarioConfig(
        dt=dt,
        motion=MotionConfig(initial_targets=initial, birth_rate=rate, survival_prob=survival),
        sensors=(RadarConfig(pd_model=pd_model, azimuth_span=span), PointCloudConfig()),
    )
    assert ScenarioConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    "text, message",
    [
        ("frames = 10\nspeed = 3\n", "unknown setting(s) speed"),
        ("[motion]\nbirth_rat = 1.0\n", "motion: unknown setting(s) birth_rat"),
        ('frames = "ten"\n', "scenario.frames = 'ten'"),
        ("frames = 2.5\n", "scenario.frames = 2.5"),
        ("frames = 0\n", "frames must be >= 1"),
        ('[[sensors]]\nkind = "sonar"\n', "kind = one of radar, pointcloud"),
        ('[[sensors]]\nkind = "radar"\ndetection_prob = 1.5\n', "detection_prob must be in [0, 1]"),
        (
            '[[sensors]]\nkind = "radar"\nmin_range = 10.0\nmax_range = 5.0\n',
            "min_range < max_range",
        ),
        (
            '[[sensors]]\nkind = "radar"\npd_model = "magic"\n',
            'pd_model must be "constant" or "snr"',
        ),
        ("[motion]\nspeed_range = [1.0]\n", "motion.speed_range"),
        ("[motion]\nbirth_rate = nan\n", "motion.birth_rate = nan: must be a finite number"),
        ("[motion]\nspeed_range = [1.0, inf]\n", "speed_range = (1.0, inf): must be a finite"),
        ("sensors = 3\n", "sensors must be an array of tables"),
        ("frames = = 3\n", "not valid TOML"),
    ],
)
def test_bad_settings_give_one_clear_input_error(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as error:
        ScenarioConfig.from_toml(path)
    assert message in str(error.value) and str(path) in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_config_file_and_unknown_preset(tmp_path):
    with pytest.raises(InputError, match="no such config file"):
        ScenarioConfig.from_toml(tmp_path / "absent.toml")
    with pytest.raises(InputError, match="unknown preset 'busy'"):
        get_preset("busy")
