"""The tracker's own inputs: sensor models from TOML, detection sources with irregular times and
interleaved sensors, and the tracker settings (Pd, clutter, process noise, confirmation) that
change its tracks."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from common.errors import InputError
from sim.config import RadarConfig
from sim.radar import detection_probability as sim_detection_probability
from tracker.association.gnn import GnnAssociator
from tracker.management import ManagementConfig
from tracker.pipeline import Tracker, TrackerConfig
from tracker.sensors import CartesianSensor, RadarSensor, read_sensors, sensors_from_dict
from tracker.sources import position_scan

REGION = (-500.0, 500.0, -500.0, 500.0)


def cartesian_scans(seed: int = 0, frames: int = 30, times=None, clutter: float = 5.0,
                    sensor: int = 0):
    """Three straight-line targets seen with sigma 5 m, Pd 0.9, uniform clutter in REGION."""
    rng = np.random.default_rng(seed)
    start = np.array([[-300.0, -200.0], [0.0, 250.0], [200.0, -300.0]])
    velocity = np.array([[10.0, 5.0], [-8.0, -4.0], [0.0, 12.0]])
    times = np.arange(frames, dtype=float) if times is None else np.asarray(times)
    scans = []
    for time in times:
        truth = start + velocity * time
        seen = truth[rng.random(3) < 0.9]
        seen = seen + rng.normal(0.0, 5.0, seen.shape)
        false = rng.uniform([REGION[0], REGION[2]], [REGION[1], REGION[3]],
                            (rng.poisson(clutter), 2))
        scans.append(position_scan(time, np.concatenate([seen, false]), sensor))
    return scans


SENSOR = CartesianSensor(sigma=5.0, pd=0.9, clutter_rate=5.0, region=REGION, id="0")


def confirmed_at_end(table):
    return table.take(table.confirmed & (table.frame == table.frame.max()))


def test_cartesian_sensor_model():
    sensor = CartesianSensor(sigma=2.0, clutter_rate=8.0, region=(0.0, 4.0, 0.0, 2.0))
    np.testing.assert_array_equal(sensor.visible(np.array([[1.0, 1.0], [5.0, 1.0]])),
                                  [True, False])
    np.testing.assert_allclose(sensor.clutter_density(np.zeros((2, 2))), 1.0)
    np.testing.assert_allclose(sensor.noise_covariances(np.zeros((1, 2)), None, None)[0],
                               4.0 * np.eye(2))
    full = CartesianSensor(covariance=((4.0, 1.0), (1.0, 9.0)))
    np.testing.assert_allclose(full.noise_covariances(np.zeros((1, 2)), None, None)[0],
                               [[4.0, 1.0], [1.0, 9.0]])
    assert sensor.position == (2.0, 1.0)


def test_radar_sensor_pd_is_the_simulators_formula():
    radar = RadarSensor(pd_model="snr", snr_db=20.0, snr_ref_range=1500.0, threshold_db=12.0)
    simulated = RadarConfig(pd_model="snr", snr_db=20.0, snr_ref_range=1500.0, threshold_db=12.0)
    positions = np.stack([np.linspace(100.0, 4900.0, 50), np.zeros(50)], axis=1)
    np.testing.assert_array_equal(radar.detection_probability(positions),
                                  sim_detection_probability(simulated, positions[:, 0]))
    assert RadarSensor(pd=0.7).detection_probability(positions[:2]).tolist() == [0.7, 0.7]


def test_sensor_toml_single_and_several(tmp_path):
    path = tmp_path / "sensor.toml"
    path.write_text('kind = "cartesian"\nsigma = 5\npd = 0.9\nclutter_rate = 10\n'
                    'region = [0, 100, 0, 50]\ndt = 0.5\n')
    (sensor,) = read_sensors(path)
    assert sensor == CartesianSensor(sigma=5.0, pd=0.9, clutter_rate=10.0,
                                     region=(0.0, 100.0, 0.0, 50.0), dt=0.5, id="0")
    path.write_text('[[sensors]]\nkind = "radar"\nid = "north"\nposition = [0, 3000]\n'
                    'orientation = -1.5708\nazimuth_span = 2.0\n'
                    '[[sensors]]\nkind = "pointcloud"\nextent = [2.0, 1.0]\n')
    radar, lidar = read_sensors(path)
    assert radar.id == "north" and radar.position == (0.0, 3000.0) and radar.kind == "radar"
    assert lidar.id == "1" and lidar.extent == (2.0, 1.0)


@pytest.mark.parametrize("text, message", [
    ('sigma = 5\n', "sensor.kind = None: expected one of cartesian, radar, pointcloud"),
    ('kind = "sonar"\n', "sensor.kind = 'sonar'"),
    ('kind = "cartesian"\npd = "high"\n', "sensor.pd = 'high'"),
    ('kind = "cartesian"\nregion = [0, 1]\n', "sensor.region"),
    ('kind = "cartesian"\nsgima = 5\n', "unknown setting(s) sgima"),
    ('kind = "cartesian"\npd = 1.5\n', "cartesian.pd must be in [0, 1]"),
    ('kind = "radar"\ndt = "1s"\n', "sensor.dt = '1s'"),
    ('[[sensors]]\nkind = "radar"\n[[sensors]]\nkind = "radar"\nid = "0"\n',
     "sensor ids must be unique"),
])
def test_bad_sensor_toml_names_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        read_sensors(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_irregular_times_predict_with_each_scans_own_dt():
    """One target at 10 m/s seen exactly at irregular times: the track's velocity converges
    and its position follows the truth, which a fixed dt would break."""
    times = np.cumsum([0.0, 1.0, 0.3, 2.5, 0.7, 1.9, 0.2, 3.0, 1.1, 0.5])
    scans = [position_scan(t, [[10.0 * t, 0.0]]) for t in times]
    sensor = CartesianSensor(sigma=0.1, pd=0.99, clutter_rate=0.01, region=(-10, 200, -50, 50))
    config = TrackerConfig(management=ManagementConfig(initiator="m-of-n", confirm_hits=2,
                                                       confirm_scans=3))
    table = Tracker(GnnAssociator(), [sensor], config).run(scans)
    last = table.take(table.frame == table.frame.max())
    assert len(last) == 1 and last.id[0] == 1
    np.testing.assert_allclose(table.time[table.frame == 10], times[-1])
    assert abs(last.vx[0] - 10.0) < 0.1 and abs(last.x[0] - 10.0 * times[-1]) < 0.3


def test_scans_going_back_in_time_are_refused():
    scans = [position_scan(1.0, [[0.0, 0.0]]), position_scan(0.5, [[0.0, 0.0]])]
    with pytest.raises(ValueError, match="comes after"):
        Tracker(GnnAssociator(), [SENSOR]).run(scans)


def test_two_sensors_interleaved_in_time_give_one_track_per_target():
    """Sensor 0 at integer times, sensor 1 (shifted by 0.5 s) in between: three tracks."""
    first = cartesian_scans(seed=1, frames=20, clutter=1.0)
    second = cartesian_scans(seed=2, times=np.arange(20) + 0.5, clutter=1.0, sensor=1)
    scans = [scan for pair in zip(first, second, strict=True) for scan in pair]
    other = dataclasses.replace(SENSOR, id="1", clutter_rate=1.0)
    table = Tracker(GnnAssociator(), [dataclasses.replace(SENSOR, clutter_rate=1.0), other]
                    ).run(scans)
    assert table.frame.max() == 40
    assert len(confirmed_at_end(table)) == 3


def _track(sensor=SENSOR, config=None, scans=None):
    scans = scans if scans is not None else cartesian_scans(seed=3, clutter=20.0)
    return Tracker(GnnAssociator(), [sensor], config or TrackerConfig()).run(scans)


def _differ(a, b) -> bool:
    return len(a) != len(b) or not (np.array_equal(a.id, b.id) and np.allclose(a.x, b.x)
                                    and np.array_equal(a.confirmed, b.confirmed))


def test_each_assumed_setting_changes_the_tracks():
    """Pd and clutter density (sensor TOML), process noise and confirmation (tracker TOML)."""
    base = _track()
    assert len(confirmed_at_end(base)) == 3
    assert _differ(base, _track(dataclasses.replace(SENSOR, pd=0.5)))
    assert _differ(base, _track(dataclasses.replace(SENSOR, clutter_rate=500.0)))
    assert _differ(base, _track(config=TrackerConfig(noise_diff_coeff=30.0)))
    assert _differ(base, _track(config=TrackerConfig(
        management=ManagementConfig(confirm_score=20.0))))
    assert _differ(base, _track(dataclasses.replace(SENSOR, sigma=15.0)))


def test_removed_gnn_settings_are_refused_with_a_pointer_to_the_sensor():
    with pytest.raises(InputError, match="gnn.detection_probability: removed.*sensor TOML"):
        TrackerConfig.from_dict({"gnn": {"detection_probability": 0.8}})


def test_sensors_must_be_tracker_models():
    with pytest.raises(TypeError, match="tracker.sensors models"):
        Tracker(GnnAssociator(), [RadarConfig()])


def test_sensor_models_from_dict_keep_the_geometry():
    (radar,) = sensors_from_dict({"kind": "radar", "position": [1.0, 2.0],
                                  "orientation": math.pi / 2, "azimuth_span": 1.0,
                                  "max_range": 100.0})
    assert radar.visible(np.array([[1.0, 80.0], [1.0, -80.0], [1.0, 150.0]])).tolist() == \
        [True, False, False]
